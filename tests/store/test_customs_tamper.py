"""A database-level attacker against the customs log: every tampering of issue 9 and more.

One log is built per database; each tampering runs inside a transaction that is rolled back
after ``verify`` has looked at it, so every case starts from the same untouched log. The trust
bundle and the heads file are taken before the attack: they are what the authorities hold
outside the database. Each case says which record ``verify`` must name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.orm import Session

from corridor.customs import ledger
from corridor.customs.trust import PLATFORM
from corridor.store import customs, customs_audit
from corridor.store.customs_tables import CustomsCosignedHead, CustomsTreeHead
from corridor.store.keys import trust_bundle
from corridor.store.models import (
    CustomsDeclaration,
    CustomsKey,
    CustomsLogEntry,
    CustomsLogHead,
)
from tests.store.customs_world import build, planned, walk


@dataclass
class Log:
    world: Any
    full: str  # the declaration that went all the way (records 1-14)
    partial: str  # lodged and accepted (records 15-17)
    bundle: Any
    held: list[ledger.SignedHead]  # the heads file an authority kept
    keys: dict[str, Ed25519PrivateKey]  # every private key: the worst case for the defender
    org: dict[str, str]  # country -> authority id


@pytest.fixture(scope="module")
def route(network):
    return planned(network)


@pytest.fixture
def log(db, network, tmp_path, route) -> Log:
    world = build(db, network, tmp_path, *route)
    a, b = world.book(2)
    full = world.declare(a, "LRN-A")
    walk(world, full)
    partial = world.declare(b, "LRN-B")
    walk(world, partial, steps=1)
    with db.write_session() as s:
        bundle = trust_bundle(s, world.keys_dir)
        cosigned = customs_audit.cosign(
            s, world.keys_dir, world.officers["AZ"].organisation_id, bundle
        )
    keys = {}
    for path in world.keys_dir.glob("*.pem"):
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        assert isinstance(key, Ed25519PrivateKey)
        keys[path.stem] = key
    org = {c: p.organisation_id for c, p in world.officers.items()}
    return Log(world, full.id, partial.id, bundle, [cosigned], keys, org)


def rows(conn: Connection) -> list[dict[str, Any]]:
    return [
        dict(r._mapping)
        for r in conn.execute(select(CustomsLogEntry.__table__).order_by(CustomsLogEntry.seq))
    ]


def resign(
    conn: Connection, records: list[dict[str, Any]], start: int, keys: dict[str, Any]
) -> None:
    """Rewrite records from ``start`` on as an attacker would: new chain, new signatures, new
    head row. ``keys`` maps key ids to the private keys the attacker holds."""
    prev = records[start - 2]["record_hash"] if start > 1 else ledger.GENESIS
    for r in records[start - 1 :]:
        r["prev_hash"] = prev
        r["record_hash"] = ledger.entry_hash(prev, r["body"])
        r["signature"] = ledger.sign(keys[r["key_id"]], r["record_hash"])
        conn.execute(
            update(CustomsLogEntry)
            .where(CustomsLogEntry.seq == r["seq"])
            .values({k: r[k] for k in ("body", "prev_hash", "record_hash", "signature", "key_id")})
        )
        prev = r["record_hash"]
    conn.execute(update(CustomsLogHead).values(seq=records[-1]["seq"], record_hash=prev))


def truncate(conn: Connection, keep: int) -> list[dict[str, Any]]:
    conn.execute(delete(CustomsLogEntry).where(CustomsLogEntry.seq > keep))
    return rows(conn)


def roll_back_heads(conn: Connection, records: list[dict[str, Any]], operator: Any) -> None:
    """Set the head row and the tree head to the truncated log, re-signed with ``operator``
    (a stolen platform key), and delete the cosigned heads kept in the database."""
    conn.execute(
        update(CustomsLogHead).values(seq=len(records), record_hash=records[-1]["record_hash"])
    )
    frontier = ledger.MerkleFrontier()
    for r in records:
        frontier.append(r["record_hash"])
    head = ledger.TreeHead(frontier.size, frontier.root(), 1)
    conn.execute(
        update(CustomsTreeHead).values(
            size=head.size,
            root_hash=head.root,
            frontier=frontier.peaks(),
            timestamp=head.timestamp,
            signature=ledger.sign_head(operator, head),
        )
    )
    conn.execute(delete(CustomsCosignedHead))


def delete_tail_keep_head_row(conn, log):
    truncate(conn, 15)


def delete_tail_and_fix_every_head(conn, log):
    """A thorough attacker: the tail, the head row, the tree head (with the stolen operator
    key), the cosigned heads in the database, and the table, all made to agree."""
    roll_back_heads(conn, truncate(conn, 15), log.keys[f"{PLATFORM}-ed25519"])
    conn.execute(
        update(CustomsDeclaration)
        .where(CustomsDeclaration.id == log.partial)
        .values(state="draft", guarantee_state="registered")
    )


def edit_declaration_state(conn, log):
    conn.execute(
        update(CustomsDeclaration)
        .where(CustomsDeclaration.id == log.partial)
        .values(state="released")
    )


def new_key_reject_under_another_authority(conn, log):
    attacker = Ed25519PrivateKey.generate()
    public = attacker.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    conn.execute(
        insert(CustomsKey).values(
            key_id="attacker-ed25519",
            organisation_id=log.org["AZ"],
            public_key=public.hex(),
            created_at=customs.now(),
        )
    )
    records = rows(conn)
    accept = records[16]  # record 17: KZ accepts declaration B
    accept["body"] = {
        **accept["body"],
        "action": "reject",
        "actor": log.org["AZ"],
        "signer": log.org["AZ"],
    }
    accept["key_id"] = "attacker-ed25519"
    conn.execute(
        update(CustomsDeclaration)
        .where(CustomsDeclaration.id == log.partial)
        .values(state="rejected", guarantee_state="registered")
    )
    resign(conn, records, 17, {**log.keys, "attacker-ed25519": attacker})
    roll_back_heads(conn, records, attacker)


def reorder_two_records(conn, log):
    records = rows(conn)
    five, six = records[4], records[5]
    for r, other in ((five, six), (six, five)):
        conn.execute(
            update(CustomsLogEntry)
            .where(CustomsLogEntry.seq == r["seq"])
            .values(
                {
                    k: other[k]
                    for k in ("body", "prev_hash", "record_hash", "signature", "key_id", "action")
                }
            )
        )


def duplicate_a_record(conn, log):
    last = rows(conn)[-1]
    copy = {**last, "seq": 18}
    conn.execute(insert(CustomsLogEntry).values(copy))
    conn.execute(update(CustomsLogHead).values(seq=18))


def alter_one_payload_byte(conn, log):
    seventh = rows(conn)[6]
    body = dict(seventh["body"])
    body["at"] = body["at"][:-1] + ("1" if body["at"][-1] != "1" else "2")
    conn.execute(update(CustomsLogEntry).where(CustomsLogEntry.seq == 7).values(body=body))


def swap_authority_with_its_own_signature(conn, log):
    """Record 7 (Azerbaijan's arrival) claimed by Georgia, keeping Azerbaijan's signature."""
    records = rows(conn)
    seventh = records[6]
    seventh["body"] = {**seventh["body"], "actor": log.org["GE"], "signer": log.org["GE"]}
    conn.execute(
        update(CustomsLogEntry)
        .where(CustomsLogEntry.seq == 7)
        .values(body=seventh["body"], key_id=f"{log.org['GE']}-ed25519")
    )


def authority_signs_in_anothers_name(conn, log):
    """An insider at the Kazakh authority re-signs record 7 with its own key, naming Azerbaijan."""
    records = rows(conn)
    records[6]["key_id"] = f"{log.org['KZ']}-ed25519"
    resign(conn, records, 7, log.keys)
    roll_back_heads(conn, records, log.keys[f"{PLATFORM}-ed25519"])


def platform_key_signs_an_authority_act(conn, log):
    """With the stolen platform key: Kazakhstan's acceptance (record 3) re-signed by the platform."""
    records = rows(conn)
    records[2]["body"] = {**records[2]["body"], "signer": PLATFORM}
    records[2]["key_id"] = f"{PLATFORM}-ed25519"
    resign(conn, records, 3, log.keys)
    roll_back_heads(conn, records, log.keys[f"{PLATFORM}-ed25519"])


def move_a_declaration_on(conn, log):
    """The table moved on one office beyond what the log records."""
    conn.execute(
        update(CustomsDeclaration).where(CustomsDeclaration.id == log.partial).values(position=1)
    )


CASES: list[tuple[Callable[[Connection, Log], None], bool, int, str]] = [
    # (tampering, with the held heads file, the record verify must name, words of the reason)
    (delete_tail_keep_head_row, False, 16, "missing"),
    (delete_tail_and_fix_every_head, True, 16, "deleted"),
    (edit_declaration_state, False, 17, "state 'released' (log: 'accepted')"),
    (new_key_reject_under_another_authority, False, 17, "unknown key attacker-ed25519"),
    (reorder_two_records, False, 5, "entry 5"),
    (duplicate_a_record, False, 18, "chain broken"),
    (alter_one_payload_byte, False, 7, "altered"),
    (swap_authority_with_its_own_signature, False, 7, "altered"),
    (authority_signs_in_anothers_name, False, 7, "belongs to"),
    (platform_key_signs_an_authority_act, False, 3, "signed by corridor-platform"),
    (move_a_declaration_on, False, 17, "position 1 (log: 0)"),
]


def test_the_untouched_log_verifies_with_the_held_heads(log):
    with log.world.db.session() as s:
        report = customs_audit.verify(s, log.bundle, log.held)
    assert report.ok, report.reason
    assert (report.records, report.declarations) == (17, 2)
    assert report.heads == 3  # held, current, cosigned in the database


def test_every_tampering_is_caught_naming_the_record(log):
    missed = []
    for tamper, with_heads, record, words in CASES:
        with log.world.db.engine.connect() as conn:
            transaction = conn.begin()
            tamper(conn, log)
            report = customs_audit.verify(
                Session(bind=conn), log.bundle, log.held if with_heads else ()
            )
            transaction.rollback()
        if report.ok or report.first_bad != record or words not in report.reason:
            missed.append((tamper.__name__, report.first_bad, report.reason))
    assert missed == []
    with log.world.db.session() as s:  # and every attack was rolled back
        assert customs_audit.verify(s, log.bundle, log.held).ok


def test_without_the_held_heads_a_rollback_with_the_stolen_operator_key_is_not_seen(log):
    """Why authorities keep cosigned heads: the database alone cannot show this truncation."""
    with log.world.db.engine.connect() as conn:
        transaction = conn.begin()
        delete_tail_and_fix_every_head(conn, log)
        alone = customs_audit.verify(Session(bind=conn), log.bundle)
        held = customs_audit.verify(Session(bind=conn), log.bundle, log.held)
        transaction.rollback()
    assert alone.ok
    assert not held.ok
