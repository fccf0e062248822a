"""Holding several legs is all or none, on SQLite and PostgreSQL (store level)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from corridor.capacity import CapacityError, CargoKind
from corridor.capacity.schedule import departures
from corridor.settings import PACKAGE_DATA_DIR
from corridor.store import capacity as store
from corridor.store.accounts import Principal
from corridor.store.capacity_tables import CapBooking, CapSlot
from corridor.store.models import Organisation, OrgKind, User
from corridor.store.network import load_stored_network
from corridor.store.seed import prepare


def _forwarder(session, email: str) -> Principal:
    user = session.scalar(select(User).where(User.email == email))
    org = session.get(Organisation, user.organisation_id)
    return Principal(user.id, email, user.name, org.id, org.name, OrgKind(org.kind), None, "t")


def test_two_legs_are_held_together_or_not_at_all(db):
    prepare(db, PACKAGE_DATA_DIR, demo_shipment=False)
    with db.session() as s:
        network = load_stored_network(s, PACKAGE_DATA_DIR)
    ctx = store.context_for(network)
    now = datetime.now(UTC)
    train = departures(
        network,
        now + timedelta(hours=1),
        now + timedelta(days=8),
        from_node="dostyk",
        services=frozenset({"ktz-dostyk-aktau"}),
    )[0]
    ferry = departures(
        network,
        train.departure + timedelta(days=3),
        now + timedelta(days=20),
        from_node="aktau_port",
        services=frozenset({"asco-aktau-alat-feeder"}),
    )[0]
    legs = [
        store.LegRequest(train.service, "dostyk", train.departure, CargoKind.C40, 5),
        store.LegRequest(ferry.service, "aktau_port", ferry.departure, CargoKind.C40, 5),
    ]
    with db.session() as s, store.committing(s):
        other = _forwarder(s, "other-forwarder@demo.corridor")
        # 225 TEU feeder: 110 boxes of 40 ft take 220, leaving 5 TEU: not enough for 5 boxes.
        filler = store.LegRequest(ferry.service, "aktau_port", ferry.departure, CargoKind.C40, 110)
        store.hold(s, other, ctx, [filler])
    with db.session() as s, pytest.raises(CapacityError) as exc, store.committing(s):
        store.hold(s, _forwarder(s, "forwarder@demo.corridor"), ctx, legs)
    assert (exc.value.code, exc.value.field) == ("full", "departure")
    assert exc.value.detail["next_sailings"]
    with db.session() as s:
        held = dict(s.execute(select(CapSlot.service, CapSlot.held)).all())
        assert held.get(train.service, 0) == 0  # the train leg was taken back with the rest
        assert held[ferry.service] == 220
        assert s.scalar(select(func.count()).select_from(CapBooking)) == 1
    # With room on both, both are held in one group.
    with db.session() as s, store.committing(s):
        rows = store.hold(
            s,
            _forwarder(s, "forwarder@demo.corridor"),
            ctx,
            [
                legs[0],
                store.LegRequest(ferry.service, "aktau_port", ferry.departure, CargoKind.C20, 5),
            ],
        )
    assert len({r.group_id for r in rows}) == 1
    assert sorted(r.units for r in rows) == [5, 10]


def test_notices_reduce_and_close_capacity(db):
    """A draught notice leaves its share of the ferry's capacity; a storm closure leaves none."""
    from corridor.disruptions import NoticeDraft
    from corridor.store import disruptions as notices

    prepare(db, PACKAGE_DATA_DIR, demo_shipment=False)
    with db.session() as s:
        network = load_stored_network(s, PACKAGE_DATA_DIR)
    ctx = store.context_for(network)
    now = datetime.now(UTC)
    ferry = departures(
        network,
        now + timedelta(hours=1),
        now + timedelta(days=20),
        from_node="aktau_port",
        services=frozenset({"asco-aktau-alat-feeder"}),
    )[0]

    def draft(kind: str, factor: float | None = None) -> NoticeDraft:
        return NoticeDraft.model_validate(
            {
                "kind": kind,
                "severity": "major",
                "elements": [{"kind": "service", "id": ferry.service}],
                "starts_at": ferry.departure - timedelta(hours=2),
                "expected_end": ferry.departure + timedelta(hours=2),
                "texts": {"en": "Low water at Alat"},
                "capacity_factor": factor,
            }
        )

    with db.session() as s, store.committing(s):
        admin = s.scalar(select(User).where(User.email == "admin@demo.corridor"))
        reduced = notices.publish(
            s, admin.organisation_id, admin.id, draft("reduced_capacity", 0.6)
        )
    # 225 TEU at 60 % leaves 135 TEU: 67 boxes of 40 ft (134 TEU) fit, one more does not.
    leg = store.LegRequest(ferry.service, "aktau_port", ferry.departure, CargoKind.C40, 67)
    with db.session() as s, store.committing(s):
        store.hold(s, _forwarder(s, "forwarder@demo.corridor"), ctx, [leg])
    one_more = store.LegRequest(ferry.service, "aktau_port", ferry.departure, CargoKind.C40, 1)
    with db.session() as s, pytest.raises(CapacityError) as exc, store.committing(s):
        store.hold(s, _forwarder(s, "other-forwarder@demo.corridor"), ctx, [one_more])
    assert exc.value.code == "full"
    # The line lifts the limit and a storm closes the sailing outright.
    with db.session() as s, store.committing(s):
        notices.close(s, reduced.id, 1, ferry.departure - timedelta(hours=1), admin.id)
        notices.publish(s, admin.organisation_id, admin.id, draft("closure"))
    with db.session() as s, pytest.raises(CapacityError) as exc, store.committing(s):
        store.hold(s, _forwarder(s, "other-forwarder@demo.corridor"), ctx, [one_more])
    assert "closed by a disruption notice" in exc.value.reason
    assert "Low water at Alat" in exc.value.reason


