import math

import pytest

from corridor.network.geo import EARTH_RADIUS_KM, great_circle_km, path_length_km


def test_one_degree_of_longitude_on_the_equator():
    assert great_circle_km(0, 0, 0, 1) == pytest.approx(2 * math.pi * EARTH_RADIUS_KM / 360)


def test_quarter_meridian_is_a_quarter_of_the_circumference():
    assert great_circle_km(0, 10, 90, 10) == pytest.approx(math.pi * EARTH_RADIUS_KM / 2)


def test_path_length_adds_segments_and_takes_lon_lat_order():
    # (lon, lat) as in GeoJSON: two one-degree steps east along the equator.
    assert path_length_km([(0, 0), (1, 0), (2, 0)]) == pytest.approx(
        2 * great_circle_km(0, 0, 0, 1)
    )
    assert path_length_km([(5, 5)]) == 0
