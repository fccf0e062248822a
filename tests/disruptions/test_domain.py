"""Notices on the shipped network: validation, ownership, effects and the closed-days history."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from corridor.disruptions import (
    DisruptionError,
    ElementRef,
    Notice,
    NoticeDraft,
    NoticeStatus,
    Publisher,
    SubscriptionFilter,
    affected_legs,
    atom_feed,
    cap_alert,
    capacity_factor,
    check_amendment,
    check_draft,
    closed_days,
    closures_of,
    matches,
    may_publish,
    port_operators,
)
from corridor.disruptions.feeds import CAP
from corridor.routing import Criterion, best, make_query, planner_for

T0 = datetime(2026, 3, 10, tzinfo=UTC)
AKTAU = ElementRef(kind="node", id="aktau_port")


def draft(**kw) -> NoticeDraft:
    fields = {
        "kind": "closure",
        "severity": "major",
        "elements": [{"kind": "node", "id": "aktau_port"}],
        "starts_at": T0,
        "expected_end": T0 + timedelta(days=3),
        "texts": {"en": "Storm: port closed", "ru": "Шторм: порт закрыт"},
    }
    fields.update(kw)
    return NoticeDraft.model_validate(fields)


def notice(version: int = 1, status: str = "active", **kw) -> Notice:
    d = draft(**kw)
    return Notice(
        **d.model_dump(),
        id="n1",
        issuer_org="aktau-port",
        issuer_name="Aktau International Sea Trade Port",
        status=status,
        version=version,
        created_at=T0 - timedelta(hours=1),
        updated_at=T0 - timedelta(hours=1),
    )


def test_an_unknown_element_is_named_with_a_suggestion(network):
    with pytest.raises(DisruptionError) as caught:
        check_draft(draft(elements=[{"kind": "node", "id": "aktau_prt"}]), network)
    assert caught.value.field == "elements.0"
    assert "node:aktau_port" in caught.value.reason


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"expected_end": T0 - timedelta(hours=1)}, "expected_end"),
        ({"kind": "reduced_capacity"}, "capacity_factor"),
        ({"kind": "equeue_limit"}, "equeue_limit_per_day"),
        ({"texts": {"english": "x"}}, "texts"),
        ({"capacity_factor": 1.5}, "capacity_factor"),
        ({"elements": []}, "elements"),
        ({"starts_at": datetime(1999, 1, 1, tzinfo=UTC)}, "starts_at"),
    ],
)
def test_bad_drafts_name_the_field(change, field):
    with pytest.raises(ValidationError) as caught:
        draft(**change)
    assert field in str(caught.value)


def test_a_closed_notice_cannot_be_amended():
    with pytest.raises(DisruptionError) as caught:
        check_amendment(notice(status="closed"), draft())
    assert caught.value.code == "conflict"


def test_ownership_follows_who_runs_the_element(network):
    ports = port_operators()
    port = Publisher(
        organisation_id="p", kind="carrier", operators=frozenset({ports["aktau_port"]})
    )
    asco = Publisher(organisation_id="a", kind="carrier", operators=frozenset({"ASCO"}))
    customs_kz = Publisher(organisation_id="c", kind="customs", country="KZ")
    customs_ge = Publisher(organisation_id="g", kind="customs", country="GE")
    forwarder = Publisher(organisation_id="f", kind="forwarder")
    ferry = ElementRef(kind="service", id="asco-aktau-alat-ferry")
    dostyk = ElementRef(kind="crossing", id="x-dostyk")
    assert may_publish(port, AKTAU, network, ports)
    assert not may_publish(port, ElementRef(kind="node", id="alat_port"), network, ports)
    assert may_publish(asco, ferry, network, ports)
    assert not may_publish(asco, AKTAU, network, ports)
    assert may_publish(customs_kz, dostyk, network, ports)
    assert not may_publish(customs_ge, dostyk, network, ports)
    assert not may_publish(forwarder, AKTAU, network, ports)
    admin = Publisher(organisation_id="x", kind="admin")
    assert may_publish(admin, dostyk, network, ports)


def test_every_port_operator_row_names_a_port_and_a_source(network):
    import csv

    from corridor.disruptions.rules import PORT_OPERATORS_FILE

    with PORT_OPERATORS_FILE.open() as handle:
        rows = list(csv.DictReader(handle))
    assert rows
    for row in rows:
        assert network.nodes[row["node"]].kind in ("sea_port", "dry_port", "rail_terminal")
        assert row["source"] in network.sources


def test_a_border_crossing_closes_its_link_and_warnings_close_nothing(network):
    closed = closures_of([notice(elements=[{"kind": "crossing", "id": "x-aktau-alat"}])], network)
    assert [(c.kind, c.id) for c in closed] == [("link", "aktau_port-alat_port")]
    assert closed[0].end == T0 + timedelta(days=3)
    assert closures_of([notice(kind="weather_warning")], network) == ()


def test_capacity_left_is_the_lowest_announced_share_and_zero_when_closed():
    reduced = notice(kind="reduced_capacity", capacity_factor=0.6)
    assert capacity_factor([reduced], AKTAU, T0 + timedelta(hours=1)) == 0.6
    assert capacity_factor([reduced], AKTAU, T0 + timedelta(days=4)) == 1.0
    assert capacity_factor([reduced, notice()], AKTAU, T0 + timedelta(hours=1)) == 0.0


def test_closed_days_count_overlaps_once_and_clip_to_the_year():
    jan = datetime(2026, 1, 10, tzinfo=UTC)
    a = notice(starts_at=jan, expected_end=jan + timedelta(days=4))  # 10-14 Jan
    b = notice(starts_at=jan + timedelta(days=2), expected_end=jan + timedelta(days=10))  # 12-20
    c = notice(
        starts_at=datetime(2025, 12, 30, tzinfo=UTC), expected_end=datetime(2026, 1, 2, tzinfo=UTC)
    )
    warning = notice(kind="weather_warning", starts_at=jan, expected_end=jan + timedelta(days=30))
    days = closed_days([a, b, c, warning], 2026, now=datetime(2026, 6, 1, tzinfo=UTC))
    assert days == {"node:aktau_port": 10 + 1}
    assert closed_days([c], 2025, now=datetime(2026, 6, 1, tzinfo=UTC)) == {"node:aktau_port": 2}


def test_a_storm_at_aktau_hits_the_plan_and_the_planner_goes_round_it(network):
    query = make_query(network, origin="aktau_port", destination="alat_port", ready=T0)
    planner = planner_for(network, query)
    plain = best(planner, query, Criterion.TIME)
    storm = notice(starts_at=plain.departure - timedelta(hours=1))
    assert affected_legs(plain, [storm], network)
    rerouted = best(
        planner,
        query.model_copy(update={"closures": closures_of([storm], network)}),
        Criterion.TIME,
    )
    assert not affected_legs(rerouted, [storm], network)
    assert rerouted.arrival > plain.arrival


def test_subscription_filters(network):
    storm = notice()
    assert matches(SubscriptionFilter(), storm, network)
    assert matches(SubscriptionFilter(countries=frozenset({"KZ"})), storm, network)
    assert not matches(SubscriptionFilter(countries=frozenset({"GE"})), storm, network)
    assert matches(SubscriptionFilter(corridors=frozenset({"middle-aktau-btk"})), storm, network)
    assert not matches(SubscriptionFilter(min_severity="severe"), storm, network)
    assert not matches(
        SubscriptionFilter(elements=(ElementRef(kind="node", id="poti_port"),)), storm, network
    )


def test_atom_and_cap_documents(network):
    amended = notice(version=2)
    feed = ET.fromstring(atom_feed([notice(), amended], network, "http://corridor.test"))
    entries = feed.findall("{http://www.w3.org/2005/Atom}entry")
    assert len(entries) == 2
    assert "Port of Aktau" in entries[0].findtext("{http://www.w3.org/2005/Atom}title")
    alert = ET.fromstring(cap_alert(amended, network))
    assert alert.findtext(f"{{{CAP}}}msgType") == "Update"
    assert alert.findtext(f"{{{CAP}}}sent").endswith("-00:00")
    infos = alert.findall(f"{{{CAP}}}info")
    assert [i.findtext(f"{{{CAP}}}language") for i in infos] == ["en", "ru"]
    assert infos[0].findtext(f"{{{CAP}}}severity") == "Severe"
    assert infos[1].findtext(f"{{{CAP}}}description") == "Шторм: порт закрыт"
    circle = infos[0].find(f"{{{CAP}}}area").findtext(f"{{{CAP}}}circle")
    lat, lon = map(float, circle.split()[0].split(","))
    assert (lat, lon) == pytest.approx(
        (network.nodes["aktau_port"].lat, network.nodes["aktau_port"].lon), abs=1e-3
    )
    assert notice(status=NoticeStatus.CLOSED).status == "closed"
