"""The network as GeoJSON or CSV, for GIS tools and spreadsheets.

Every attribute of a record goes out with it, so an analyst can style a map by capacity or filter
links by source without going back to the dataset files.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from corridor.network.dataset import Network
from corridor.network.model import Link, Node

ATTRIBUTION = (
    "Corridor network data. Rail and road geometry (c) OpenStreetMap contributors, ODbL 1.0; "
    "sea geometry from searoute (Eurostat SeaRoute MARNET)."
)


def _plain(value: Any) -> Any:
    if isinstance(value, tuple | frozenset | list):
        return ";".join(str(v) for v in value)
    if hasattr(value, "value"):  # enums
        return value.value
    return value


def node_properties(node: Node) -> dict[str, Any]:
    props = {k: _plain(v) for k, v in node.model_dump().items() if k not in ("lat", "lon")}
    return {"feature_type": "node", **props}


def link_properties(link: Link, network: Network) -> dict[str, Any]:
    props = {k: _plain(v) for k, v in link.model_dump().items() if k != "geometry"}
    border = network.border_on(link.id)
    props["running_time_h"] = None if link.running_time_h is None else round(link.running_time_h, 1)
    props["border_crossing"] = border.id if border else None
    props["services"] = ";".join(
        s.id
        for s in network.services.values()
        if any(
            {a, b} == {link.from_node, link.to_node}
            for a, b in zip(s.stops, s.stops[1:], strict=False)
        )
        and s.mode is link.mode
    )
    return {"feature_type": "link", **props}


def to_geojson(network: Network) -> dict[str, Any]:
    """A GeoJSON FeatureCollection: a Point per node, a LineString per link (lon, lat order)."""
    features: list[dict[str, Any]] = [
        {
            "type": "Feature",
            "id": f"node/{node.id}",
            "geometry": {"type": "Point", "coordinates": [node.lon, node.lat]},
            "properties": node_properties(node),
        }
        for node in network.nodes.values()
    ]
    features += [
        {
            "type": "Feature",
            "id": f"link/{link.id}",
            "geometry": {"type": "LineString", "coordinates": [list(p) for p in link.geometry]},
            "properties": link_properties(link, network),
        }
        for link in network.links.values()
    ]
    return {"type": "FeatureCollection", "attribution": ATTRIBUTION, "features": features}


def to_csv(network: Network) -> str:
    """One CSV row per node and per link, geometry as WKT (QGIS reads it as a delimited-text layer)."""
    rows = []
    for feature in to_geojson(network)["features"]:
        geometry = feature["geometry"]
        if geometry["type"] == "Point":
            x, y = geometry["coordinates"]
            wkt = f"POINT ({x} {y})"
        else:
            wkt = "LINESTRING (" + ", ".join(f"{x} {y}" for x, y in geometry["coordinates"]) + ")"
        rows.append({**feature["properties"], "wkt": wkt})
    columns: list[str] = []
    for row in rows:
        columns += [c for c in row if c not in columns]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()
