"""Request and response bodies of the capacity and e-queue endpoints."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from pydantic import BaseModel, Field, field_validator

from corridor.api.schemas import RouteRequest, ShipmentOut, _Strict
from corridor.capacity.equeue import FeeTier
from corridor.capacity.model import CargoKind
from corridor.routing import Itinerary


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


class EstimateOut(BaseModel):
    departure: datetime
    basis: str = Field(description="scheduled, loaded, booking_rate or max_wait")
    estimate: bool = Field(description="True: computed from bookings, not a timetable")


class SailingOut(BaseModel):
    key: str
    kind: str
    service: str
    operator: str
    vessel: str | None
    from_node: str
    to_node: str
    departure: datetime
    arrival: datetime
    unit: str
    capacity: int
    held: int
    confirmed: int
    waitlisted: int
    free: int
    load_factor: float
    expected_departure: EstimateOut | None


class BookingCreate(_Strict):
    service: str = Field(min_length=1, max_length=64, examples=["asco-aktau-alat-ferry"])
    from_node: str = Field(min_length=1, max_length=64, examples=["aktau_port"])
    departure: datetime = Field(examples=["2026-12-04T22:00:00Z"])
    cargo: CargoKind = Field(examples=["rail_wagon"])
    items: int = Field(gt=0, le=100_000, description="How many wagons, containers or trucks.")
    waitlist: bool = Field(
        default=False, description="When the sailing is full, join its waitlist instead of a 409."
    )

    _departure = field_validator("departure")(_utc)


class ItineraryBookingCreate(_Strict):
    reference: str = Field(min_length=1, max_length=100, examples=["PO-2026-0042"])
    route: RouteRequest
    option: int = Field(default=0, ge=0, le=50)


class BookingOut(BaseModel):
    id: str
    group_id: str
    shipment_id: str | None
    organisation_id: str
    state: str
    service: str
    operator: str
    from_node: str
    to_node: str
    departure: datetime
    cargo: str
    items: int
    units: int
    unit: str
    expires_at: datetime | None
    moved_to: str | None
    note: str | None
    created_at: datetime
    updated_at: datetime


class SkippedOut(BaseModel):
    service: str
    from_node: str
    to_node: str
    departure: datetime
    reason: str


class ItineraryBookingOut(BaseModel):
    shipment: ShipmentOut
    bookings: list[BookingOut]
    skipped_full: list[SkippedOut] = Field(
        default_factory=list, description="Full departures the plan went around"
    )


class ActionBody(_Strict):
    note: str | None = Field(default=None, max_length=300)


class MoveBody(_Strict):
    departure: datetime = Field(description="The departure of the same service to move to.")
    note: str | None = Field(default=None, max_length=300)

    _departure = field_validator("departure")(_utc)


class LineOut(BaseModel):
    kind: str
    key: str
    name: str
    operator: str
    from_node: str
    to_node: str
    departure: datetime
    unit: str
    capacity: int
    held: int
    confirmed: int
    waitlisted: int
    free: int
    load_factor: float


class HeatMapOut(BaseModel):
    days: list[date]
    rows: list[str]
    cells: list[list[float | None]]


class WaitingPoint(BaseModel):
    day: date
    waiting: dict[str, int]


class PortAlertOut(BaseModel):
    port: str
    waiting: int
    daily_capacity: float
    days_of_capacity: float | None = Field(description="None: no ferry leaves the port")
    threshold_days: float


class BoardOut(BaseModel):
    start: datetime
    days: int
    lines: list[LineOut]
    heat_map: HeatMapOut
    waiting: dict[str, int] = Field(description="Containers waiting at each port now (tracking)")
    waiting_history: list[WaitingPoint]
    daily_ferry_capacity: dict[str, float] = Field(
        description="Containers a day the ferries leaving each port take (window average)"
    )
    alerts: list[PortAlertOut]
    last_event: int = Field(description="Pass as `after` to the event stream")


class PortOut(BaseModel):
    node: str
    name: str
    handling_teu_day: float
    handling_wagons_day: float
    yard_teu: float
    source: list[str]


class CrossingCapacityOut(BaseModel):
    crossing: str
    name: str
    trains_per_day: int
    road_lanes: int
    trucks_per_hour: int
    equeue: bool
    source: list[str]


class SweepOut(BaseModel):
    expired_holds: int
    no_shows: int


# -- e-queue ------------------------------------------------------------------------------------


class HourOut(BaseModel):
    starts_at: datetime
    capacity: int
    booked: int
    free: int


class TicketCreate(_Strict):
    checkpoint: str = Field(min_length=1, max_length=64, examples=["x-khorgos"])
    date: date
    hour: int = Field(description="Hour of the day, 0-23 (UTC).")
    plate: str = Field(min_length=1, max_length=20, examples=["123 ABC 02"])
    driver: str = Field(min_length=1, max_length=100, examples=["A. Driver"])
    transit_declaration: str | None = Field(default=None, max_length=30)
    tier: FeeTier = FeeTier.STANDARD


class TicketOut(BaseModel):
    id: str
    checkpoint: str
    starts_at: datetime
    plate: str
    driver: str
    transit_declaration: str | None
    tier: str
    fee_mci: int
    fee_kzt_2025: int
    state: str
    token: str
    issued_at: datetime
    checked_in_at: datetime | None


class TicketIn(_Strict):
    ticket: str = Field(min_length=1, max_length=2000)


class VerifiedTicket(BaseModel):
    valid: bool
    ticket_id: str
    checkpoint: str
    slot_start: datetime
    plate: str
    driver: str
    transit_declaration: str | None
    tier: str
    fee_mci: int
    key_id: str


class PublicKeyOut(BaseModel):
    key_id: str
    public_key: str = Field(description="Raw Ed25519 public key, hex")


class LegLoadOut(BaseModel):
    leg: int = Field(description="Index of the leg in the itinerary")
    service: str
    from_node: str
    departure: datetime
    unit: str
    capacity: int
    taken: int
    load_factor: float


class CapacityOption(BaseModel):
    itinerary: Itinerary
    loads: list[LegLoadOut]


class CapacityRouteOut(BaseModel):
    query: dict[str, Any]
    options: list[CapacityOption]
    skipped_full: list[SkippedOut] = Field(
        description="Departures a capacity-blind plan would have taken but that are full"
    )
