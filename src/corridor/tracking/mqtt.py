"""MQTT bridge for container telematics: messages from a broker (Mosquitto) into capture.

Telematics units on containers publish small messages; railway and port systems publish whole
EPCIS documents. A message here is either:

- an **EPCIS document** (``"type": "EPCISDocument"``), captured as it is; or
- a **sensor reading** ``{"container", "time", "temperature_c"?, "humidity_pct"?, "lat"?, "lon"?,
  "shipment"?, "node"?}``, turned into one EPCIS 2.0 ObjectEvent with a ``sensorElementList``
  (CBV bizStep ``sensor_reporting``; GS1 sensor types ``gs1:Temperature`` in CEL and
  ``gs1:RelativeHumidity`` in percent, unit code P1), so that readings are queried like any event.
  A reading carries no eventID: capture gives it GS1's event hash ID, so a reading delivered twice
  is recognised as the same event.

Delivery is MQTT 5 QoS 1 on a persistent session, with manual acknowledgement: a message is
acknowledged (PUBACK) only after ``handle`` returned, i.e. after the events were committed. A
message ``handle`` refuses (TrackingError: not JSON, off-schema, unknown reference) is published
to the dead-letter topic (QoS 1, original payload, the reason in the user properties
``Corridor-Reason`` and ``Corridor-Topic``) and then acknowledged, since it will never succeed.
Any other failure (database down) is not acknowledged: the bridge reconnects after a pause and the
broker delivers the message again.
"""

from __future__ import annotations

import math
import queue
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from corridor.tracking.capture import STANDARD_CONTEXT
from corridor.tracking.document import parse
from corridor.tracking.errors import TrackingError
from corridor.tracking.events import CONTAINER_PREFIX, NODE_PREFIX, SHIPMENT_PREFIX, parse_time

Handle = Callable[[dict[str, Any]], dict[str, Any]]
_CONTAINER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


@dataclass(frozen=True)
class BridgeConfig:
    host: str = "127.0.0.1"
    port: int = 1883
    topic: str = "corridor/telematics/#"
    dead_letter: str = "corridor/telematics-dead"
    client_id: str = "corridor-mqtt-bridge"
    #: The broker keeps the session (and unacknowledged messages) this long after a disconnect.
    session_expiry_s: int = 3600
    retry_delay_s: float = 2.0


@dataclass
class BridgeStats:
    documents: int = 0
    readings: int = 0
    events: int = 0
    dead: int = 0
    retried: int = 0
    reasons: list[str] = field(default_factory=list)


def _number(reading: dict[str, Any], key: str, low: float, high: float) -> float | None:
    value = reading.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise TrackingError("invalid", f"$.{key}", "a number")
    if not low <= value <= high:
        raise TrackingError("invalid", f"$.{key}", f"between {low:g} and {high:g}")
    return float(value)


def reading_event(reading: dict[str, Any]) -> dict[str, Any]:
    """The EPCIS ObjectEvent of one sensor reading (TrackingError naming the bad field)."""
    container = reading.get("container")
    if not isinstance(container, str) or not (
        len(container) == 11 and all(c in _CONTAINER for c in container.upper())
    ):
        raise TrackingError("invalid", "$.container", "an ISO 6346 container number")
    when = parse_time(reading.get("time"), "$.time").astimezone(UTC)
    reports: list[dict[str, Any]] = []
    temperature = _number(reading, "temperature_c", -80, 100)
    if temperature is not None:
        reports.append({"type": "gs1:Temperature", "value": temperature, "uom": "CEL"})
    humidity = _number(reading, "humidity_pct", 0, 100)
    if humidity is not None:
        reports.append({"type": "gs1:RelativeHumidity", "value": humidity, "uom": "P1"})
    if not reports:
        raise TrackingError("invalid", "$", "a reading has temperature_c or humidity_pct")
    stamp = when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"
    event: dict[str, Any] = {
        "type": "ObjectEvent",
        "eventTime": stamp,
        "eventTimeZoneOffset": "+00:00",
        "epcList": [CONTAINER_PREFIX + container.upper()],
        "action": "OBSERVE",
        "bizStep": "sensor_reporting",
        "sensorElementList": [{"sensorMetadata": {"time": stamp}, "sensorReport": reports}],
    }
    lat, lon = _number(reading, "lat", -90, 90), _number(reading, "lon", -180, 180)
    if (lat is None) != (lon is None):
        raise TrackingError("invalid", "$.lat", "lat and lon come together")
    if lat is not None and lon is not None:
        event["readPoint"] = {"id": f"geo:{lat:.6f},{lon:.6f}"}
    node = reading.get("node")
    if node is not None:
        if not isinstance(node, str) or not node:
            raise TrackingError("invalid", "$.node", "a corridor place id")
        event["bizLocation"] = {"id": NODE_PREFIX + node}
    shipment = reading.get("shipment")
    if shipment is not None:
        if not isinstance(shipment, str) or not shipment:
            raise TrackingError("invalid", "$.shipment", "a shipment id")
        event["bizTransactionList"] = [
            {"type": "bol", "bizTransaction": SHIPMENT_PREFIX + shipment}
        ]
    return event


