"""The corridor network over HTTP, read-only, for every logged-in organisation."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from corridor.api.deps import NetworkDep, PrincipalDep
from corridor.api.errors import ApiError
from corridor.network import CAPABILITIES, Mode
from corridor.network.export import to_geojson

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


@router.get("/nodes", summary="Nodes, optionally of one country or kind")
def nodes(
    network: NetworkDep, _: PrincipalDep, country: str | None = None, kind: str | None = None
) -> list[dict[str, Any]]:
    found = [
        n
        for n in network.nodes.values()
        if (country is None or n.country == country.upper()) and (kind is None or n.kind == kind)
    ]
    return [_dump(n) for n in found]


@router.get("/nodes/{node_id}", summary="One node")
def node(node_id: str, network: NetworkDep, _: PrincipalDep) -> dict[str, Any]:
    if node_id not in network.nodes:
        raise ApiError(404, "not_found", "node_id", f"no node {node_id!r}")
    return _dump(network.nodes[node_id])


@router.get(
    "/links", summary="Links, optionally of one mode (geometry left out; see /network/geojson)"
)
def links(network: NetworkDep, _: PrincipalDep, mode: Mode | None = None) -> list[dict[str, Any]]:
    return [
        _dump(lk, ("geometry",)) for lk in network.links.values() if mode is None or lk.mode is mode
    ]


@router.get("/links/{link_id}", summary="One link with its geometry")
def link(link_id: str, network: NetworkDep, _: PrincipalDep) -> dict[str, Any]:
    if link_id not in network.links:
        raise ApiError(404, "not_found", "link_id", f"no link {link_id!r}")
    return _dump(network.links[link_id])


@router.get("/services", summary="Scheduled services (ferries, sea loops, block trains)")
def services(network: NetworkDep, _: PrincipalDep) -> list[dict[str, Any]]:
    return [
        _dump(s, ("sailings",)) | {"dated_sailings": len(s.sailings)}
        for s in network.services.values()
    ]


@router.get("/corridors", summary="Named corridors")
def corridors(network: NetworkDep, _: PrincipalDep) -> list[dict[str, Any]]:
    return [_dump(c) for c in network.corridors.values()]


@router.get("/geojson", summary="Nodes and links as a GeoJSON FeatureCollection")
def geojson(network: NetworkDep, _: PrincipalDep) -> dict[str, Any]:
    return to_geojson(network)
