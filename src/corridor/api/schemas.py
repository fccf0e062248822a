"""Request and response bodies of the API (its OpenAPI schema is generated from these)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from corridor.disruptions import Notice
from corridor.network import Mode
from corridor.routing import ContainerType, Criterion, Itinerary
from corridor.textcheck import reject_control_characters


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _text(cls, data: Any) -> Any:
        return reject_control_characters(data)


class LoginRequest(_Strict):
    email: str = Field(min_length=3, max_length=254)
    password: str = Field(min_length=1, max_length=200)


class UserOut(BaseModel):
    id: str
    email: str
    name: str
    organisation_id: str
    organisation: str
    kind: str
    country: str | None


class LoginResponse(BaseModel):
    token: str
    expires_at: datetime
    user: UserOut


class RouteRequest(_Strict):
    origin: str = Field(min_length=1, max_length=100, examples=["xian"])
    destination: str = Field(min_length=1, max_length=100, examples=["duisburg"])
    ready: datetime = Field(examples=["2026-03-03T08:00:00Z"])
    containers: int = Field(default=1, gt=0, le=10_000)
    container_type: ContainerType = ContainerType.C40
    tonnes: float | None = Field(default=None, gt=0, le=1_000_000)
    dangerous_goods: bool = False
    avoid_countries: list[str] = Field(default_factory=list, max_length=30)
    avoid_nodes: list[str] = Field(default_factory=list, max_length=100)
    modes: list[Mode] | None = None
    max_transfers: int | None = Field(default=None, ge=0, le=50)
    latest_arrival: datetime | None = None
    corridor: str | None = Field(
        default=None, max_length=64, description="Follow one named corridor."
    )
    via: list[str] = Field(
        default_factory=list, max_length=10, description="Places to pass, in order."
    )
    red_sea_open: bool | None = Field(
        default=None,
        description="Whether ships may pass Suez and the Red Sea (default: the platform's setting); "
        "closed sends Asia-Europe sea legs round the Cape of Good Hope.",
    )
    best: Criterion | None = Field(
        default=None, description="Only the best itinerary by this criterion."
    )

    @field_validator("ready", "latest_arrival")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


class RouteResponse(BaseModel):
    query: dict[str, Any]
    itineraries: list[Itinerary]
    disruptions: list[Notice] = Field(
        default_factory=list, description="Notices in force that the plan was steered round."
    )


class CorridorOption(BaseModel):
    corridor: str
    name: str
    family: str
    itinerary: Itinerary | None


class ShipmentCreate(_Strict):
    reference: str = Field(min_length=1, max_length=100, examples=["PO-2026-0042"])
    route: RouteRequest
    option: int = Field(
        default=0,
        ge=0,
        le=50,
        description="Index of the chosen itinerary in the answer to `route`.",
    )


class ShipmentOut(BaseModel):
    id: str
    reference: str
    organisation_id: str
    origin: str
    destination: str
    ready_at: datetime
    arrival_at: datetime
    teu: float
    cost_usd: float
    co2e_kg: float
    countries: list[str]
    status: str
    created_at: datetime
    cancelled_at: datetime | None
    itinerary: Itinerary


class OrganisationCreate(_Strict):
    name: str = Field(min_length=1, max_length=200)
    kind: str = Field(pattern="^(forwarder|carrier|customs|admin)$")
    country: str | None = Field(default=None, min_length=2, max_length=2)


class OrganisationOut(BaseModel):
    id: str
    name: str
    kind: str
    country: str | None


class UserCreate(_Strict):
    organisation_id: str = Field(min_length=1, max_length=64)
    email: str = Field(min_length=3, max_length=254)
    name: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=10, max_length=200)