def to_document(payload: bytes, max_depth: int = 64) -> tuple[dict[str, Any], bool]:
    """The EPCIS document a message stands for, and whether it was a sensor reading."""
    value = parse(payload, max_depth)
    if isinstance(value, dict) and value.get("type") == "EPCISDocument":
        return value, False
    if isinstance(value, dict) and "container" in value:
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        document = {
            "@context": [STANDARD_CONTEXT],
            "type": "EPCISDocument",
            "schemaVersion": "2.0",
            "creationDate": now,
            "epcisBody": {"eventList": [reading_event(value)]},
        }
        return document, True
    raise TrackingError("invalid", "$", "neither an EPCISDocument nor a sensor reading")


def _connect(config: BridgeConfig, inbox: queue.Queue[Any]) -> Any:
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import Properties

    client = mqtt.Client(
        CallbackAPIVersion.VERSION2,
        client_id=config.client_id,
        protocol=mqtt.MQTTv5,
        manual_ack=True,
    )
    subscribed: queue.Queue[bool] = queue.Queue()

    def on_connect(client: Any, _userdata: Any, _flags: Any, reason: Any, _props: Any) -> None:
        if reason.is_failure:
            subscribed.put(False)
            return
        client.subscribe(config.topic, qos=1)

    def on_subscribe(*_args: Any) -> None:
        subscribed.put(True)

    def on_message(_client: Any, _userdata: Any, message: Any) -> None:
        inbox.put(message)  # handled (and acknowledged) by the bridge's own thread

    client.on_connect = on_connect
    client.on_subscribe = on_subscribe
    client.on_message = on_message
    properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
    properties.SessionExpiryInterval = config.session_expiry_s
    client.connect(config.host, config.port, keepalive=30, clean_start=False, properties=properties)
    client.loop_start()
    try:
        ok = subscribed.get(timeout=10)
    except queue.Empty:
        ok = False
    if not ok:
        client.loop_stop()
        raise OSError(f"MQTT broker {config.host}:{config.port} refused the connection")
    return client


def _dead_letter(client: Any, config: BridgeConfig, message: Any, reason: str) -> None:
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import Properties

    properties = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
    properties.UserProperty = [("Corridor-Reason", reason), ("Corridor-Topic", message.topic)]
    sent = client.publish(config.dead_letter, message.payload, qos=1, properties=properties)
    sent.wait_for_publish(timeout=10)
    if not sent.is_published():
        raise OSError("the dead letter was not acknowledged by the broker")


def bridge(
    config: BridgeConfig,
    handle: Handle,
    *,
    max_depth: int = 64,
    max_messages: int | None = None,
    idle_exit_s: float | None = None,
    stop: Callable[[], bool] | None = None,
) -> BridgeStats:
    """Bridge until ``stop()`` is true, ``max_messages`` were settled, or idle ``idle_exit_s``."""
    stats = BridgeStats()
    inbox: queue.Queue[Any] = queue.Queue()
    client = _connect(config, inbox)
    idle = 0.0
    try:
        while not (stop is not None and stop()):
            settled = stats.documents + stats.readings + stats.dead
            if max_messages is not None and settled >= max_messages:
                break
            try:
                message = inbox.get(timeout=0.2)
            except queue.Empty:
                idle += 0.2
                if idle_exit_s is not None and idle >= idle_exit_s:
                    break
                continue
            idle = 0.0
            try:
                document, reading = to_document(message.payload, max_depth)
                result = handle(document)
            except TrackingError as exc:
                reason = f"{exc.code}: {exc.field}: {exc.reason}"[:500]
                _dead_letter(client, config, message, reason)
                client.ack(message.mid, message.qos)
                stats.dead += 1
                stats.reasons.append(reason)
                continue
            except Exception:
                # Not acknowledged: after a reconnect the broker delivers it again.
                stats.retried += 1
                client.disconnect()
                client.loop_stop()
                time.sleep(config.retry_delay_s)
                inbox = queue.Queue()
                client = _connect(config, inbox)
                continue
            client.ack(message.mid, message.qos)
            stats.events += int(result.get("captured", 0))
            if reading:
                stats.readings += 1
            else:
                stats.documents += 1
    finally:
        client.disconnect()
        client.loop_stop()
    return stats
