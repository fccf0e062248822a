"""Dispatch board arithmetic: heat map cells, waiting stock from tracking events, port alerts."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from corridor.capacity.dispatch import Line, daily_capacity, heat_map, port_alerts, waiting_at

T0 = datetime(2026, 12, 1, tzinfo=UTC)


def line(day: int, held: int, confirmed: int, capacity: int = 50, name: str = "ferry") -> Line:
    return Line(
        "sailing",
        f"{name}{day}",
        name,
        "ASCO",
        "aktau_port",
        "alat_port",
        T0 + timedelta(days=day, hours=22),
        "wagons",
        capacity,
        held,
        confirmed,
        0,
    )


def test_heat_map_cells_are_load_factors_per_day():
    days = [date(2026, 12, 1) + timedelta(days=i) for i in range(3)]
    hm = heat_map([line(0, 10, 15), line(2, 50, 0)], days)
    assert hm.rows == ["ferry aktau_port>alat_port"]
    assert hm.cells == [[0.5, None, 1.0]]


def test_two_departures_on_a_day_share_a_cell():
    hm = heat_map([line(0, 10, 0), line(0, 0, 40, capacity=150)], [date(2026, 12, 1)])
    assert hm.cells[0][0] == pytest.approx(50 / 200)


def test_waiting_stock_counts_boxes_whose_last_event_is_an_arrival_at_the_port():
    ev = [
        ("a", T0, "arriving", "aktau_port"),
        ("b", T0, "arriving", "aktau_port"),
        ("b", T0 + timedelta(hours=5), "departing", "aktau_port"),
        ("c", T0 + timedelta(hours=1), "arriving", "alat_port"),
        ("d", T0 + timedelta(days=2), "arriving", "aktau_port"),  # in the future of the moment
    ]
    got = waiting_at(ev, T0 + timedelta(hours=6), {"aktau_port", "alat_port", "poti_port"})
    assert got == {"aktau_port": 1, "alat_port": 1, "poti_port": 0}


def test_alert_when_waiting_exceeds_days_of_ferry_capacity():
    lines = [line(d, 0, 0) for d in range(14)]  # 50 wagons a day
    per_day = {"aktau_port": daily_capacity(lines, "aktau_port", 14), "kuryk_port": 0.0}
    assert per_day["aktau_port"] == 50.0
    alerts = port_alerts({"aktau_port": 160, "kuryk_port": 3, "alat_port": 0}, per_day, 3.0)
    assert [(a.port, a.days_of_capacity) for a in alerts] == [
        ("aktau_port", pytest.approx(3.2)),
        ("kuryk_port", float("inf")),
    ]
    assert port_alerts({"aktau_port": 150}, per_day, 3.0) == []
