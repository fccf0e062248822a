"""Disruptions as data: notices from the operators and authorities that own the corridor's ports,
lines, ferries and border crossings, and what each one does to plans, capacity and shipments.

A notice names the network elements it affects, a time window and a severity, in several languages.
Its owner publishes and amends it; every amendment is kept. The rest of the platform reads notices
only through the functions here: :func:`closures_of` for the planner, :func:`capacity_factor` for
capacity, :func:`affected_legs` for shipments, :func:`closed_days` for the history.
"""

from corridor.disruptions.effects import (
    affected_legs,
    capacity_factor,
    closed_days,
    closures_of,
    in_effect,
    scenario_disruptions,
)
from corridor.disruptions.feeds import atom_feed, cap_alert
from corridor.disruptions.model import (
    DisruptionError,
    ElementRef,
    Notice,
    NoticeDraft,
    NoticeKind,
    NoticeStatus,
    Publisher,
    Severity,
    SubscriptionFilter,
)
from corridor.disruptions.rules import (
    check_amendment,
    check_draft,
    check_ownership,
    element_countries,
    may_publish,
    port_operators,
)
from corridor.disruptions.subscriptions import corridors_of, matches

__all__ = [
    "DisruptionError",
    "ElementRef",
    "Notice",
    "NoticeDraft",
    "NoticeKind",
    "NoticeStatus",
    "Publisher",
    "Severity",
    "SubscriptionFilter",
    "affected_legs",
    "atom_feed",
    "cap_alert",
    "capacity_factor",
    "check_amendment",
    "check_draft",
    "check_ownership",
    "closed_days",
    "closures_of",
    "corridors_of",
    "element_countries",
    "in_effect",
    "matches",
    "may_publish",
    "port_operators",
    "scenario_disruptions",
]
