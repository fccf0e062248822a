"""Country outlines for the dashboard map, from Natural Earth (public domain) via npm's world-atlas.

    (cd web && npm install) && python3 scripts/build_country_outlines.py

Reads ``web/node_modules/world-atlas/countries-110m.json`` (TopoJSON of Natural Earth 1:110m
countries), decodes it to GeoJSON, keeps the countries within the corridor's reach and writes
``src/corridor/web/static/countries.geojson``, which is committed so the map works offline.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "web" / "node_modules" / "world-atlas" / "countries-110m.json"
TARGET = ROOT / "src" / "corridor" / "web" / "static" / "countries.geojson"
#: lon_min, lat_min, lon_max, lat_max of what the map shows
BOX = (-12.0, 10.0, 135.0, 72.0)


def decode_arcs(topology: dict[str, Any]) -> list[list[tuple[float, float]]]:
    """Absolute coordinates of every arc (TopoJSON arcs are delta-encoded and quantized)."""
    scale = topology["transform"]["scale"]
    translate = topology["transform"]["translate"]
    arcs = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x += dx
            y += dy
            points.append(
                (round(x * scale[0] + translate[0], 3), round(y * scale[1] + translate[1], 3))
            )
        arcs.append(points)
    return arcs


def ring(arcs: list[list[tuple[float, float]]], indexes: list[int]) -> list[list[float]]:
    coords: list[tuple[float, float]] = []
    for index in indexes:
        arc = arcs[index] if index >= 0 else list(reversed(arcs[~index]))
        coords.extend(arc if not coords else arc[1:])
    return [list(p) for p in coords]


def in_box(rings: list[list[list[float]]]) -> bool:
    xs = [p[0] for r in rings for p in r]
    ys = [p[1] for r in rings for p in r]
    return max(xs) >= BOX[0] and min(xs) <= BOX[2] and max(ys) >= BOX[1] and min(ys) <= BOX[3]


def main() -> None:
    if not SOURCE.is_file():
        sys.exit(f"{SOURCE} not found: run 'npm install' in web/ first")
    topology = json.loads(SOURCE.read_text())
    arcs = decode_arcs(topology)
    features = []
    for geometry in topology["objects"]["countries"]["geometries"]:
        if geometry["type"] == "Polygon":
            polygons = [geometry["arcs"]]
        elif geometry["type"] == "MultiPolygon":
            polygons = geometry["arcs"]
        else:
            continue
        decoded = [[ring(arcs, r) for r in polygon] for polygon in polygons]
        if not any(in_box(p) for p in decoded):
            continue
        features.append(
            {
                "type": "Feature",
                "properties": {"name": geometry.get("properties", {}).get("name", "")},
                "geometry": {"type": "MultiPolygon", "coordinates": decoded},
            }
        )
    TARGET.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "attribution": "Made with Natural Earth (public domain), via world-atlas 2.0.2",
                "features": features,
            },
            separators=(",", ":"),
        )
        + "\n"
    )
    print(f"wrote {TARGET} ({len(features)} countries, {TARGET.stat().st_size // 1024} KiB)")


if __name__ == "__main__":
    main()