def test_a_notice_on_a_rail_border_crossing_reduces_or_closes_its_train_paths(db):
    """Beyuk Kesik passes 10 trains a day (crossings.csv); at 50 % it passes 5; closed, none."""
    from corridor.capacity.crossings import CrossingPass
    from corridor.disruptions import NoticeDraft
    from corridor.store import disruptions as notices

    prepare(db, PACKAGE_DATA_DIR, demo_shipment=False)
    with db.session() as s:
        network = load_stored_network(s, PACKAGE_DATA_DIR)
    ctx = store.context_for(network)
    passes_at = (datetime.now(UTC) + timedelta(days=3)).replace(hour=12, minute=0)
    train = CrossingPass("x-beyuk-kesik", "Beyuk Kesik - Gardabani", "a", "b", passes_at)

    def draft(kind: str, factor: float | None = None) -> NoticeDraft:
        return NoticeDraft.model_validate(
            {
                "kind": kind,
                "severity": "major",
                "elements": [{"kind": "crossing", "id": "x-beyuk-kesik"}],
                "starts_at": passes_at - timedelta(hours=6),
                "expected_end": passes_at + timedelta(hours=6),
                "texts": {"en": "Track works at Gardabani"},
                "capacity_factor": factor,
            }
        )

    def book(email: str) -> None:
        with db.session() as s, store.committing(s):
            store.hold_slots(s, _forwarder(s, email), ctx, [], crossings=[train])

    with db.session() as s, store.committing(s):
        admin = s.scalar(select(User).where(User.email == "admin@demo.corridor"))
        reduced = notices.publish(
            s, admin.organisation_id, admin.id, draft("reduced_capacity", 0.5)
        )
    for _ in range(5):
        book("forwarder@demo.corridor")
    with pytest.raises(CapacityError) as exc:
        book("other-forwarder@demo.corridor")
    assert (exc.value.code, exc.value.field) == ("full", "crossing")
    assert "Beyuk Kesik - Gardabani (x-beyuk-kesik)" in exc.value.reason
    with db.session() as s, store.committing(s):
        notices.close(s, reduced.id, 1, passes_at - timedelta(hours=7), admin.id)
    book("other-forwarder@demo.corridor")  # the limit is lifted: a sixth path
    with db.session() as s, store.committing(s):
        notices.publish(s, admin.organisation_id, admin.id, draft("closure"))
    with pytest.raises(CapacityError) as exc:
        book("other-forwarder@demo.corridor")
    assert "closed on" in exc.value.reason
    assert "Track works at Gardabani" in exc.value.reason
    with db.session() as s:
        assert s.scalar(select(CapSlot.held).where(CapSlot.kind == "crossing")) == 6


