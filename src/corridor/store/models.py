"""The tables. Changing them means a new Alembic migration in ``migrations/versions``."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    String,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every database (SQLite keeps no time zone and returns naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, datetime: UTCDateTime()}


class OrgKind(StrEnum):
    FORWARDER = "forwarder"
    CARRIER = "carrier"
    CUSTOMS = "customs"
    ADMIN = "admin"


class Organisation(Base):
    __tablename__ = "organisations"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    country: Mapped[str | None] = mapped_column(String(2))  # the country a customs authority serves
    created_at: Mapped[datetime]


class User(Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]


class ApiToken(Base):
    """A bearer token, stored only as its SHA-256: a leaked table does not leak access."""

    __tablename__ = "api_tokens"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class NetworkRecord(Base):
    """One record of the network dataset, as imported at first start (its full JSON)."""

    __tablename__ = "network_records"
    __table_args__ = (UniqueConstraint("kind", "record_id"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(30), index=True)
    record_id: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict[str, Any]]


class Meta(Base):
    __tablename__ = "meta"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(500))


class ShipmentStatus(StrEnum):
    PLANNED = "planned"
    CANCELLED = "cancelled"


class Shipment(Base):
    __tablename__ = "shipments"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    created_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
    reference: Mapped[str] = mapped_column(String(100))
    origin: Mapped[str] = mapped_column(String(64))
    destination: Mapped[str] = mapped_column(String(64))
    ready_at: Mapped[datetime]
    arrival_at: Mapped[datetime]
    teu: Mapped[float] = mapped_column(Float)
    cost_usd: Mapped[float] = mapped_column(Float)
    co2e_kg: Mapped[float] = mapped_column(Float)
    countries: Mapped[str] = mapped_column(String(200))  # ";"-joined ISO codes the route passes
    status: Mapped[str] = mapped_column(String(20), index=True)
    query: Mapped[dict[str, Any]]
    itinerary: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
    cancelled_at: Mapped[datetime | None]


class CustomsDeclaration(Base):
    __tablename__ = "customs_declarations"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    lrn: Mapped[str] = mapped_column(String(50))
    shipment_id: Mapped[str] = mapped_column(ForeignKey("shipments.id"), index=True)
    holder_org: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    state: Mapped[str] = mapped_column(String(20), index=True)
    position: Mapped[int]
    arrived: Mapped[bool] = mapped_column(Boolean)
    checked: Mapped[bool] = mapped_column(Boolean)
    body: Mapped[dict[str, Any]]
    offices: Mapped[dict[str, Any]]  # {"stops": [...], "channels": {index: {...}}}
    countries: Mapped[str] = mapped_column(String(200))
    guarantee_state: Mapped[str] = mapped_column(String(20))
    incidents: Mapped[int]
    #: 1 when made, +1 per operation: an amendment names the version it changes (409 otherwise).
    version: Mapped[int] = mapped_column(server_default="1", default=1)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class CustomsKey(Base):
    """Public half of an organisation's Ed25519 signing key (the private half stays in var/keys)."""

    __tablename__ = "customs_keys"

    key_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    organisation_id: Mapped[str | None] = mapped_column(ForeignKey("organisations.id"))
    public_key: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]


class CustomsLogHead(Base):
    """One row: the last sequence number and hash, locked by every append so the chain never forks."""

    __tablename__ = "customs_log_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int]
    record_hash: Mapped[str] = mapped_column(String(64))


class CustomsLogEntry(Base):
    __tablename__ = "customs_log"

    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    declaration_id: Mapped[str] = mapped_column(String(64), index=True)
    action: Mapped[str] = mapped_column(String(20))
    office_id: Mapped[str | None] = mapped_column(String(120), index=True)
    actor_org: Mapped[str] = mapped_column(String(64))
    body: Mapped[dict[str, Any]]
    prev_hash: Mapped[str] = mapped_column(String(64))
    record_hash: Mapped[str] = mapped_column(String(64))
    key_id: Mapped[str] = mapped_column(String(80))
    signature: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime]


class EpcisEvent(Base):
    __tablename__ = "epcis_events"
    # Capture-ordered pages filtered by a few-valued column read these in order (migration 0008).
    __table_args__ = (
        Index("ix_epcis_events_biz_step_id", "biz_step", "id"),
        Index("ix_epcis_events_event_type_id", "event_type", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(200), unique=True)
    event_type: Mapped[str] = mapped_column(String(30), index=True)
    event_time: Mapped[datetime] = mapped_column(index=True)
    biz_step: Mapped[str | None] = mapped_column(String(100), index=True)
    disposition: Mapped[str | None] = mapped_column(String(100))
    place: Mapped[str | None] = mapped_column(String(200), index=True)
    node_id: Mapped[str | None] = mapped_column(String(64))
    shipment_id: Mapped[str | None] = mapped_column(String(64), index=True)
    error_declared: Mapped[bool] = mapped_column(Boolean)
    captured_by: Mapped[str] = mapped_column(String(64))
    body: Mapped[dict[str, Any]]
    # Added by migration 0008 (EPCIS binding): when the repository stored it, and query columns.
    record_time: Mapped[datetime | None] = mapped_column(index=True)
    action: Mapped[str | None] = mapped_column(String(10))
    read_point: Mapped[str | None] = mapped_column(String(200))


class EpcisEpc(Base):
    """An identifier an event names, with its role (epc, parentID, bizTransaction:<type>, ...)."""

    __tablename__ = "epcis_epcs"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(200), index=True)
    epc: Mapped[str] = mapped_column(String(200), index=True)
    role: Mapped[str] = mapped_column(String(120), default="epc")  # migration 0008


class Webhook(Base):
    __tablename__ = "webhooks"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    url: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime]
    secret: Mapped[str | None] = mapped_column(String(64))  # HMAC key (migration 0008)


class TrackingAlert(Base):
    __tablename__ = "tracking_alerts"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    shipment_id: Mapped[str] = mapped_column(ForeignKey("shipments.id"), index=True)
    organisation_id: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime]
    eta: Mapped[datetime]
    planned: Mapped[datetime]
    slip_h: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(
        String(20), index=True
    )  # pending, delivered, failed, no_webhook
    attempts: Mapped[int]
    next_attempt_at: Mapped[datetime]
    last_error: Mapped[str | None] = mapped_column(String(300))


# Tables kept in their own modules register on the same metadata when the models are imported.
# Tables of other domains, imported here so that ``Base.metadata`` (and Alembic) sees them.
from corridor.store import capacity_moments_tables as _capacity_moments  # noqa: E402,F401
from corridor.store import capacity_tables  # noqa: E402, F401
from corridor.store import disruptions_tables as _disruptions_tables  # noqa: E402,F401
from corridor.store import jobs_tables as _jobs_tables  # noqa: E402,F401
from corridor.store import tracking_tables as _tracking_tables  # noqa: E402,F401  (registers tables)
