"""Flows as GeoJSON for the dashboard's energy layer: width by flow, colour by utilisation.

Reads only a run's summary (no PyPSA), so the API serves it without importing the model.
"""

from __future__ import annotations

from typing import Any


def utilisation_colour(utilisation: float) -> str:
    """Green below 50 %, amber to 85 %, red above: how close an asset runs to its limit."""
    if utilisation >= 0.85:
        return "#c62828"
    if utilisation >= 0.5:
        return "#f9a825"
    return "#2e7d32"


def flows_geojson(summary: dict[str, Any]) -> dict[str, Any]:
    """A FeatureCollection with one LineString per pipeline segment and cable of the run."""
    features = []
    for seg in summary["segments"]:
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "LineString", "coordinates": seg["coordinates"]},
                "properties": {
                    "id": seg["id"],
                    "asset": seg["asset"],
                    "name": seg["name"],
                    "carrier": seg["carrier"],
                    "status": seg["status"],
                    "flow": seg["flow"],
                    "unit": seg["unit"],
                    "capacity": seg["capacity"],
                    "capacity_unit": seg["capacity_unit"],
                    "utilisation": seg["utilisation"],
                    "colour": utilisation_colour(seg["utilisation"]),
                },
            }
        )
    return {
        "type": "FeatureCollection",
        "features": features,
        "scenario": summary["scenario"]["name"],
        "hours": summary["hours"],
    }
