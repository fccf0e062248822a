"""What a forwarder asks: from where to where, from when, what cargo, under which constraints."""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Iterable
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from corridor.emissions import DEFAULT_TONNES_PER_TEU
from corridor.network import Corridor, Mode, Network
from corridor.network.modes import mode_names
from corridor.routing.closures import Closure
from corridor.routing.errors import RoutingError
from corridor.settings import get_settings


class ContainerType(StrEnum):
    """ISO container sizes; the TEU each one counts for."""

    C20 = "20GP"
    C40 = "40GP"
    C40HC = "40HC"
    C45HC = "45HC"

    @property
    def teu(self) -> float:
        return {"20GP": 1.0, "40GP": 2.0, "40HC": 2.0, "45HC": 2.25}[self.value]


class Cargo(BaseModel):
    """The consignment: a number of containers of one type, its mass and whether it is dangerous."""

    model_config = ConfigDict(frozen=True)

    containers: int = Field(default=1, gt=0, le=10_000)
    container_type: ContainerType = ContainerType.C40
    tonnes: float | None = Field(default=None, gt=0, le=1_000_000)
    dangerous_goods: bool = False

    @property
    def teu(self) -> float:
        return self.containers * self.container_type.teu

    @property
    def mass_t(self) -> float:
        return self.tonnes if self.tonnes is not None else self.teu * DEFAULT_TONNES_PER_TEU


class Query(BaseModel):
    """A route request. Times are UTC; ``via`` lists groups of nodes to pass in order."""

    model_config = ConfigDict(frozen=True)

    origin: str
    destination: str
    ready: datetime
    cargo: Cargo = Cargo()
    avoid_countries: frozenset[str] = frozenset()
    avoid_nodes: frozenset[str] = frozenset()
    modes: frozenset[Mode] = frozenset(Mode)
    max_transfers: int | None = Field(default=None, ge=0, le=50)
    latest_arrival: datetime | None = None
    via: tuple[tuple[str, ...], ...] = ()
    #: Straits or canals not to sail through (``suez`` while the Red Sea is unsafe).
    closed_passages: frozenset[str] = frozenset()
    #: Closed windows of nodes, links and services (disruption notices; see routing.closures).
    closures: tuple[Closure, ...] = ()

    @field_validator("ready", "latest_arrival")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        if value is not None and not 2000 <= value.year <= 2100:
            raise ValueError("plans are made for dates between the years 2000 and 2100")
        return value

    @field_validator("avoid_countries")
    @classmethod
    def _upper(cls, value: frozenset[str]) -> frozenset[str]:
        return frozenset(c.strip().upper() for c in value)

    @model_validator(mode="after")
    def _consistent(self) -> Query:
        if self.origin == self.destination:
            raise ValueError("destination: origin and destination are the same place")
        if not self.modes:
            raise ValueError("modes: at least one mode must be allowed")
        if self.latest_arrival is not None and self.latest_arrival <= self.ready:
            raise ValueError("latest_arrival: must be after the ready time")
        return self


def make_query(network: Network, **fields: object) -> Query:
    """Build a :class:`Query`, resolving place names and checking codes against the network.

    Raises :class:`RoutingError` naming the field and the reason, never a bare validation error.
    """
    for key in ("origin", "destination"):
        if key in fields:
            fields[key] = resolve_place(network, str(fields[key]), key)
    avoid_nodes = fields.get("avoid_nodes")
    if avoid_nodes:
        fields["avoid_nodes"] = frozenset(
            resolve_place(network, str(n), "avoid_nodes")
            for n in avoid_nodes  # type: ignore[attr-defined]
        )
    try:
        query = Query.model_validate(fields)
    except ValidationError as exc:
        err = exc.errors()[0]
        msg = err["msg"].removeprefix("Value error, ")
        if err["loc"]:
            raise RoutingError(".".join(str(p) for p in err["loc"]), msg) from None
        field, _, reason = msg.partition(": ")
        raise RoutingError(field, reason) from None
    unknown = sorted(c for c in query.avoid_countries if c not in network.countries())
    if unknown:
        known = ", ".join(sorted(network.countries()))
        raise RoutingError(
            "avoid_countries", f"unknown country code(s) {', '.join(unknown)} (known: {known})"
        )
    for key in ("origin", "destination"):
        node = network.nodes[getattr(query, key)]
        if node.country in query.avoid_countries:
            raise RoutingError(key, f"{node.name} is in {node.country}, which the query avoids")
        if node.id in query.avoid_nodes:
            raise RoutingError(key, f"{node.name} is also in avoid_nodes")
    return query


