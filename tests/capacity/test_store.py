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
