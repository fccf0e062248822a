"""Tables of the EPCIS binding and of tracking's shared state (migration 0008).

Why in the database: the alert debounce and the learned-dwell cache used to be process globals,
so N server workers each re-planned and kept their own view; capture jobs, named queries and
subscriptions must survive restarts and be seen by every worker.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from corridor.store.models import Base


class TrackingMark(Base):
    """A time stamp per key: when a shipment's alerts were last evaluated (``alert:<id>``)."""

    __tablename__ = "tracking_marks"

    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    at: Mapped[datetime]


class TrackingCache(Base):
    """A computed value shared by all workers, with when it was computed (the learned dwell)."""

    __tablename__ = "tracking_cache"

    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    computed_at: Mapped[datetime]
    data: Mapped[dict[str, Any]]


class EpcisCapture(Base):
    """A capture job as ``GET /capture/{captureID}`` shows it (its id is the ``jobs`` row's).

    The ``jobs`` row carries the queue state; this row carries what the GS1 binding shows
    (``running``, ``success``, ``captureErrorBehaviour``, per-event ``errors``) and, until the job
    has run, the document itself (``payload``), so that a consumer on any machine can capture it.
    """

    __tablename__ = "epcis_captures"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    organisation_id: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    running: Mapped[bool] = mapped_column(Boolean)
    success: Mapped[bool] = mapped_column(Boolean)
    error_behaviour: Mapped[str] = mapped_column(String(10))
    result: Mapped[dict[str, Any]]
    payload: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True, deferred=True)


class EpcisNamedQuery(Base):
    """A named query: an organisation's saved simple-event-query parameters."""

    __tablename__ = "epcis_queries"
    __table_args__ = (UniqueConstraint("organisation_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    params: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]


class EpcisSubscription(Base):
    """A subscriber to a named query: a webhook URL or a WebSocket, and how far it has read.

    ``position`` is the capture-order id of the last event delivered: events are sent in capture
    order, and the position moves only after the subscriber acknowledged (2xx or WebSocket send),
    so a subscriber resumes exactly where it stopped.
    """

    __tablename__ = "epcis_subscriptions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    query_id: Mapped[int] = mapped_column(ForeignKey("epcis_queries.id"), index=True)
    organisation_id: Mapped[str] = mapped_column(String(64), index=True)
    user_id: Mapped[str] = mapped_column(String(64))
    dest: Mapped[str | None] = mapped_column(String(500))  # webhook URL; None for WebSocket
    secret: Mapped[str] = mapped_column(String(64))
    position: Mapped[int]
    created_at: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(12), index=True)  # idle, sending
    attempts: Mapped[int]
    next_attempt_at: Mapped[datetime]
    last_error: Mapped[str | None] = mapped_column(String(100))
