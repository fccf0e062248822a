from datetime import UTC, datetime

import pytest

from corridor.routing import Cargo, ContainerType, RoutingError, make_query, resolve_place

READY = datetime(2026, 3, 3, tzinfo=UTC)


@pytest.mark.parametrize("text", ["xian", "Xi'an", "XIAN", "CNXIY", "xi an"])
def test_places_resolve_by_id_name_or_unlocode(network, text):
    assert resolve_place(network, text) == "xian"


def test_unknown_place_suggests_close_matches(network):
    with pytest.raises(RoutingError) as caught:
        resolve_place(network, "Duisbrug", "destination")
    assert caught.value.field == "destination"
    assert "unknown place 'Duisbrug'" in caught.value.reason
    assert "duisburg" in caught.value.reason


def test_same_origin_and_destination(network):
    with pytest.raises(RoutingError) as caught:
        make_query(network, origin="Baku", destination="baku", ready=READY)
    assert caught.value.field == "destination"
    assert "same place" in caught.value.reason


def test_negative_or_zero_cargo(network):
    with pytest.raises(RoutingError) as caught:
        make_query(
            network, origin="xian", destination="duisburg", ready=READY, cargo={"containers": -3}
        )
    assert caught.value.field == "cargo.containers"
    assert "greater than 0" in caught.value.reason


def test_unknown_country_and_avoided_endpoint(network):
    with pytest.raises(RoutingError, match="unknown country code"):
        make_query(
            network, origin="xian", destination="duisburg", ready=READY, avoid_countries={"XX"}
        )
    with pytest.raises(RoutingError) as caught:
        make_query(
            network, origin="xian", destination="duisburg", ready=READY, avoid_countries={"de"}
        )
    assert caught.value.field == "destination"


def test_latest_arrival_before_ready(network):
    with pytest.raises(RoutingError) as caught:
        make_query(
            network,
            origin="xian",
            destination="duisburg",
            ready=READY,
            latest_arrival=datetime(2026, 3, 1, tzinfo=UTC),
        )
    assert caught.value.field == "latest_arrival"


def test_cargo_teu_and_default_mass():
    cargo = Cargo(containers=40, container_type=ContainerType.C40)
    assert cargo.teu == 80
    assert cargo.mass_t == 800
    assert Cargo(containers=3, container_type="20GP", tonnes=45).mass_t == 45
