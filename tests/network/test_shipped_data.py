"""The shipped dataset against the promises of the foundation issue and against published figures."""

import itertools

from corridor.network import check_dataset
from corridor.network.model import SourceKind


def _path_km(network, *stops):
    total = 0.0
    for a, b in itertools.pairwise(stops):
        (link,) = [lk for lk in network.links_at(a) if {lk.from_node, lk.to_node} == {a, b}]
        total += link.distance_km
    return total


def test_size_and_coverage(network):
    assert len(network.nodes) >= 60
    assert len(network.countries()) >= 12
    for port in (
        "aktau_port",
        "kuryk_port",
        "turkmenbashi_port",
        "alat_port",
        "poti_port",
        "batumi_port",
    ):
        assert network.nodes[port].kind == "sea_port"
    families = {c.family for c in network.corridors.values()}
    assert families == {"middle", "northern", "sea", "southern"}


def test_the_shipped_dataset_has_no_problem(network):
    # Every cross-record check (distances against the great circle, borders, gauges, dwell sides,
    # storm areas) on the files as shipped; test_validate.py shows each check catching its error.
    assert check_dataset(network.directory) == []


def test_published_dwell_is_by_side_and_direction(network):
    # ADB CAREC CPMM: Baku port 68.7 h outbound, 12.4 h inbound (2018); Kazakhstan's rail border
    # 78 h inbound (2022), on top of the Chinese side's 30.5 h at Alashankou.
    alat = network.transshipment_at("alat_port")
    outbound, inbound = alat.dwell_for(inbound=False), alat.dwell_for(inbound=True)
    assert outbound[0] > 4 * inbound[0]
    assert 60 <= outbound[0] <= 68.7 <= outbound[1]
    dostyk = network.border_on("alashankou-dostyk")
    westbound = dostyk.dwell_for(leaving="CN", entering="KZ")
    eastbound = dostyk.dwell_for(leaving="KZ", entering="CN")
    assert westbound[0] > 30.5 + 0.8 * 78  # both sides count
    assert westbound[0] > eastbound[0]


def test_every_figure_has_a_source_or_an_estimate_note(network):
    for link in network.links.values():
        for figure, refs in (
            (link.speed_kmh, link.speed_source),
            (link.tariff_usd, link.tariff_source),
            (link.capacity_year or link.capacity_day, link.capacity_source),
        ):
            if figure is not None:
                assert refs, link.id
                assert all(r in network.sources for r in refs), link.id
    for record in [
        *network.nodes.values(),
        *network.services.values(),
        *network.crossings.values(),
    ]:
        assert record.source
        assert all(r in network.sources for r in record.source)
    for source in network.sources.values():
        if source.kind is SourceKind.ESTIMATE:
            assert len(source.note) > 20
        else:
            assert source.url.startswith("http")


def test_baku_tbilisi_kars_length_matches_published_figures(network):
    # Published line lengths: 826 km (Wikipedia), 846 km (Transport Journal), 849 km (Railway
    # Magazine 2017). Our OSM route runs from Baku station through Tbilisi to Kars.
    km = _path_km(
        network,
        "baku",
        "alat_port",
        "ganja",
        "beyuk_kesik",
        "gardabani",
        "tbilisi",
        "marabda",
        "akhalkalaki",
        "kartsakhi",
        "kars",
    )
    assert 826 * 0.95 <= km <= 849 * 1.12, km


def test_caspian_crossing_matches_the_published_shipping_distance(network):
    # TITR: 508 km of Caspian shipping (silkroute.news issue 511).
    assert abs(network.links["aktau_port-alat_port"].distance_km - 508) / 508 < 0.1


def test_altynkol_to_aktau_matches_ktz(network):
    # KTZ: Altynkol to the port of Aktau is 3,128 km (seanews.ru 2024-03-12).
    km = _path_km(
        network,
        "altynkol",
        "almaty",
        "shu",
        "arys",
        "kyzylorda",
        "saksaulskaya",
        "beyneu",
        "mangyshlak",
        "aktau_port",
    )
    assert abs(km - 3128) / 3128 < 0.1, km


def test_gauge_breaks_are_where_the_corridor_changes_gauge(network):
    assert network.border_on("alashankou-dostyk").gauge_change == (1435, 1520)
    assert network.border_on("horgos-altynkol").gauge_change == (1435, 1520)
    assert network.transshipment_at("akhalkalaki").gauge_change == (1520, 1435)
    assert network.border_on("brest-malaszewicze").gauge_change == (1520, 1435)
