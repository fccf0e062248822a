"""store.customs directly, on SQLite and PostgreSQL: one declaration per shipment under a burst,
batch lodging under one signed tree head, KPIs, and verification of an untouched log."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import event, func, select

from corridor.customs import ledger
from corridor.customs.declaration import DeclarationBody
from corridor.customs.examples import example_declaration
from corridor.customs.lifecycle import Action
from corridor.customs.trust import PLATFORM
from corridor.store import customs, customs_audit
from corridor.store.customs_tables import CustomsTreeHead
from corridor.store.keys import trust_bundle
from corridor.store.models import CustomsDeclaration, CustomsLogEntry
from tests.store.customs_world import PROFILES, World, build, planned, walk


@pytest.fixture(scope="module")
def route(network):
    return planned(network)


@pytest.fixture
def world(db, network, tmp_path, route) -> World:
    return build(db, network, tmp_path, *route)


def audit(world: World, heads=()):
    with world.db.session() as s:
        return customs_audit.verify(s, trust_bundle(s, world.keys_dir), heads)


def test_a_burst_of_creates_for_one_shipment_has_exactly_one_winner(world):
    (shipment,) = world.book()

    def attempt(i: int) -> str:
        try:
            world.declare(shipment, f"LRN-{i}")
        except customs.CustomsError as exc:
            return exc.code
        return "created"

    with ThreadPoolExecutor(50) as pool:
        outcomes = list(pool.map(attempt, range(50)))
    assert outcomes.count("created") == 1
    assert outcomes.count("conflict") == 49
    with world.db.session() as s:
        count = s.scalar(select(func.count()).select_from(CustomsDeclaration))
    assert count == 1
    report = audit(world)
    assert report.ok, report.reason
    assert report.records == 2  # the winner's draft and lodge


def test_batch_lodging_is_one_append_under_one_signed_tree_head(world):
    ids = world.book(12)
    bodies = [DeclarationBody.model_validate(example_declaration(f"B-{i}")) for i in range(12)]
    statements: list[str] = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(world.db.engine, "before_cursor_execute", listener)
    with world.db.write_session() as s:
        rows = customs.create_many(
            s,
            world.forwarder,
            world.network,
            world.keys_dir,
            PROFILES,
            [customs.NewDeclaration(sid, b) for sid, b in zip(ids, bodies, strict=True)],
        )
    event.remove(world.db.engine, "before_cursor_execute", listener)
    assert [r.shipment_id for r in rows] == ids
    assert {r.state for r in rows} == {"lodged"}
    # The statement count does not grow with the batch: reads, one insert per table, the head.
    assert len(statements) < 20, statements
    with world.db.session() as s:
        records = s.scalars(select(CustomsLogEntry).order_by(CustomsLogEntry.seq)).all()
        head = customs.tree_head(s)
        bundle = trust_bundle(s, world.keys_dir)
    assert len(records) == 24
    # One tree head for the batch: its root is the RFC 9162 hash of every record, and the
    # platform (log operator) signed it with the pinned key.
    assert head.head.size == 24
    assert head.head.root == ledger.merkle_root([r.record_hash for r in records])
    (sig,) = head.signatures
    assert sig.authority == PLATFORM
    assert ledger.head_signature_ok(bundle.public_keys()[sig.key_id], head.head, sig.signature)
    # Still one signature per record, naming its signer.
    assert {r.body["signer"] for r in records} == {PLATFORM}
    assert len({r.signature for r in records}) == 24


def test_a_batch_is_all_or_nothing_and_names_the_item(world):
    ids = world.book(3)
    world.declare(ids[1])
    body = DeclarationBody.model_validate(example_declaration("B"))
    with world.db.write_session() as s, pytest.raises(customs.CustomsError) as caught:
        customs.create_many(
            s,
            world.forwarder,
            world.network,
            world.keys_dir,
            PROFILES,
            [customs.NewDeclaration(sid, body) for sid in ids],
        )
    assert (caught.value.code, caught.value.field) == ("conflict", "declarations.1.shipment_id")
    with world.db.session() as s:
        assert s.scalar(select(func.count()).select_from(CustomsDeclaration)) == 1
        assert s.get(CustomsTreeHead, 1).size == 2


def test_full_transit_verifies_and_kpis_come_from_the_log(world):
    decl = world.declare(world.book()[0])
    walk(world, decl)
    with world.db.session() as s:
        row = s.get(CustomsDeclaration, decl.id)
        assert (row.state, row.guarantee_state) == ("discharged", "released")
        entry = decl.offices["stops"][2]["office"]["id"]
        kpis = customs.kpis(s, entry)
    assert kpis["released"] == 1
    assert kpis["share_green"] == 1.0
    report = audit(world)
    assert report.ok, report.reason
    assert (report.records, report.declarations) == (2 + 12, 1)


def test_an_authority_acts_only_in_its_country_and_the_guarantee_follows_the_duty_rate(world):
    decl = world.declare(world.book()[0])
    departure = decl.offices["stops"][0]["office"]["id"]
    with pytest.raises(customs.CustomsError) as caught:
        world.act(decl.id, "AZ", Action.ACCEPT, departure)
    assert caught.value.code == "forbidden"
    # A duty rate of 30 % in Kazakhstan puts USD 12,000 at risk on USD 40,000 of furniture:
    # the USD 10,000 guarantee no longer covers it.
    strict = {"KZ": customs.rules.DutyRate("KZ", 0.22, 0.08, "test")}
    with world.db.write_session() as s, pytest.raises(customs.CustomsError) as caught:
        customs.act(
            s,
            world.officers["KZ"],
            world.keys_dir,
            PROFILES,
            decl.id,
            Action.ACCEPT,
            departure,
            {},
            strict,
        )
    assert caught.value.field == "guarantee.amount"
    assert "duties at risk 12,000.00 (30% of the declared value in KZ)" in caught.value.reason
    assert world.act(decl.id, "KZ", Action.ACCEPT, departure).guarantee_state == "held"


def test_workers_creating_the_same_key_at_once_all_sign_with_one_key(tmp_path):
    from corridor.store.keys import _load_or_create

    path = tmp_path / "keys" / "kz-ed25519.pem"
    with ThreadPoolExecutor(16) as pool:
        keys = list(pool.map(lambda _: _load_or_create(path), range(16)))
    publics = {k.public_key().public_bytes_raw() for k in keys}
    assert len(publics) == 1
    assert [p.name for p in path.parent.iterdir()] == ["kz-ed25519.pem"]
    assert path.stat().st_mode & 0o777 == 0o600
