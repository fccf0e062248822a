"""``corridor track``: bad input is a clear message and a non-zero exit, never a traceback."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from corridor.cli import app
from corridor.settings import PACKAGE_DATA_DIR, get_settings
from corridor.store.db import Database
from corridor.store.seed import prepare

runner = CliRunner()


@pytest.fixture
def configured(tmp_path: Path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'c.db'}"
    db = Database(url)
    prepare(db, PACKAGE_DATA_DIR, demo_shipment=False)
    db.dispose()
    monkeypatch.setenv("CORRIDOR_DATABASE_URL", url)
    monkeypatch.setenv("CORRIDOR_VAR_DIR", str(tmp_path))
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def test_consume_names_the_bad_option(configured):
    unknown = runner.invoke(app, ["track", "consume", "--as", "nobody@example.org"])
    assert unknown.exit_code == 2
    assert "--as: no user nobody@example.org" in unknown.output
    closed = runner.invoke(
        app, ["track", "consume", "--as", "admin@demo.corridor", "--nats", "nats://127.0.0.1:1"]
    )
    assert closed.exit_code == 2
    assert "--nats nats://127.0.0.1:1" in closed.output
    assert "Traceback" not in closed.output


def test_import_names_the_file_and_field(configured):
    bad = configured / "bad.jsonld"
    bad.write_bytes(b'{"type": "EPCISDocument", "x": NaN}')
    result = runner.invoke(app, ["track", "import", str(bad), "--as", "admin@demo.corridor"])
    assert result.exit_code == 2
    assert "bad.jsonld" in result.output
    assert "not JSON" in result.output


def test_mqtt_names_the_bad_option_and_bridges_a_reading(configured):
    unknown = runner.invoke(app, ["track", "mqtt", "--as", "nobody@example.org"])
    assert unknown.exit_code == 2
    assert "--as: no user nobody@example.org" in unknown.output
    closed = runner.invoke(
        app, ["track", "mqtt", "--as", "admin@demo.corridor", "--port", "1", "--max-messages", "1"]
    )
    assert closed.exit_code == 2
    assert "MQTT 127.0.0.1:1" in closed.output
    assert "Traceback" not in closed.output
    import uuid

    import orjson

    from tests.tracking.test_mqtt import Listener, _mosquitto_up

    _mosquitto_up()
    tag = uuid.uuid4().hex[:8]
    args = ["track", "mqtt", "--as", "admin@demo.corridor", "--topic", f"c/{tag}/#"]
    args += ["--client-id", f"cli-{tag}", "--dead-letter", f"c/{tag}-dead"]
    first = runner.invoke(app, [*args, "--idle-exit", "0.2"])  # the session now exists
    assert first.exit_code == 0, first.output
    listener = Listener(f"c/{tag}-dead")
    reading = {"container": "MSKU9070323", "time": "2026-03-05T10:00:00Z", "humidity_pct": 70}
    listener.publish(f"c/{tag}/unit7", orjson.dumps(reading))
    listener.close()
    done = runner.invoke(app, [*args, "--max-messages", "1"])
    assert done.exit_code == 0, done.output
    assert "0 document(s) and 1 reading(s), 1 event(s) captured; 0 dead-lettered" in done.output
