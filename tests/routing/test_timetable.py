from datetime import UTC, datetime

from corridor.routing import Timetable

START = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday


def test_weekly_pattern_expands_to_its_weekday_and_time(network):
    tt = Timetable(network, START, days=28)
    pattern = next(p for p in tt.patterns if p.key == "pbm-batumi-burgas:fwd")
    moments = [tt.moment(h) for h in pattern.departures]
    moments = [m for m in moments if m >= START]
    assert len(moments) == 4
    assert all(m.weekday() == 5 and (m.hour, m.minute) == (8, 0) for m in moments)


def test_dated_sailings_and_return_direction(network):
    tt = Timetable(network, START, days=28)
    outbound = next(p for p in tt.patterns if p.key == "gr-poti-constanta:fwd")
    back = next(p for p in tt.patterns if p.key == "gr-poti-constanta:rev")
    assert [tt.moment(h).day for h in outbound.departures if h >= 0] == [11, 21]
    assert [tt.moment(h).day for h in back.departures if h >= 0] == [6, 16, 26]
    # A sailing that left before the window is kept while it is still at sea in it (120 h crossing).
    assert [tt.moment(h).date().isoformat() for h in back.departures if h < 0] == ["2026-02-26"]
    assert back.stops == ("constanta_port", "poti_port")


def test_multi_stop_service_times_follow_link_speeds_and_border_dwell(network):
    tt = Timetable(network, START, days=7)
    p = next(p for p in tt.patterns if p.key == "cr-xian-alashankou:fwd")
    xian_lanzhou = network.links["xian-lanzhou"]
    assert p.arrive[1] == xian_lanzhou.distance_km / xian_lanzhou.speed_kmh
    assert p.depart[1] == p.arrive[1] + 2  # stop_dwell_h
    assert p.capacity_teu == 110


def test_booking_moves_cargo_to_the_next_departure(network):
    tt = Timetable(network, START, days=14)
    p = next(p for p in tt.patterns if p.key == "asco-aktau-alat-feeder:fwd")
    first = tt.next_trip(p, 0, 0.0, 10)
    tt.book(p.key, first, p.capacity_teu - 5)
    assert tt.next_trip(p, 0, 0.0, 10) == first + 1
    assert tt.next_trip(p, 0, 0.0, 5) == first


def test_generic_trains_leave_every_headway(network):
    # kars-erzurum: one train a day (headway 24 h) from the default first departure at 06:00.
    tt = Timetable(network, START, days=2)
    link = network.links["kars-erzurum"]
    assert tt.settings.generic_first_departure_h == 6.0
    assert tt.next_generic_departure(link, 0.0) == 6.0
    assert tt.next_generic_departure(link, 6.0) == 6.0
    assert tt.next_generic_departure(link, 6.5) == 30.0


def test_trucks_leave_when_the_cargo_is_ready(network):
    tt = Timetable(network, START, days=2)
    road = next(lk for lk in network.links.values() if lk.mode == "road")
    assert tt.next_generic_departure(road, 7.25) == 7.25
