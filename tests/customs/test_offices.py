"""Customs offices from the network's crossing records, and the itinerary of a planned route."""

from __future__ import annotations

import csv

from corridor.customs.offices import OfficeRole, all_offices, border_offices, office_itinerary
from corridor.settings import PACKAGE_DATA_DIR
from tests.store.customs_world import planned


def test_each_border_crossing_gives_one_office_on_each_side(network):
    with (PACKAGE_DATA_DIR / "crossings.csv").open(newline="") as handle:
        rows = {r["at"]: r for r in csv.DictReader(handle) if r["kind"] == "border"}
    found = border_offices(network)
    assert set(found) == set(rows)
    a, b = found["alashankou-dostyk"]
    assert (a.name, a.country) == ("Alashankou Customs (CN)", "CN")
    assert (b.name, b.country) == ("Dostyk customs post (KZ)", "KZ")
    assert a.id == "alashankou-customs-cn"
    assert "co-dostyk" in all_offices(network)


def test_the_itinerary_lists_departure_borders_and_destination_in_order(network):
    _, itinerary = planned(network)
    stops = office_itinerary(network, itinerary)
    assert [(s.role, s.office.country) for s in stops] == [
        (OfficeRole.DEPARTURE, "KZ"),
        (OfficeRole.EXIT, "KZ"),
        (OfficeRole.ENTRY, "AZ"),
        (OfficeRole.EXIT, "AZ"),
        (OfficeRole.ENTRY, "GE"),
        (OfficeRole.DESTINATION, "GE"),
    ]
    assert stops[0].office.id == "co-dostyk"
    assert stops[-1].office.id == "co-tbilisi"
