"""Closed windows: a node, link or service that nothing may use between two moments.

Operators close ports in storms, suspend acceptance at a border, cancel a line's departures. The
planner treats each as a time window, not a permanent ban: a consignment that reaches a closed
element waits for the reopening when waiting is possible (a train or truck on a link), or takes the
next departure that does not touch the window (a scheduled sailing or train), or goes another way.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

ElementKind = Literal["node", "link", "service"]

#: An open-ended closure (no expected end announced) is planned as lasting this long.
OPEN_ENDED_H = 24.0 * 365


class Closure(BaseModel):
    """``kind``/``id`` may not be used from ``start`` until ``end`` (None: until further notice)."""

    model_config = ConfigDict(frozen=True)

    kind: ElementKind
    id: str
    start: datetime
    end: datetime | None = None
    reason: str = ""

    @field_validator("start", "end")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value

    @model_validator(mode="after")
    def _ordered(self) -> Closure:
        if self.end is not None and self.end <= self.start:
            raise ValueError("end: a closure must end after it starts")
        return self


class ClosedWindows:
    """The closures of one query, as hour intervals on the timetable's clock, by element."""

    def __init__(self, closures: tuple[Closure, ...], hours: object) -> None:
        to_hours = hours  # Timetable.hours: datetime -> hours since the timetable's epoch
        self._by: dict[tuple[str, str], list[tuple[float, float]]] = defaultdict(list)
        for c in closures:
            start = to_hours(c.start)  # type: ignore[operator]
            end = to_hours(c.end) if c.end is not None else start + OPEN_ENDED_H  # type: ignore[operator]
            self._by[(c.kind, c.id)].append((float(start), float(end)))
        for windows in self._by.values():
            windows.sort()

    def __bool__(self) -> bool:
        return bool(self._by)

    def until(self, kind: str, element: str, t0: float, t1: float) -> float | None:
        """End of the latest window of ``element`` that overlaps [t0, t1], or None when it is open."""
        latest = None
        for start, end in self._by.get((kind, element), ()):
            if start > t1:
                break
            if end > t0 and (latest is None or end > latest):
                latest = end
        return latest
