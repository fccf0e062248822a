"""The corridor dispatch board: what leaves in the next days, how full it is, and where cargo piles up.

Modelled on the "virtual dispatch centre" the Kazakh and Azerbaijani railways run across the
Caspian (source ``cap-trend2023-dispatch``). The board is computed from plain numbers so the same
function serves the API, the CLI and tests; the store only supplies the counts.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime


@dataclass(frozen=True)
class Line:
    """One departure (sailing or train) or one crossing-day on the board."""

    kind: str  # "sailing", "train" or "crossing"
    key: str
    name: str  # service or crossing id
    operator: str
    from_node: str
    to_node: str
    departure: datetime
    unit: str
    capacity: int
    held: int
    confirmed: int
    waitlisted: int

    @property
    def free(self) -> int:
        return max(0, self.capacity - self.held - self.confirmed)

    @property
    def load_factor(self) -> float:
        return (self.held + self.confirmed) / self.capacity if self.capacity else 1.0


@dataclass(frozen=True)
class HeatMap:
    """Load factor per (line, day): rows are services leaving a port, columns are days."""

    days: list[date]
    rows: list[str]
    cells: list[list[float | None]]  # None: no departure that day


def heat_map(lines: list[Line], days: list[date]) -> HeatMap:
    """Daily load factor of each service leg; two departures on one day count together."""
    used: dict[tuple[str, date], list[int]] = defaultdict(lambda: [0, 0])
    rows: list[str] = []
    for line in lines:
        if line.kind != "crossing":
            row = f"{line.name} {line.from_node}>{line.to_node}"
        else:
            row = f"{line.name} ({'road e-queue' if line.unit == 'trucks' else 'rail border'})"
        if row not in rows:
            rows.append(row)
        cell = used[(row, line.departure.date())]
        cell[0] += line.held + line.confirmed
        cell[1] += line.capacity
    cells = [
        [
            (used[(r, d)][0] / used[(r, d)][1]) if used.get((r, d)) and used[(r, d)][1] else None
            for d in days
        ]
        for r in rows
    ]
    return HeatMap(days, rows, cells)


@dataclass(frozen=True)
class PortAlert:
    port: str
    waiting: int
    daily_capacity: float
    days_of_capacity: float
    threshold_days: float


def daily_capacity(lines: list[Line], port: str, days: int) -> float:
    """Average ferry capacity leaving ``port`` per day over the board's window."""
    total = sum(
        line.capacity for line in lines if line.kind == "sailing" and line.from_node == port
    )
    return total / days if days > 0 else 0.0


def port_alerts(
    waiting: dict[str, int], capacity_per_day: dict[str, float], threshold_days: float
) -> list[PortAlert]:
    """Ports whose waiting stock needs more than ``threshold_days`` of the ferry capacity leaving them.

    A port with waiting stock and no ferry capacity at all is always an alert (infinite days).
    """
    alerts = []
    for port, count in sorted(waiting.items()):
        per_day = capacity_per_day.get(port, 0.0)
        days = count / per_day if per_day > 0 else float("inf")
        if count > 0 and days > threshold_days:
            alerts.append(PortAlert(port, count, per_day, days, threshold_days))
    return alerts


def waiting_at(
    events: list[tuple[str, datetime, str, str | None]], moment: datetime, ports: set[str]
) -> dict[str, int]:
    """Units waiting at each port at ``moment`` from tracking events (epc, time, step, node).

    A unit waits at a port when its last event up to ``moment`` is an arrival there: that is what a
    yard holds, whichever ferry it is booked on.
    """
    last: dict[str, tuple[datetime, str, str | None]] = {}
    for epc, when, step, node in events:
        if when <= moment and (epc not in last or when >= last[epc][0]):
            last[epc] = (when, step, node)
    counts = dict.fromkeys(sorted(ports), 0)
    for _when, step, node in last.values():
        if node in counts and step == "arriving":
            counts[node] += 1
    return counts
