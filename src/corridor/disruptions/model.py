"""What a notice is: kind, affected elements, window, severity, issuer and texts in several languages."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class DisruptionError(Exception):
    """A notice that cannot be accepted: ``code`` (invalid, forbidden, not_found, conflict), the
    field at fault and the reason, for the API to answer 4xx and the CLI to print."""

    def __init__(self, code: str, field: str | None, reason: str) -> None:
        self.code, self.field, self.reason = code, field, reason
        super().__init__(reason)


class NoticeKind(StrEnum):
    CLOSURE = "closure"  # a port, crossing or line closed (storm, accident, works)
    SUSPENSION = "suspension"  # a sailing or service suspended
    REDUCED_CAPACITY = "reduced_capacity"  # e.g. a ferry limited by draught to X % of its load
    ACCEPTANCE_STOP = "acceptance_stop"  # a railway stops accepting wagons towards a point
    WEATHER_WARNING = "weather_warning"  # a warning: nothing stops yet
    EQUEUE_LIMIT = "equeue_limit"  # the daily limit of a road checkpoint's electronic queue is cut

    @property
    def stops_traffic(self) -> bool:
        """Whether nothing may use the elements during the window (the planner goes round)."""
        return self in (NoticeKind.CLOSURE, NoticeKind.SUSPENSION, NoticeKind.ACCEPTANCE_STOP)


class Severity(StrEnum):
    INFO = "info"
    MINOR = "minor"
    MAJOR = "major"
    SEVERE = "severe"


class NoticeStatus(StrEnum):
    ACTIVE = "active"
    CLOSED = "closed"


ElementKind = Literal["node", "link", "crossing", "service"]
_LANG = re.compile(r"^[a-z]{2}$")


class ElementRef(BaseModel):
    """One network element by kind and id, as in the dataset (``node:aktau_port``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: ElementKind
    id: str = Field(min_length=1, max_length=64)

    @classmethod
    def parse(cls, text: str) -> ElementRef:
        kind, sep, ident = text.partition(":")
        if not sep:
            raise ValueError(f"{text!r}: write KIND:ID, e.g. node:aktau_port")
        return cls.model_validate({"kind": kind, "id": ident})

    def __str__(self) -> str:
        return f"{self.kind}:{self.id}"


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    if not 2000 <= value.year <= 2100:
        raise ValueError("dates must lie between the years 2000 and 2100")
    return value.astimezone(UTC)


class NoticeDraft(BaseModel):
    """What an owner publishes (and amends): everything but the identity and the history."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: NoticeKind
    severity: Severity
    elements: tuple[ElementRef, ...] = Field(min_length=1, max_length=50)
    starts_at: datetime
    expected_end: datetime | None = None
    texts: dict[str, str] = Field(min_length=1, max_length=20)
    capacity_factor: float | None = Field(default=None, ge=0.0, le=1.0)
    equeue_limit_per_day: int | None = Field(default=None, ge=0, le=100_000)

    _check_times = field_validator("starts_at", "expected_end")(_utc)

    @field_validator("texts")
    @classmethod
    def _texts(cls, texts: dict[str, str]) -> dict[str, str]:
        for lang, text in texts.items():
            if not _LANG.match(lang):
                raise ValueError(f"{lang!r} is not an ISO 639-1 language code (e.g. en, ru, kk)")
            if not text.strip() or len(text) > 2000:
                raise ValueError(f"the {lang} text must have 1-2000 characters")
        return texts

    @field_validator("capacity_factor")
    @classmethod
    def _finite(cls, value: float | None) -> float | None:
        if value is not None and not math.isfinite(value):
            raise ValueError("must be a finite number")
        return value

    @model_validator(mode="after")
    def _window_and_kind(self) -> NoticeDraft:
        if self.expected_end is not None and self.expected_end <= self.starts_at:
            raise ValueError("expected_end: the window must end after it starts")
        if self.kind is NoticeKind.REDUCED_CAPACITY and self.capacity_factor is None:
            raise ValueError(
                "capacity_factor: a reduced-capacity notice says how much is left (0-1)"
            )
        if self.kind is NoticeKind.EQUEUE_LIMIT and self.equeue_limit_per_day is None:
            raise ValueError("equeue_limit_per_day: an e-queue limit notice gives the new limit")
        if len(set(self.elements)) != len(self.elements):
            raise ValueError("elements: an element is listed twice")
        return self

    def text(self, language: str = "en") -> str:
        """The text in ``language``, else English, else the first given."""
        return self.texts.get(language) or self.texts.get("en") or next(iter(self.texts.values()))


class Notice(NoticeDraft):
    """A published notice with its identity, issuer, state and version (1 at publication)."""

    id: str
    issuer_org: str
    issuer_name: str
    status: NoticeStatus
    version: int = Field(ge=1)
    actual_end: datetime | None = None
    created_at: datetime
    updated_at: datetime

    @property
    def end(self) -> datetime | None:
        """When the notice stops having effect: its actual end, else the expected one."""
        return self.actual_end or self.expected_end


class Publisher(BaseModel):
    """Who publishes: the organisation's kind, country (customs) and the operators it runs as."""

    model_config = ConfigDict(frozen=True)

    organisation_id: str
    kind: Literal["forwarder", "carrier", "customs", "admin"]
    country: str | None = None
    operators: frozenset[str] = frozenset()


class SubscriptionFilter(BaseModel):
    """Which notices a subscriber wants: any field left empty matches everything."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    elements: tuple[ElementRef, ...] = Field(default=(), max_length=100)
    countries: frozenset[str] = Field(default=frozenset(), max_length=30)
    corridors: frozenset[str] = Field(default=frozenset(), max_length=20)
    shipments: frozenset[str] = Field(default=frozenset(), max_length=100)
    min_severity: Severity = Severity.INFO

    @field_validator("countries")
    @classmethod
    def _countries(cls, value: frozenset[str]) -> frozenset[str]:
        bad = sorted(c for c in value if not re.fullmatch(r"[A-Z]{2}", c))
        if bad:
            raise ValueError(f"not ISO 3166 alpha-2 codes: {', '.join(bad)}")
        return value