def _fold(text: str) -> str:
    """Case-, accent- and punctuation-insensitive form: "Xi'an" and "xian" match."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in plain.casefold() if ch.isalnum())


def resolve_place(network: Network, text: str, field: str = "place") -> str:
    """The node id for an id, a UN/LOCODE or a name; suggests the closest matches otherwise."""
    if text in network.nodes:
        return text
    wanted = _fold(text)
    if not wanted:
        raise RoutingError(field, "a place is required")
    exact = [
        n.id
        for n in network.nodes.values()
        if wanted in (_fold(n.id), _fold(n.name), _fold(n.unlocode or ""))
    ]
    if len(exact) == 1:
        return exact[0]
    prefix = [
        n.id
        for n in network.nodes.values()
        if _fold(n.name).startswith(wanted) or _fold(n.id).startswith(wanted)
    ]
    if len(prefix) == 1:
        return prefix[0]
    candidates = {_fold(n.name): n.id for n in network.nodes.values()}
    candidates.update({_fold(n.id): n.id for n in network.nodes.values()})
    close = difflib.get_close_matches(wanted, list(candidates), n=5, cutoff=0.6)
    suggestions = list(dict.fromkeys(candidates[c] for c in close)) or prefix[:5]
    hint = f"; did you mean {', '.join(suggestions)}?" if suggestions else ""
    raise RoutingError(field, f"unknown place {text!r}{hint}")


def with_corridor(query: Query, corridor: Corridor) -> Query:
    """``query`` held to a named corridor: its gateways appended to ``via``, its countries avoided.

    The one place where a corridor becomes query constraints (compare, the API's ``corridor``
    field and the demo seed all come here).
    """
    return query.model_copy(
        update={
            "via": query.via + corridor.via,
            "avoid_countries": query.avoid_countries | frozenset(corridor.avoid_countries),
        }
    )


def build_query(
    network: Network,
    *,
    origin: str,
    destination: str,
    ready: datetime,
    containers: int | None = None,
    container_type: ContainerType | str = ContainerType.C40,
    teu: int | None = None,
    tonnes: float | None = None,
    dangerous_goods: bool = False,
    avoid_countries: Iterable[str] = (),
    avoid_nodes: Iterable[str] = (),
    modes: Iterable[str] = (),
    max_transfers: int | None = None,
    latest_arrival: datetime | None = None,
    via: Iterable[str] = (),
    corridor: str | None = None,
    red_sea_open: bool | None = None,
) -> Query:
    """A query from a request's plain fields, as the CLI and the API receive them.

    Raises :class:`RoutingError` naming the request field (``containers``, ``teu``, ``modes``,
    ``corridor`` ...) and the reason. ``red_sea_open`` defaults to the setting of that name.
    """
    if teu is not None and containers is not None:
        raise RoutingError("containers", "give either teu or containers, not both")
    cargo: dict[str, Any] = {"dangerous_goods": dangerous_goods, "tonnes": tonnes}
    if teu is not None:
        cargo.update(containers=teu, container_type=ContainerType.C20)
    else:
        cargo.update(
            containers=1 if containers is None else containers, container_type=container_type
        )
    try:
        parsed = Cargo.model_validate(cargo)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]) if first["loc"] else "cargo"
        if name == "containers" and teu is not None:
            name = "teu"
        raise RoutingError(name, first["msg"]) from None
    names = [m.strip().lower() for m in modes if m.strip()]
    unknown = [m for m in names if m not in mode_names()]
    if unknown:
        raise RoutingError(
            "modes", f"unknown mode(s) {', '.join(unknown)} (use {', '.join(mode_names())})"
        )
    if red_sea_open is None:
        red_sea_open = get_settings().red_sea_open
    fields: dict[str, Any] = {
        "origin": origin,
        "destination": destination,
        "ready": ready,
        "cargo": parsed,
        "avoid_countries": frozenset(c.strip() for c in avoid_countries if c.strip()),
        "avoid_nodes": frozenset(n.strip() for n in avoid_nodes if n.strip()),
        "max_transfers": max_transfers,
        "latest_arrival": latest_arrival,
        "via": tuple((resolve_place(network, place, "via"),) for place in via),
        "closed_passages": frozenset() if red_sea_open else frozenset({"suez"}),
    }
    if names:
        fields["modes"] = frozenset(Mode(m) for m in names)
    query = make_query(network, **fields)
    if corridor is not None:
        found = network.corridors.get(corridor)
        if found is None:
            known = ", ".join(network.corridors)
            raise RoutingError("corridor", f"unknown corridor {corridor!r} (known: {known})")
        query = with_corridor(query, found)
    return query
