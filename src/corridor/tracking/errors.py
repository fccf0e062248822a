"""The one error type of tracking: a code, the field at fault and the reason, plus per-event problems.

Domain code never speaks HTTP; the API maps each ``code`` to a status (``api/tracking_epcis.py``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one event (``index`` into the eventList) or with the document (None)."""

    field: str  # JSON path, e.g. $.epcisBody.eventList[3].action
    reason: str
    index: int | None = None


@dataclass
class TrackingError(ValueError):
    """A request tracking refuses; nothing of it was stored.

    Codes: ``invalid`` (malformed or off-schema), ``too_large``, ``unknown_reference`` (shipment or
    place), ``forbidden``, ``conflict`` (different content under a stored eventID), ``not_found``,
    ``quota``.
    """

    code: str
    field: str | None
    reason: str
    problems: list[Problem] = dataclasses.field(default_factory=list)
    job_id: str | None = None  # the capture job that recorded this refusal, if any

    def __post_init__(self) -> None:
        super().__init__(self.reason)

    def __reduce__(self) -> tuple[type[TrackingError], tuple[object, ...]]:
        # Crosses process boundaries (capture of large documents runs in a process pool).
        return (TrackingError, (self.code, self.field, self.reason, self.problems, self.job_id))
