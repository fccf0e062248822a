"""The corridor network over HTTP, read-only, for every logged-in organisation."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field, TypeAdapter, create_model

from corridor.api.deps import NetworkDep, PrincipalDep
from corridor.api.errors import ApiError
from corridor.network import CAPABILITIES, Mode
from corridor.network.export import to_geojson
from corridor.network.model import Corridor, Link, Node, Service

router = APIRouter(prefix="/network", tags=["network"])


class ModeStyle(BaseModel):
    """Leaflet path options for drawing the mode's links."""

    color: str
    weight: float
    dashArray: str | None = None  # Leaflet's option name


class ModeOut(BaseModel):
    """One row of the network's mode capability table."""

    mode: str
    label: str
    scheduled: bool
    gauge: bool
    runs_on: bool
    waterborne: bool
    max_detour: float
    style: ModeStyle


@router.get("/modes", response_model=list[ModeOut], summary="Transport modes and how to draw them")
def modes(_: PrincipalDep) -> list[ModeOut]:
    """The capability table that drives planning and validation; the map styles its lines by it."""
    return [
        ModeOut(
            mode=cap.mode.value,
            label=cap.label,
            scheduled=cap.scheduled,
            gauge=cap.gauge,
            runs_on=cap.runs_on,
            waterborne=cap.waterborne,
            max_detour=cap.max_detour,
            style=ModeStyle(
                color=cap.style.color, weight=cap.style.weight, dashArray=cap.style.dash
            ),
        )
        for cap in CAPABILITIES.values()
    ]


def _dump(record: Any, drop: tuple[str, ...] = ()) -> dict[str, Any]:
    data: dict[str, Any] = record.model_dump(mode="json")
    for key in drop:
        data.pop(key, None)
    return data


def _without(model: type[BaseModel], name: str, drop: str, **extra: Any) -> type[BaseModel]:
    """An answer model with the fields of the dataset record ``model`` but ``drop``, plus ``extra``."""
    fields: dict[str, Any] = {
        key: (info.annotation, info) for key, info in model.model_fields.items() if key != drop
    }
    return create_model(name, __doc__=model.__doc__, **fields, **extra)


#: A link without its geometry (GET /network/links/{id} or /network/geojson has it).
LinkSummary = _without(Link, "LinkSummary", "geometry")
#: A service with the number of its dated sailings instead of the sailings themselves.
ServiceSummary = _without(
    Service,
    "ServiceSummary",
    "sailings",
    dated_sailings=(int, Field(description="Number of dated sailings in sailings.csv")),
)

#: A GeoJSON property value: records go out flat (lists joined with ";", enums as values).
Property = str | int | float | bool | None


class FeatureGeometry(BaseModel):
    type: str = Field(description="Point (a node) or LineString (a link), lon/lat order")
    coordinates: list[float] | list[list[float]]


class Feature(BaseModel):
    type: str = "Feature"
    id: str = Field(description="node/{id} or link/{id}")
    geometry: FeatureGeometry
    properties: dict[str, Property] = Field(
        description="Every attribute of the node or link, and `feature_type`"
    )


class FeatureCollection(BaseModel):
    """The network as a GeoJSON FeatureCollection (RFC 7946)."""

    type: str = "FeatureCollection"
    attribution: str
    features: list[Feature]


_NODE_LIST = TypeAdapter(list[Node])


@router.get("/nodes", response_model=list[Node], summary="Nodes, optionally of one country or kind")
async def nodes(
    request: Request,
    network: NetworkDep,
    _: PrincipalDep,
    country: str | None = None,
    kind: str | None = None,
) -> Response:
    """Answered on the event loop from JSON rendered once per filter: the network a process
    holds never changes, and rendering it per request (pydantic validating and serialising every
    node, on a worker thread) was most of the cost of the call."""
    wanted = country.upper() if country is not None else None
    key = (wanted, kind)
    known: dict[tuple[str | None, str | None], bytes] = request.app.state.rendered_nodes
    body = known.get(key)
    if body is None:
        found = [
            n
            for n in network.nodes.values()
            if (wanted is None or n.country == wanted) and (kind is None or n.kind == kind)
        ]
        body = _NODE_LIST.dump_json(found, by_alias=True)
        if found:  # a filter matching nothing is not remembered: the keys stay bounded
            known[key] = body
    return Response(body, media_type="application/json")


@router.get("/nodes/{node_id}", response_model=Node, summary="One node")
def node(node_id: str, network: NetworkDep, _: PrincipalDep) -> Node:
    if node_id not in network.nodes:
        raise ApiError(404, "not_found", "node_id", f"no node {node_id!r}")
    return network.nodes[node_id]


@router.get(
    "/links",
    response_model=list[LinkSummary],  # type: ignore[valid-type]
    summary="Links, optionally of one mode (geometry left out; see /network/geojson)",
)
def links(network: NetworkDep, _: PrincipalDep, mode: Mode | None = None) -> list[dict[str, Any]]:
    return [
        _dump(lk, ("geometry",)) for lk in network.links.values() if mode is None or lk.mode is mode
    ]


@router.get("/links/{link_id}", response_model=Link, summary="One link with its geometry")
def link(link_id: str, network: NetworkDep, _: PrincipalDep) -> Link:
    if link_id not in network.links:
        raise ApiError(404, "not_found", "link_id", f"no link {link_id!r}")
    return network.links[link_id]


@router.get(
    "/services",
    response_model=list[ServiceSummary],  # type: ignore[valid-type]
    summary="Scheduled services (ferries, sea loops, block trains)",
)
def services(network: NetworkDep, _: PrincipalDep) -> list[dict[str, Any]]:
    return [
        _dump(s, ("sailings",)) | {"dated_sailings": len(s.sailings)}
        for s in network.services.values()
    ]


@router.get("/corridors", response_model=list[Corridor], summary="Named corridors")
def corridors(network: NetworkDep, _: PrincipalDep) -> list[Corridor]:
    return list(network.corridors.values())


@router.get(
    "/geojson",
    response_model=FeatureCollection,
    summary="Nodes and links as a GeoJSON FeatureCollection",
)
def geojson(network: NetworkDep, _: PrincipalDep) -> dict[str, Any]:
    return to_geojson(network)
