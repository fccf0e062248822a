"""Tables of disruption notices: the current version, its elements, every version ever published,
the operator names a carrier organisation runs as, and subscriptions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from corridor.store.models import Base


class NoticeRow(Base):
    __tablename__ = "notices"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    issuer_org: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    severity: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(10), index=True)
    version: Mapped[int] = mapped_column(Integer)
    starts_at: Mapped[datetime] = mapped_column(index=True)
    expected_end: Mapped[datetime | None]
    actual_end: Mapped[datetime | None]
    body: Mapped[dict[str, Any]] = mapped_column(JSON)  # elements, texts, factors
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class NoticeElementRow(Base):
    """One affected element of a notice's current version ("node:aktau_port"), for filtering."""

    __tablename__ = "notice_elements"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    notice_id: Mapped[str] = mapped_column(ForeignKey("notices.id"), index=True)
    element: Mapped[str] = mapped_column(String(80), index=True)


class NoticeVersionRow(Base):
    """Every version of every notice, never changed: the history an amendment cannot erase.

    (notice_id, version) is unique, so of two amendments of the same version only one is stored.
    """

    __tablename__ = "notice_versions"
    __table_args__ = (UniqueConstraint("notice_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    notice_id: Mapped[str] = mapped_column(ForeignKey("notices.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(10))  # published, amended, closed
    notice: Mapped[dict[str, Any]] = mapped_column(JSON)
    changed_by: Mapped[str] = mapped_column(String(64))
    changed_at: Mapped[datetime]


class OrganisationOperatorRow(Base):
    """An operator name (as in the dataset) that a carrier organisation runs as."""

    __tablename__ = "organisation_operators"

    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), primary_key=True)
    operator: Mapped[str] = mapped_column(String(200), primary_key=True)


class NoticeSubscriptionRow(Base):
    __tablename__ = "notice_subscriptions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    filter: Mapped[dict[str, Any]] = mapped_column(JSON)
    url: Mapped[str | None] = mapped_column(String(500))
    secret: Mapped[str] = mapped_column(String(64))
    cursor: Mapped[int] = mapped_column(Integer)  # last notice_versions.id delivered
    created_at: Mapped[datetime]
