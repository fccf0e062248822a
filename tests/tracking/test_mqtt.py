"""The MQTT telematics bridge against the real Mosquitto (127.0.0.1:1883): documents and sensor
readings captured, acknowledged after commit, refusals dead-lettered with their reason, and a
message whose capture failed delivered again and stored once."""

from __future__ import annotations

import os
import queue
import socket
import uuid

import orjson
import pytest
from sqlalchemy import func, select

from corridor.store.models import EpcisEvent
from corridor.store.tracking_capture import capture
from corridor.tracking.errors import TrackingError
from corridor.tracking.mqtt import BridgeConfig, bridge, reading_event, to_document
from tests.tracking.test_conformance import _admin
from tests.tracking.test_jetstream import _doc


def _mosquitto_up() -> None:
    try:
        socket.create_connection(("127.0.0.1", 1883), timeout=1).close()
    except OSError:
        if os.environ.get("CORRIDOR_REQUIRE_SERVICES"):
            pytest.fail("Mosquitto not reachable at 127.0.0.1:1883 (required in CI)")
        pytest.skip("Mosquitto not reachable at 127.0.0.1:1883")


class Listener:
    """A plain MQTT 5 client: publishes test messages and collects the dead letters."""

    def __init__(self, dead_letter: str) -> None:
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion

        self.dead: queue.Queue[tuple[bytes, dict[str, str]]] = queue.Queue()
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=f"t-{uuid.uuid4().hex[:8]}", protocol=mqtt.MQTTv5
        )
        ready: queue.Queue[bool] = queue.Queue()
        self.client.on_subscribe = lambda *_: ready.put(True)
        self.client.on_message = lambda _c, _u, m: self.dead.put(
            (m.payload, dict(getattr(m.properties, "UserProperty", [])))
        )
        self.client.connect("127.0.0.1", 1883)
        self.client.loop_start()
        self.client.subscribe(dead_letter, qos=1)
        ready.get(timeout=10)

    def publish(self, topic: str, payload: bytes) -> None:
        sent = self.client.publish(topic, payload, qos=1)
        sent.wait_for_publish(timeout=10)
        assert sent.is_published()

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def _count(db) -> int:
    with db.session() as s:
        return int(s.scalar(select(func.count()).select_from(EpcisEvent)) or 0)


def test_sensor_readings_become_sensor_events():
    event = reading_event(
        {
            "container": "csqu3054383",
            "time": "2026-03-05T10:00:00+04:00",
            "temperature_c": 4.5,
            "humidity_pct": 61,
            "lat": 43.6,
            "lon": 51.2,
        }
    )
    assert event["eventTime"] == "2026-03-05T06:00:00.000Z"
    assert event["epcList"] == ["urn:epc:id:bic:CSQU3054383"]
    assert event["readPoint"] == {"id": "geo:43.600000,51.200000"}
    reports = event["sensorElementList"][0]["sensorReport"]
    assert reports == [
        {"type": "gs1:Temperature", "value": 4.5, "uom": "CEL"},
        {"type": "gs1:RelativeHumidity", "value": 61.0, "uom": "P1"},
    ]
    for bad, field in (
        ({"container": "X", "time": "2026-03-05T10:00:00Z", "temperature_c": 1}, "$.container"),
        ({"container": "CSQU3054383", "time": "yesterday", "temperature_c": 1}, "$.time"),
        ({"container": "CSQU3054383", "time": "2026-03-05T10:00:00Z", "temperature_c": 900}, "$.temperature_c"),
        ({"container": "CSQU3054383", "time": "2026-03-05T10:00:00Z"}, "$"),
    ):  # fmt: skip
        with pytest.raises(TrackingError) as caught:
            to_document(orjson.dumps(bad))
        assert caught.value.field == field


def test_bridge_captures_dead_letters_and_redelivers(seeded):
    _mosquitto_up()
    db = seeded.db
    who = _admin(db)
    tag = uuid.uuid4().hex[:8]
    config = BridgeConfig(
        topic=f"t/{tag}/telematics/#",
        dead_letter=f"t/{tag}/dead",
        client_id=f"bridge-{tag}",
        retry_delay_s=0.2,
    )
    failures = {"left": 1}

    def handle(document):
        if failures["left"] and document["epcisBody"]["eventList"][0].get("bizStep") == "loading":
            failures["left"] -= 1  # the database is away for one message: it is not acknowledged
            raise ConnectionError("database unavailable")
        with db.write_session() as s:
            return {"captured": capture(s, who, (), document).captured}

    reading = {"container": "CSQU3054383", "time": "2026-03-05T10:00:00Z", "temperature_c": 5.0}
    good = [_doc(i) for i in range(3)]
    bad = _doc(9, action="WATCH")
    listener = Listener(config.dead_letter)
    try:
        # The bridge's session must exist before the messages are sent (QoS 1 is kept for it).
        bridge(config, handle, idle_exit_s=0.2)
        for payload in [*good, bad, orjson.dumps(reading), b"hello", orjson.dumps(reading)]:
            listener.publish(f"t/{tag}/telematics/unit1", payload)
        stats = bridge(config, handle, max_messages=7)
        dead = [listener.dead.get(timeout=10) for _ in range(2)]
    finally:
        listener.close()
    assert stats.retried == 1
    assert (stats.documents, stats.readings, stats.dead) == (3, 2, 2)
    # 3 documents + the reading once (the second delivery of it is a duplicate by hash ID).
    assert stats.events == 4
    assert _count(db) == 4
    reasons = {payload: props["Corridor-Reason"] for payload, props in dead}
    assert "eventList[0].action" in reasons[bad]
    assert "neither an EPCISDocument" in reasons[b"hello"] or "invalid" in reasons[b"hello"]
    assert {props["Corridor-Topic"] for _, props in dead} == {f"t/{tag}/telematics/unit1"}
