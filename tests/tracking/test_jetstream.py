"""JetStream ingestion against the real NATS server: ack after commit, dead letters with reasons,
two consumers in one queue group sharing the work, and customs moments published as events."""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from datetime import UTC, datetime

import orjson
import pytest

from corridor.store.tracking_capture import capture
from corridor.tracking.document import parse
from corridor.tracking.errors import TrackingError
from corridor.tracking.jetstream import StreamConfig, consume
from tests.tracking.test_conformance import _admin

NATS = "nats://127.0.0.1:4222"


def _nats_up() -> None:
    try:
        socket.create_connection(("127.0.0.1", 4222), timeout=1).close()
    except OSError:
        if os.environ.get("CORRIDOR_REQUIRE_SERVICES"):
            pytest.fail("NATS JetStream not reachable at 127.0.0.1:4222 (required in CI)")
        pytest.skip("NATS JetStream not reachable at 127.0.0.1:4222")


def _doc(n: int, **extra) -> bytes:
    event = {
        "type": "ObjectEvent",
        "eventID": f"urn:uuid:{uuid.uuid4()}",
        "eventTime": "2026-03-01T10:00:00Z",
        "eventTimeZoneOffset": "+00:00",
        "epcList": [f"urn:epc:id:bic:CSQU305438{n % 10}"],
        "action": "OBSERVE",
        "bizStep": "loading",
        **extra,
    }
    return orjson.dumps(
        {
            "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
            "type": "EPCISDocument",
            "schemaVersion": "2.0",
            "creationDate": "2026-03-01T10:00:00Z",
            "epcisBody": {"eventList": [event]},
        }
    )


async def _publish(config: StreamConfig, payloads: list[bytes]) -> None:
    import nats

    from corridor.tracking.jetstream import ensure_stream

    nc = await nats.connect(config.url)
    js = nc.jetstream()
    await ensure_stream(js, config)
    for payload in payloads:
        await js.publish(config.subject, payload, timeout=10)
    await nc.drain()


async def _dead(config: StreamConfig) -> list[tuple[bytes, str]]:
    import nats

    nc = await nats.connect(config.url)
    js = nc.jetstream()
    sub = await js.pull_subscribe(config.dead_letter, durable="reader", stream=config.stream)
    msgs = await sub.fetch(1, timeout=10)  # exactly one document is refused
    found = [(m.data, m.headers["Corridor-Reason"]) for m in msgs]
    await nc.drain()
    return found


async def _cleanup(config: StreamConfig) -> None:
    import nats

    nc = await nats.connect(config.url)
    await nc.jetstream().delete_stream(config.stream)
    await nc.drain()


def test_consumers_ack_after_commit_and_dead_letter_refusals(seeded):
    _nats_up()
    db = seeded.db
    who = _admin(db)
    tag = uuid.uuid4().hex[:8]
    config = StreamConfig(
        url=NATS,
        stream=f"T{tag}",
        subject=f"t.{tag}.capture",
        dead_letter=f"t.{tag}.dead",
        group="g",
        batch=4,
    )

    def handle(data: bytes) -> dict[str, int]:
        document = parse(data)
        with db.write_session() as s:
            return {"captured": capture(s, who, (), document).captured}

    good = [_doc(i) for i in range(10)]
    bad = _doc(99, action="WATCH")
    try:
        asyncio.run(_publish(config, [*good[:5], bad, *good[5:]]))

        async def two_consumers():
            return await asyncio.gather(
                consume(config, handle, idle_exit_s=1.0), consume(config, handle, idle_exit_s=1.0)
            )

        first, second = asyncio.run(two_consumers())
        dead = asyncio.run(_dead(config))
    finally:
        asyncio.run(_cleanup(config))
    assert first.documents + second.documents == 10
    assert first.events + second.events == 10
    assert first.dead + second.dead == 1
    assert dead[0][0] == bad
    assert "eventList[0].action" in dead[0][1]
    with db.write_session() as s:
        from sqlalchemy import func, select

        from corridor.store.models import EpcisEvent

        assert s.scalar(select(func.count()).select_from(EpcisEvent)) == 10


