"""``corridor notices`` on an embedded database: publish, list, amend, close, and bad input."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from corridor.cli import app
from corridor.settings import PACKAGE_DATA_DIR, get_settings
from corridor.store.db import Database
from corridor.store.seed import prepare

runner = CliRunner()
PORT = "port.aktau@demo.corridor"
STORM = [
    "--kind", "closure", "--severity", "severe", "--element", "node:aktau_port",
    "--from", "2026-03-03T00:00", "--until", "2026-03-06T00:00",
    "--text", "en:Storm, port closed", "--text", "ru:Шторм, порт закрыт",
]  # fmt: skip


@pytest.fixture
def embedded(tmp_path, monkeypatch):
    monkeypatch.setenv("CORRIDOR_VAR_DIR", str(tmp_path))
    get_settings.cache_clear()
    db = Database(get_settings().resolved_database_url())
    prepare(db, PACKAGE_DATA_DIR, demo_shipment=False)
    db.dispose()
    yield
    get_settings.cache_clear()


def test_publish_list_amend_close(embedded):
    published = runner.invoke(app, ["notices", "publish", *STORM, "--as", PORT])
    assert published.exit_code == 0, published.output
    notice_id = published.output.split()[2]
    listed = runner.invoke(app, ["notices", "list", "--active", "--lang", "ru"])
    assert "Шторм" in listed.output
    assert notice_id[:12] in listed.output
    longer = [*STORM[:-6], "--until", "2026-03-09T00:00", *STORM[-4:]]
    amended = runner.invoke(
        app, ["notices", "amend", notice_id, "--version", "1", *longer, "--as", PORT]
    )
    assert amended.exit_code == 0, amended.output
    assert "version 2" in amended.output
    stale = runner.invoke(
        app, ["notices", "amend", notice_id, "--version", "1", *longer, "--as", PORT]
    )
    assert stale.exit_code == 1
    assert "version" in stale.output
    closed = runner.invoke(
        app,
        ["notices", "close", notice_id, "--version", "2", "--at", "2026-03-05T12:00", "--as", PORT],
    )
    assert closed.exit_code == 0, closed.output
    assert "2026-03-05 12:00" in closed.output
    assert notice_id[:12] not in runner.invoke(app, ["notices", "list", "--active"]).output


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--element", "aktau_port"], 2, "KIND:ID"),
        (["--element", "node:alat_port"], 1, "does not operate"),
        (["--element", "node:aktau_prt"], 1, "did you mean node:aktau_port"),
        (["--until", "2026-03-01T00:00"], 2, "expected_end"),
        (["--text", "Storm"], 2, "LANG:TEXT"),
    ],
)
def test_bad_input_names_the_field_and_stores_nothing(embedded, args, code, message):
    changed = list(STORM)
    option = args[0]
    i = changed.index(option)
    changed[i + 1] = args[1]
    result = runner.invoke(app, ["notices", "publish", *changed, "--as", PORT])
    assert result.exit_code == code, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert "aktau_port" not in runner.invoke(app, ["notices", "list"]).output


def test_a_years_closures_become_a_simulation_scenario(embedded, tmp_path):
    """History feeds the what-if: the closures notified in a year, as scenario disruptions."""
    from corridor.simulation.runner import prepare as prepared_scenario

    storm = [*STORM]
    storm[storm.index("--from") + 1] = "2026-02-05T00:00"
    storm[storm.index("--until") + 1] = "2026-02-19T00:00"
    assert runner.invoke(app, ["notices", "publish", *storm, "--as", PORT]).exit_code == 0
    target = tmp_path / "notices-2026.toml"
    written = runner.invoke(app, ["notices", "scenario", "--year", "2026", "-o", str(target)])
    assert written.exit_code == 0, written.output
    assert "1 closure(s)" in written.output
    scenario = prepared_scenario(str(target))
    closures = [d for d in scenario.disruptions if d.target == "aktau_port"]
    # 5 February is day 35 of the year (0 = 1 January); 14 days closed. (base-2024 brings its
    # own January storm days too.)
    assert ("port_closed", 35.0, 14.0) in [(d.kind, d.start_day, d.days) for d in closures]
