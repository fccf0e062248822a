"""``corridor customs export-trust-bundle / cosign / verify`` against a real database."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import delete, update
from typer.testing import CliRunner

from corridor.cli import app as cli
from corridor.settings import get_settings
from corridor.store.customs_tables import CustomsCosignedHead, CustomsTreeHead
from corridor.store.models import CustomsKey, CustomsLogEntry, CustomsLogHead
from tests.store.customs_world import build, planned, walk


@pytest.fixture(scope="module")
def route(network):
    return planned(network)


@pytest.fixture
def world(db, network, tmp_path, route, monkeypatch):
    world = build(db, network, tmp_path, *route)
    monkeypatch.setenv("CORRIDOR_DATABASE_URL", db.url)
    monkeypatch.setenv("CORRIDOR_VAR_DIR", str(tmp_path))
    get_settings.cache_clear()
    yield world
    get_settings.cache_clear()


def run(*args: str):
    return CliRunner().invoke(cli, ["customs", *args])


def test_bundle_cosign_and_verify_catch_a_truncation_the_database_hides(world, tmp_path):
    decl = world.declare(world.book()[0])
    walk(world, decl, steps=4)  # records 1-6
    bundle, heads = tmp_path / "trust.json", tmp_path / "az-heads.json"
    exported = run("export-trust-bundle", "--out", str(bundle))
    assert exported.exit_code == 0, exported.output
    pinned = {k["authority"]: k for k in json.loads(bundle.read_text())["keys"]}
    assert set(pinned) == {"corridor-platform", world.officers["KZ"].organisation_id}
    assert pinned[world.officers["KZ"].organisation_id]["country"] == "KZ"
    # Azerbaijan cosigns although it has not acted yet: it needs a key of its own first.
    az = world.officers["AZ"].organisation_id
    refused = run("cosign", "--authority", az, "--heads", str(heads), "--trusted-keys", str(bundle))
    assert refused.exit_code == 2
    assert "no signing key in the trust bundle" in refused.output
    kz = world.officers["KZ"].organisation_id
    signed = run("cosign", "--authority", kz, "--heads", str(heads), "--trusted-keys", str(bundle))
    assert signed.exit_code == 0, signed.output
    assert "6 records" in signed.output
    held = json.loads(heads.read_text())["heads"]
    assert [(h["size"], sorted(s["authority"] for s in h["signatures"])) for h in held] == [
        (6, sorted(["corridor-platform", kz]))
    ]
    ok = run("verify", "--trusted-keys", str(bundle), "--heads", str(heads))
    assert ok.exit_code == 0, ok.output
    assert "OK: 6 records" in ok.output
    # The attacker deletes the last two records, rolls the head row back, drops the cosigned
    # heads and the tree head's signature: only the heads file still knows.
    with world.db.engine.begin() as conn:
        last = conn.execute(
            CustomsLogEntry.__table__.select().where(CustomsLogEntry.seq == 4)
        ).one()
        conn.execute(delete(CustomsLogEntry).where(CustomsLogEntry.seq > 4))
        conn.execute(update(CustomsLogHead).values(seq=4, record_hash=last.record_hash))
        conn.execute(delete(CustomsCosignedHead))
        conn.execute(update(CustomsTreeHead).values(size=4, signature=""))
    caught = run("verify", "--trusted-keys", str(bundle), "--heads", str(heads))
    assert caught.exit_code == 1
    assert "record 5" in caught.output
    assert "deleted" in caught.output


def test_a_key_inserted_into_the_database_is_not_trusted(world, tmp_path):
    decl = world.declare(world.book()[0])
    walk(world, decl, steps=1)
    bundle = tmp_path / "trust.json"
    assert run("export-trust-bundle", "--out", str(bundle)).exit_code == 0
    with world.db.engine.begin() as conn:
        conn.execute(
            update(CustomsLogEntry).where(CustomsLogEntry.seq == 3).values(key_id="rogue-ed25519")
        )
        conn.execute(
            CustomsKey.__table__.insert().values(
                key_id="rogue-ed25519",
                organisation_id=None,
                public_key="00" * 32,
                created_at=decl.created_at,
            )
        )
    caught = run("verify", "--trusted-keys", str(bundle))
    assert caught.exit_code == 1
    assert "record 3" in caught.output
    assert "unknown key rogue-ed25519" in caught.output


def test_bad_trust_files_are_named_without_a_traceback(world, tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text('{"format": "corridor-customs-trust-bundle/1", "log": "x", "keys": []}')
    result = run("verify", "--trusted-keys", str(broken))
    assert result.exit_code == 2
    assert "broken.json: log:" in result.output
    assert "Traceback" not in result.output
    missing = run("verify", "--heads", str(tmp_path / "nowhere.json"))
    assert missing.exit_code == 2
    assert "nowhere.json: file: no such file" in missing.output
