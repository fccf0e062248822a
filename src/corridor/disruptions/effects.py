"""What notices do: closed windows for the planner, capacity factors, legs of itineraries they hit,
and the closed days per element that feed the history and the simulation's scenarios."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Literal

from corridor.disruptions.model import ElementRef, Notice, NoticeKind, NoticeStatus
from corridor.network import Network
from corridor.routing import Itinerary
from corridor.routing.closures import Closure


def in_effect(notice: Notice, start: datetime, end: datetime | None = None) -> bool:
    """Whether the notice's window overlaps [start, end] (a point in time when ``end`` is None)."""
    end = end or start
    return notice.starts_at <= end and (notice.end is None or notice.end > start)


def _closure_targets(
    element: ElementRef, network: Network
) -> list[tuple[Literal["node", "link", "service"], str]]:
    """The planner's elements behind a notice's element (a border crossing closes its link)."""
    if element.kind == "crossing":
        at = network.crossings[element.id].at
        return [("link", at)] if at in network.links else [("node", at)]
    return [(element.kind, element.id)]


def closures_of(notices: Iterable[Notice], network: Network) -> tuple[Closure, ...]:
    """The closed windows the planner must respect, from every notice that stops traffic.

    A closed notice keeps its effect for the window it actually had (so a plan of the past stays
    explainable); warnings and reduced capacity close nothing.
    """
    out: list[Closure] = []
    for notice in notices:
        if not notice.kind.stops_traffic:
            continue
        for element in notice.elements:
            for kind, ident in _closure_targets(element, network):
                out.append(
                    Closure(
                        kind=kind,
                        id=ident,
                        start=notice.starts_at,
                        end=notice.end,
                        reason=f"notice {notice.id}: {notice.text()}",
                    )
                )
    return tuple(out)


def capacity_factor(notices: Iterable[Notice], element: ElementRef, at: datetime) -> float:
    """Share of an element's capacity left at ``at``: 0 when closed, the lowest announced factor
    when reduced, 1 otherwise."""
    factor = 1.0
    for notice in notices:
        if element not in notice.elements or not in_effect(notice, at):
            continue
        if notice.kind.stops_traffic:
            return 0.0
        if notice.kind is NoticeKind.REDUCED_CAPACITY and notice.capacity_factor is not None:
            factor = min(factor, notice.capacity_factor)
    return factor


def _leg_elements(itinerary: Itinerary, index: int, network: Network) -> set[ElementRef]:
    leg = itinerary.legs[index]
    refs = {ElementRef(kind="node", id=leg.from_node), ElementRef(kind="node", id=leg.to_node)}
    refs |= {ElementRef(kind="link", id=link) for link in leg.links}
    refs |= {ElementRef(kind="crossing", id=c.id) for c in leg.crossings}
    if leg.service:
        refs.add(ElementRef(kind="service", id=leg.service))
    return refs


def affected_legs(
    itinerary: Itinerary, notices: Iterable[Notice], network: Network
) -> list[tuple[int, Notice]]:
    """(leg index, notice) for every leg whose elements a notice touches while the leg runs.

    A leg runs from the moment its cargo is available at the start (waiting counts: a ferry that
    cannot sail strands the cargo in port) until it arrives.
    """
    hits: list[tuple[int, Notice]] = []
    notices = list(notices)
    for i, leg in enumerate(itinerary.legs):
        elements = _leg_elements(itinerary, i, network)
        for notice in notices:
            if set(notice.elements) & elements and in_effect(notice, leg.available, leg.arrival):
                hits.append((i, notice))
    return hits


def closed_days(
    notices: Iterable[Notice], year: int, now: datetime | None = None
) -> dict[str, float]:
    """Days each element was closed in ``year`` (overlapping notices counted once).

    Open notices count up to ``now``; only notices that stop traffic count as closed.
    """
    now = now or datetime.now(UTC)
    start_of_year = datetime(year, 1, 1, tzinfo=UTC)
    end_of_year = datetime(year + 1, 1, 1, tzinfo=UTC)
    spans: dict[str, list[tuple[datetime, datetime]]] = defaultdict(list)
    for notice in notices:
        if not notice.kind.stops_traffic:
            continue
        end = notice.end or now
        if notice.status is NoticeStatus.ACTIVE and notice.expected_end is None:
            end = min(end, now)
        lo, hi = max(notice.starts_at, start_of_year), min(end, end_of_year)
        if hi <= lo:
            continue
        for element in notice.elements:
            spans[str(element)].append((lo, hi))
    days: dict[str, float] = {}
    for key, windows in spans.items():
        windows.sort()
        total = timedelta()
        cur_lo, cur_hi = windows[0]
        for lo, hi in windows[1:]:
            if lo <= cur_hi:
                cur_hi = max(cur_hi, hi)
            else:
                total += cur_hi - cur_lo
                cur_lo, cur_hi = lo, hi
        total += cur_hi - cur_lo
        days[key] = round(total.total_seconds() / 86400, 3)
    return dict(sorted(days.items()))


def scenario_disruptions(
    notices: Iterable[Notice], network: Network, year: int, now: datetime | None = None
) -> list[dict[str, object]]:
    """The closures of ``year`` as the simulation's scenario disruptions (what-if with history).

    A closed port becomes ``port_closed``, a closed border crossing ``border_closed``; each with its
    start day in the year and its length in days (clipped to the year). Elements the simulation does
    not close (lines, services) are left out.
    """
    now = now or datetime.now(UTC)
    start_of_year = datetime(year, 1, 1, tzinfo=UTC)
    end_of_year = datetime(year + 1, 1, 1, tzinfo=UTC)
    out: list[dict[str, object]] = []
    for notice in sorted(notices, key=lambda n: n.starts_at):
        if not notice.kind.stops_traffic:
            continue
        lo = max(notice.starts_at, start_of_year)
        hi = min(notice.end or now, end_of_year)
        if hi <= lo:
            continue
        for element in notice.elements:
            if element.kind == "node" and network.nodes[element.id].kind.value == "sea_port":
                kind = "port_closed"
            elif element.kind == "crossing":
                kind = "border_closed"
            else:
                continue
            out.append(
                {
                    "kind": kind,
                    "target": element.id,
                    "start_day": round((lo - start_of_year).total_seconds() / 86400, 3),
                    "days": round((hi - lo).total_seconds() / 86400, 3),
                    "notice": notice.id,
                }
            )
    return out
