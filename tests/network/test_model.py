import pytest
from pydantic import ValidationError

from corridor.network.model import Crossing, Link, Node, Source


def _node(**kw):
    base = dict(
        id="aktau_port",
        name="Port of Aktau",
        country="KZ",
        lat=43.6,
        lon=51.2,
        kind="sea_port",
        source=("est-coord",),
    )
    return Node.model_validate({**base, **kw})


def test_country_codes_are_checked_against_iso_3166():
    assert _node(country="kz").country == "KZ"
    with pytest.raises(ValidationError, match="unknown ISO 3166 alpha-2 country code 'XX'"):
        _node(country="XX")


def test_coordinates_and_gauge_are_range_checked():
    with pytest.raises(ValidationError, match="lat"):
        _node(lat=95)
    with pytest.raises(ValidationError, match="unknown track gauge 1500 mm"):
        _node(gauge_mm=1500)


def test_estimate_must_say_how_it_was_estimated():
    with pytest.raises(ValidationError, match="needs a note"):
        Source(id="est-x", kind="estimate")
    assert Source(id="est-x", kind="estimate", note="distance x rate").note


def test_rail_link_needs_gauge_speed_and_a_source_per_figure():
    base = dict(
        id="a-b",
        from_node="a",
        to_node="b",
        mode="rail",
        gauge_mm=1520,
        speed_kmh=40,
        speed_source=("est",),
        vehicle="rail_diesel",
    )
    assert Link.model_validate(base).gauge_mm == 1520
    with pytest.raises(ValidationError, match="gauge"):
        Link.model_validate({**base, "gauge_mm": None})
    with pytest.raises(ValidationError, match="tariff_source"):
        Link.model_validate({**base, "tariff_usd": 100, "tariff_unit": "teu"})
    with pytest.raises(ValidationError, match="unit"):
        Link.model_validate({**base, "capacity_day": 10, "capacity_source": ("est",)})
    with pytest.raises(ValidationError, match="two different nodes"):
        Link.model_validate({**base, "to_node": "a"})


def test_running_time_follows_distance_and_speed():
    link = Link(
        id="a-b",
        from_node="a",
        to_node="b",
        mode="rail",
        gauge_mm=1520,
        speed_kmh=40,
        speed_source=("est",),
        vehicle="rail_diesel",
        distance_km=1000,
    )
    assert link.running_time_h == 25


def test_crossing_dwell_range_and_offices():
    base = dict(
        id="x",
        name="X",
        kind="border",
        at="a-b",
        dwell_h=5,
        dwell_min_h=1,
        dwell_max_h=9,
        office_a="A",
        office_b="B",
        source=("est",),
    )
    assert Crossing.model_validate(base).dwell_h == 5
    with pytest.raises(ValidationError, match="within dwell_min_h"):
        Crossing.model_validate({**base, "dwell_h": 10})
    with pytest.raises(ValidationError, match="customs office on each side"):
        Crossing.model_validate({**base, "office_b": ""})
