"""Great-circle geometry: the yardstick every link distance is checked against."""

from __future__ import annotations

import itertools
import math

EARTH_RADIUS_KM = 6371.0088  # mean radius (IUGG)


def great_circle_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Haversine distance between two points given in degrees."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def path_length_km(points: list[tuple[float, float]] | tuple[tuple[float, float], ...]) -> float:
    """Length of a polyline of (lon, lat) points, as GeoJSON orders them."""
    return sum(great_circle_km(a[1], a[0], b[1], b[0]) for a, b in itertools.pairwise(points))