def test_customs_moments_are_published_as_events(seeded):
    from corridor.store import tracking_publish, tracking_query
    from corridor.tracking.publish import moment_event
    from corridor.tracking.query import parse as parse_query

    db = seeded.db
    who = _admin(db)
    when = datetime(2026, 3, 5, 12, tzinfo=UTC)
    hold = moment_event(
        "customs_hold", shipment_id="s1", node="alat_port", when=when, reference="d1"
    )
    # An unknown shipment is refused like any capture: the hook never stores dangling facts.
    with db.session() as s, pytest.raises(TrackingError, match="unknown shipment"):
        tracking_publish.publish(s, who.organisation_id, [hold])
    no_shipment = {**hold, "bizTransactionList": hold["bizTransactionList"][1:]}
    with db.write_session() as s:
        assert tracking_publish.publish(s, who.organisation_id, [no_shipment]).captured == 1
    with db.write_session() as s:
        again = tracking_publish.publish(s, who.organisation_id, [no_shipment])
        assert (again.captured, len(again.duplicates)) == (0, 1)
        page, _ = tracking_query.query(s, who, parse_query({"EQ_bizStep": "holding"}), 10, None)
    assert page[0]["disposition"] == "non_conformant"


def test_a_subscriber_sees_a_jetstream_captured_event_within_a_second(seeded, tmp_path):
    """Issue 13's promise: an event captured from JetStream reaches an open WebSocket subscriber
    within a second of its commit (the socket looks for new events every ``WS_POLL_S``)."""
    import queue
    import threading
    import time

    from fastapi.testclient import TestClient

    from corridor.api import create_app
    from corridor.settings import Settings
    from tests.api.conftest import ADMIN, Api

    _nats_up()
    db = seeded.db
    who = _admin(db)
    tag = uuid.uuid4().hex[:8]
    config = StreamConfig(
        url=NATS, stream=f"S{tag}", subject=f"s.{tag}.capture", dead_letter=f"s.{tag}.dead"
    )
    committed: list[float] = []

    def handle(data: bytes) -> dict[str, int]:
        with db.write_session() as s:
            result = capture(s, who, (), parse(data))
        committed.append(time.monotonic())  # after the commit
        return {"captured": result.captured}

    payload = _doc(1)
    wanted = orjson.loads(payload)["epcisBody"]["eventList"][0]["eventID"]
    with TestClient(create_app(Settings(var_dir=tmp_path), db)) as client:
        api = Api(client, seeded.passwords, db)
        admin = api.headers(ADMIN)
        made = client.post(
            "/api/v1/epcis/queries",
            json={"name": "telematics", "query": {"EQ_bizStep": "loading"}},
            headers=admin,
        )
        assert made.status_code == 201, made.text
        token = admin["Authorization"].removeprefix("Bearer ")
        url = f"/api/v1/epcis/queries/telematics/subscriptions?access_token={token}"
        received: queue.Queue[tuple[float, list]] = queue.Queue()
        try:
            with client.websocket_connect(url) as ws:
                ws.receive_json()  # the subscription's id: the socket is live

                def listen() -> None:
                    body = ws.receive_json()
                    events = body["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
                    received.put((time.monotonic(), events))

                listener = threading.Thread(target=listen, daemon=True)
                listener.start()
                asyncio.run(_publish(config, [payload]))
                stats = asyncio.run(consume(config, handle, max_documents=1, idle_exit_s=10))
                seen_at, events = received.get(timeout=10)
        finally:
            asyncio.run(_cleanup(config))
    assert stats.documents == 1
    assert [e["eventID"] for e in events] == [wanted]
    assert seen_at - committed[0] < 1.0, f"seen {seen_at - committed[0]:.2f} s after the commit"
