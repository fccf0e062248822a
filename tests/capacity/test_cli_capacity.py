"""``corridor capacity`` and ``corridor queue`` end to end on an SQLite file."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from rich.console import Console
from typer.testing import CliRunner

from corridor.cli import app
from corridor.settings import PACKAGE_DATA_DIR, get_settings
from corridor.store.db import Database
from corridor.store.seed import prepare

run = CliRunner().invoke


@pytest.fixture
def env(tmp_path, monkeypatch):
    db = Database(f"sqlite:///{tmp_path / 'corridor.db'}")
    prepare(db, PACKAGE_DATA_DIR, demo_shipment=False)
    db.dispose()
    monkeypatch.setenv("CORRIDOR_DATABASE_URL", db.url)
    monkeypatch.setenv("CORRIDOR_VAR_DIR", str(tmp_path))
    monkeypatch.setattr("corridor.cli.capacity.out", Console(width=250, soft_wrap=True))
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def _next_ferry() -> str:
    from corridor.capacity.schedule import departures
    from corridor.network import load_network

    found = departures(
        load_network(),
        datetime.now(UTC) + timedelta(hours=1),
        datetime.now(UTC) + timedelta(days=10),
        from_node="aktau_port",
        services=frozenset({"asco-aktau-alat-ferry"}),
    )
    return f"{found[1].departure:%Y-%m-%dT%H:%M}"  # [1]: not a low-water sailing of sailings.csv


def test_sailings_book_confirm_and_refusals(env):
    listed = run(app, ["capacity", "sailings", "--from", "aktau_port", "--to", "alat_port"])
    assert listed.exit_code == 0, listed.output
    assert "asco-aktau-alat-ferry" in listed.output
    assert "estimate" in listed.output
    when = _next_ferry()
    common = ["--service", "asco-aktau-alat-ferry", "--from", "aktau_port", "--departure", when]
    booked = run(
        app,
        [
            "capacity",
            "book",
            "--as",
            "forwarder@demo.corridor",
            *common,
            "--cargo",
            "rail_wagon",
            "--items",
            "4",
        ],
    )
    assert booked.exit_code == 0, booked.output
    assert booked.output.startswith("held ")
    booking = booked.output.split()[1].rstrip(":")
    refused = run(app, ["capacity", "confirm", booking, "--as", "forwarder@demo.corridor"])
    assert refused.exit_code == 1
    assert "forbidden" in refused.output
    done = run(app, ["capacity", "confirm", booking, "--as", "ferry.asco@demo.corridor"])
    assert done.exit_code == 0, done.output
    assert "confirmed" in done.output
    zero = run(
        app, ["capacity", "book", "--as", "forwarder@demo.corridor", *common, "--items", "0"]
    )
    assert zero.exit_code == 2
    assert "items" in zero.output
    truck = run(
        app,
        [
            "capacity",
            "book",
            "--as",
            "forwarder@demo.corridor",
            "--service",
            "asco-aktau-alat-feeder",
            "--from",
            "aktau_port",
            "--departure",
            when[:11] + "18:00",
            "--cargo",
            "truck",
        ],
    )
    assert truck.exit_code == 2
    assert "does not carry truck" in truck.output
    board = run(app, ["capacity", "board", "--days", "10"])
    assert board.exit_code == 0, board.output
    assert "aktau_port" in board.output


def test_book_route_holds_each_leg(env):
    ready = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:00")
    result = run(
        app,
        [
            "capacity",
            "book-route",
            "--as",
            "forwarder@demo.corridor",
            "--from",
            "dostyk",
            "--to",
            "tbilisi",
            "--via",
            "aktau_port",
            "--ready",
            ready,
            "--containers",
            "2",
        ],
    )
    assert result.exit_code == 0, result.output
    assert result.output.count("  held ") >= 3
    # the train passes Beyuk Kesik - Gardabani (AZ-GE) on its way to Tbilisi: one train path held
    assert "rail border x-beyuk-kesik (beyuk_kesik -> gardabani) on " in result.output
    board = run(app, ["capacity", "board", "--days", "30"])
    assert board.exit_code == 0, board.output
    assert "Rail border crossings, train paths held per day" in board.output
    row = next(line for line in board.output.splitlines() if "x-beyuk-kesik" in line)
    assert "beyuk_kesik -> gardabani" in row
    cells = [c.strip() for c in row.split("│")[1:-1]]
    assert cells[3:] == ["10", "1", "0", "9"]  # paths a day (crossings.csv), held, confirmed, free
    assert "1 crossing-day(s) with train paths held" in board.output


def test_queue_ticket_verifies_offline_and_tampering_fails(env, tmp_path):
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    qr = tmp_path / "ticket.svg"
    booked = run(
        app,
        [
            "queue",
            "book",
            "--as",
            "forwarder@demo.corridor",
            "--checkpoint",
            "x-dostyk",
            "--date",
            tomorrow,
            "--hour",
            "9",
            "--plate",
            "042 KZA 05",
            "--driver",
            "D. Driver",
            "--qr",
            str(qr),
        ],
    )
    assert booked.exit_code == 0, booked.output
    token = next(line for line in booked.output.splitlines() if line.startswith("CQ1."))
    assert qr.read_text().lstrip().startswith("<svg")
    key = run(app, ["queue", "public-key"]).output.strip()
    assert len(key) == 64
    ok = run(app, ["queue", "verify", token, "--public-key", key])
    assert ok.exit_code == 0, ok.output
    assert "VALID" in ok.output
    assert "042 KZA 05" in ok.output
    head, payload, sig = token.split(".")
    forged = f"{head}.{payload}.{sig[:-3]}{'AAA' if sig[-3:] != 'AAA' else 'BBB'}"
    bad = run(app, ["queue", "verify", forged, "--public-key", key])
    assert bad.exit_code == 1
    assert "ticket" in bad.output
    rail = run(
        app,
        [
            "queue",
            "book",
            "--as",
            "forwarder@demo.corridor",
            "--checkpoint",
            "x-bolashak",
            "--date",
            tomorrow,
            "--hour",
            "9",
            "--plate",
            "042 KZA 05",
            "--driver",
            "D. Driver",
        ],
    )
    assert rail.exit_code == 2
    assert "road lane" in rail.output
