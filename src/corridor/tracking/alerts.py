"""The ETA alert rule: when a shipment's slip is worth telling its forwarder about.

An alert is raised when the ETA is more than ``threshold_h`` later than planned, and again only
when the slip has grown by another ``threshold_h`` since the last alert (a consignment a day late
is news once, not with every event). A cheap pre-check avoids the re-planning behind the ETA for
consignments on time where they were last seen.
"""

from __future__ import annotations

from datetime import datetime

from corridor.routing import Itinerary

#: Default threshold: an alert when the ETA is a day later than the plan (Settings can change it).
SLIP_THRESHOLD_H = 24.0


def behind_plan(plan: Itinerary, node: str | None, when: datetime, margin_h: float) -> bool:
    """Is the last event at ``node`` later than the plan there by more than ``margin_h``?"""
    planned = [leg.departure for leg in plan.legs if leg.from_node == node]
    planned += [leg.arrival for leg in plan.legs if leg.to_node == node]
    if not planned:
        return True  # off the planned route: worth a full look
    return (when - max(planned)).total_seconds() / 3600 > margin_h


def should_alert(
    slip_h: float, previous_slip_h: float | None, threshold_h: float = SLIP_THRESHOLD_H
) -> bool:
    """Raise an alert for ``slip_h`` given the slip of the last alert (None: never alerted)."""
    if slip_h <= threshold_h:
        return False
    return previous_slip_h is None or slip_h >= previous_slip_h + threshold_h