def test_one_leg_is_held_with_its_booking_and_board_event_in_one_statement(db):
    """hold_one: the booking and the board's event are written with the counters the hold left;
    on PostgreSQL a hold on a slot with room is one statement (no BEGIN/COMMIT of its own), on
    SQLite one short transaction;
    a full sailing, a notice or a waitlist go the transactional way and leave nothing half-written."""
    from sqlalchemy import event

    from corridor.disruptions import NoticeDraft
    from corridor.store import disruptions as notices
    from corridor.store.capacity_tables import CapEvent

    prepare(db, PACKAGE_DATA_DIR, demo_shipment=False)
    with db.session() as s:
        network = load_stored_network(s, PACKAGE_DATA_DIR)
        me = _forwarder(s, "forwarder@demo.corridor")
        admin = s.scalar(select(User).where(User.email == "admin@demo.corridor"))
    ctx = store.context_for(network)
    now = datetime.now(UTC)
    ferry = departures(
        network,
        now + timedelta(hours=1),
        now + timedelta(days=20),
        from_node="aktau_port",
        services=frozenset({"asco-aktau-alat-feeder"}),
    )[0]

    def leg(boxes: int) -> store.LegRequest:
        return store.LegRequest(ferry.service, "aktau_port", ferry.departure, CargoKind.C40, boxes)

    def hold(boxes: int, waitlist: bool = False) -> store.Held:
        with db.session(write=True) as s:
            return store.hold_one(s, me, ctx, leg(boxes), waitlist=waitlist)

    first = hold(10)  # the first hold of a departure creates its slot row
    statements: list[str] = []

    def seen(_conn, _cursor, statement, *_):
        statements.append(statement.split()[0].upper())

    event.listen(db.engine, "before_cursor_execute", seen)
    commits: list[int] = []
    count_commits = lambda _conn: commits.append(1)  # noqa: E731
    event.listen(db.engine, "commit", count_commits)
    try:
        second = hold(100)
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
        event.remove(db.engine, "commit", count_commits)
    if db.dialect == "postgresql":
        assert (statements, commits) == (["WITH"], []), statements
    else:  # one short transaction, no session
        assert (statements, commits) == (["BEGIN", "UPDATE", "INSERT", "INSERT"], [1]), statements
    assert (first.slot.capacity, first.slot.held) == (225, 20)
    assert (second.slot.held, second.booking.units, second.booking.state) == (220, 200, "held")
    assert second.booking.expires_at is not None
    assert second.booking.expires_at > now
    with db.session() as s:
        rows = s.execute(select(CapBooking.id, CapBooking.units, CapBooking.expires_at)).all()
        assert sorted(r.units for r in rows) == [20, 200]
        assert {r.id for r in rows} == {first.booking.id, second.booking.id}
        bodies = [e.body for e in s.scalars(select(CapEvent).where(CapEvent.kind == "held")).all()]
        assert bodies == [
            {"slot": first.slot.id, "capacity": 225, "held": 20, "confirmed": 0},
            {"slot": first.slot.id, "capacity": 225, "held": 220, "confirmed": 0},
        ]
        assert s.scalar(select(CapSlot.held).where(CapSlot.id == first.slot.id)) == 220

    # Full (5 TEU left, 3 boxes need 6): 409 with the next sailings; nothing written.
    with pytest.raises(CapacityError) as exc:
        hold(3)
    assert (exc.value.code, exc.value.field) == ("full", "departure")
    assert exc.value.detail["next_sailings"]
    waiting = hold(3, waitlist=True)
    assert waiting.booking.state == "waitlisted"
    # A closure notice on the service refuses the space that is still free.
    with db.session() as s, store.committing(s):
        notices.publish(
            s,
            admin.organisation_id,
            admin.id,
            NoticeDraft.model_validate(
                {
                    "kind": "closure",
                    "severity": "major",
                    "elements": [{"kind": "service", "id": ferry.service}],
                    "starts_at": ferry.departure - timedelta(hours=2),
                    "expected_end": ferry.departure + timedelta(hours=2),
                    "texts": {"en": "Storm"},
                }
            ),
        )
    with pytest.raises(CapacityError) as exc:
        hold(1)
    assert "closed by a disruption notice" in exc.value.reason
    with db.session() as s:
        assert s.scalar(select(CapSlot.held).where(CapSlot.id == first.slot.id)) == 220
        assert s.scalar(select(func.count()).select_from(CapBooking)) == 3  # two held, one waiting
        assert (
            s.scalar(select(func.count()).select_from(CapEvent).where(CapEvent.kind == "held")) == 2
        )
