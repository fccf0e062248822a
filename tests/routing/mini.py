"""A small hand-made network whose answers can be worked out on paper.

    o (KZ) --rail 200 km @ 50 km/h, daily 06:00--> p (KZ port) ==ferry Mon/Thu 12:00, 20 h==> q (AZ port)
    q --rail 100 km @ 50 km/h, daily 06:00--> d (AZ)
    o --road 600 km @ 50 km/h, border 24 h--> d

Transshipment: 10 h at p, 5 h at q. Tariffs per TEU: rail 100 + 50, ferry 500, road 3000.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from corridor.network.geo import great_circle_km

NODES = {
    # id: (country, lat, lon, kind)
    "o": ("KZ", 43.0, 52.0, "rail_terminal"),
    "p": ("KZ", 43.0, 51.0, "sea_port"),
    "q": ("AZ", 40.0, 49.5, "sea_port"),
    "d": ("AZ", 40.5, 48.5, "rail_terminal"),
}


def _write(path: Path, rows: list[dict[str, object]]) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def link(id_: str, a: str, b: str, mode: str, **kw: object) -> dict[str, object]:
    row: dict[str, object] = {
        "id": id_,
        "from": a,
        "to": b,
        "mode": mode,
        "gauge_mm": "",
        "operator": "op",
        "vehicle": "",
        "vehicle_source": "",
        "speed_kmh": "",
        "speed_source": "",
        "headway_h": "",
        "headway_source": "",
        "tariff_usd": "",
        "tariff_unit": "",
        "tariff_source": "",
        "dangerous_goods": "yes",
    }
    row.update(kw)
    return row


def build(
    directory: Path,
    *,
    extra_links: list[dict[str, object]] | None = None,
    extra_nodes: dict[str, tuple[str, float, float, str]] | None = None,
    distances: dict[str, float] | None = None,
    ferry_capacity: int = 10,
    road_od: bool = True,
) -> Path:
    nodes = {**NODES, **(extra_nodes or {})}
    directory.mkdir(parents=True, exist_ok=True)
    _write(
        directory / "sources.csv",
        [
            {
                "id": "test",
                "kind": "estimate",
                "organisation": "",
                "title": "",
                "year": "",
                "url": "",
                "note": "figures made up for a test network",
            },
        ],
    )
    _write(
        directory / "nodes.csv",
        [
            {
                "id": k,
                "name": k.upper(),
                "country": c,
                "lat": la,
                "lon": lo,
                "kind": kd,
                "gauge_mm": 1520,
                "unlocode": "",
                "source": "test",
            }
            for k, (c, la, lo, kd) in nodes.items()
        ],
    )
    rail = {
        "gauge_mm": 1520,
        "vehicle": "rail_diesel",
        "vehicle_source": "test",
        "speed_kmh": 50,
        "speed_source": "test",
        "headway_h": 24,
        "headway_source": "test",
        "tariff_unit": "teu",
        "tariff_source": "test",
    }
    links = [
        link("o-p", "o", "p", "rail", **rail, tariff_usd=100),
        link("p-q", "p", "q", "ferry", tariff_usd=500, tariff_unit="teu", tariff_source="test"),
        link("q-d", "q", "d", "rail", **rail, tariff_usd=50),
        *(extra_links or []),
    ]
    if road_od:
        links.append(
            link(
                "o-d",
                "o",
                "d",
                "road",
                vehicle="truck_40t",
                vehicle_source="test",
                speed_kmh=50,
                speed_source="test",
                tariff_usd=3000,
                tariff_unit="teu",
                tariff_source="test",
            )
        )
    _write(directory / "links.csv", links)
    km = {"o-p": 200.0, "p-q": 400.0, "q-d": 100.0, "o-d": 600.0, **(distances or {})}
    features = []
    for row in links:
        a, b = nodes[str(row["from"])], nodes[str(row["to"])]
        assert km[str(row["id"])] >= great_circle_km(a[1], a[2], b[1], b[2]) * 0.97 - 2
        features.append(
            {
                "type": "Feature",
                "properties": {
                    "link": row["id"],
                    "distance_km": km[str(row["id"])],
                    "method": "test",
                },
                "geometry": {"type": "LineString", "coordinates": [[a[2], a[1]], [b[2], b[1]]]},
            }
        )
    (directory / "link_geometry.geojson").write_text(
        json.dumps({"type": "FeatureCollection", "features": features})
    )
    _write(
        directory / "services.csv",
        [
            {
                "id": "fer",
                "name": "Test ferry",
                "operator": "ferryco",
                "mode": "ferry",
                "vehicle": "ropax_ferry",
                "stops": "p;q",
                "weekdays": "Mon Thu",
                "departure_time": "12:00",
                "both_directions": "yes",
                "duration_h": 20,
                "stop_dwell_h": "",
                "capacity_teu": ferry_capacity,
                "capacity_wagons": "",
                "source": "test",
            },
        ],
    )
    _write(
        directory / "sailings.csv",
        [
            {
                "service": "fer",
                "departure": "2026-03-07T09:00",
                "from": "p",
                "capacity_teu": "",
                "source": "test",
            },
        ],
    )
    _write(
        directory / "crossings.csv",
        [
            {
                "id": "x-pq",
                "name": "Sea border",
                "kind": "border",
                "at": "p-q",
                "dwell_h": 0,
                "dwell_min_h": 0,
                "dwell_max_h": 0,
                "gauge_change": "",
                "office_a": "P customs",
                "office_b": "Q customs",
                "source": "test",
            },
            *(
                [
                    {
                        "id": "x-od",
                        "name": "Road border",
                        "kind": "border",
                        "at": "o-d",
                        "dwell_h": 24,
                        "dwell_min_h": 2,
                        "dwell_max_h": 48,
                        "gauge_change": "",
                        "office_a": "O customs",
                        "office_b": "D customs",
                        "source": "test",
                    }
                ]
                if road_od
                else []
            ),
            {
                "id": "t-p",
                "name": "Port P",
                "kind": "transshipment",
                "at": "p",
                "dwell_h": 10,
                "dwell_min_h": 5,
                "dwell_max_h": 20,
                "gauge_change": "",
                "office_a": "",
                "office_b": "",
                "source": "test",
            },
            {
                "id": "t-q",
                "name": "Port Q",
                "kind": "transshipment",
                "at": "q",
                "dwell_h": 5,
                "dwell_min_h": 2,
                "dwell_max_h": 10,
                "gauge_change": "",
                "office_a": "",
                "office_b": "",
                "source": "test",
            },
        ],
    )
    _write(
        directory / "corridors.csv",
        [
            {
                "id": "by-sea",
                "name": "By sea",
                "family": "middle",
                "via": "p;q",
                "avoid_countries": "",
                "description": "",
                "source": "test",
            },
        ],
    )
    _write(
        directory / "emission_factors.csv",
        [
            {
                "vehicle": "rail_diesel",
                "name": "Diesel train",
                "mode": "rail",
                "g_co2e": 25,
                "per": "tkm",
                "basis": "WTW",
                "distance_factor": 1.0,
                "distance_factor_source": "test",
                "source": "test",
            },
            {
                "vehicle": "truck_40t",
                "name": "Truck",
                "mode": "road",
                "g_co2e": 100,
                "per": "tkm",
                "basis": "WTW",
                "distance_factor": 1.0,
                "distance_factor_source": "test",
                "source": "test",
            },
            {
                "vehicle": "ropax_ferry",
                "name": "Ferry",
                "mode": "ferry",
                "g_co2e": 200,
                "per": "tkm",
                "basis": "WTW",
                "distance_factor": 1.0,
                "distance_factor_source": "test",
                "source": "test",
            },
        ],
    )
    return directory
