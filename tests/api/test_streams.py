"""Open live streams go through the request turns (api/feeds.py): many of them cannot starve the
service, and each still receives what is published.

A real server with only four request turns; 100 notice streams and 20 capacity streams stay open
while ordinary requests and /health are asked, then a notice is published. The test asserts
outcomes (every answer 200, every notice stream receives that notice), never timings.
"""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from corridor.api import create_app
from corridor.settings import Settings
from tests.api.conftest import ADMIN, FORWARDER, serve_in_thread

NOTICE_STREAMS = 100
CAPACITY_STREAMS = 20
#: A storm closes Aktau port: a notice anyone may follow on the public stream.
STORM = {
    "kind": "closure",
    "severity": "severe",
    "elements": [{"kind": "node", "id": "aktau_port"}],
    "starts_at": "2026-03-03T00:00:00+00:00",
    "expected_end": "2026-03-15T00:00:00+00:00",
    "texts": {"en": "Storm: port closed"},
}


@pytest.fixture
def server(seeded, tmp_path):
    settings = Settings(var_dir=tmp_path, threads=4, queue_timeout_s=120, db_pool_timeout_s=60)
    app = create_app(settings, seeded.db)
    base, uvicorn_server, thread = serve_in_thread(app)
    try:
        yield app, base, seeded.passwords
    finally:
        uvicorn_server.should_exit = True
        thread.join(10)


def _token(base: str, passwords: dict[str, str], email: str) -> dict[str, str]:
    r = httpx.post(
        f"{base}/auth/login", json={"email": email, "password": passwords[email]}, timeout=60
    )
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


async def _notice_stream(http: httpx.AsyncClient, opened: asyncio.Queue[int]) -> dict[str, str]:
    """Follow the notice stream until its first notice; returns its id and data."""
    params = {"max_events": "1", "max_seconds": "300"}
    async with http.stream("GET", "/notices/stream", params=params) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        event: dict[str, str] = {}
        async for line in r.aiter_lines():
            if line.startswith("retry:"):
                opened.put_nowait(1)  # sent once the stream knows where it starts
            elif line.startswith(("id:", "event:", "data:")):
                name, _, value = line.partition(":")
                event[name] = value.strip()
            elif not line and event.get("event") == "notice":
                return event
    raise AssertionError("the stream ended without the notice")


async def _capacity_stream(
    http: httpx.AsyncClient, headers: dict[str, str], opened: asyncio.Queue[int]
) -> int:
    async with http.stream("GET", "/capacity/stream", headers=headers) as r:
        assert r.status_code == 200
        async for line in r.aiter_lines():
            if line.startswith("retry:"):
                opened.put_nowait(1)
                return r.status_code
    raise AssertionError("the capacity stream ended at once")


async def _run(base: str, admin: dict[str, str], forwarder: dict[str, str]) -> None:
    limits = httpx.Limits(max_connections=NOTICE_STREAMS + CAPACITY_STREAMS + 60)
    async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as streams:
        opened: asyncio.Queue[int] = asyncio.Queue()
        notices = [
            asyncio.create_task(_notice_stream(streams, opened)) for _ in range(NOTICE_STREAMS)
        ]
        capacity = [
            asyncio.create_task(_capacity_stream(streams, forwarder, opened))
            for _ in range(CAPACITY_STREAMS)
        ]
        for _ in range(NOTICE_STREAMS + CAPACITY_STREAMS):
            await asyncio.wait_for(opened.get(), 120)

        # Every stream is open: ordinary requests and /health must all be answered.
        async with httpx.AsyncClient(base_url=base, timeout=120) as http:
            asks = [
                *(http.get("/shipments", headers=forwarder) for _ in range(20)),
                *(
                    http.get("/network/nodes", params={"country": "AZ"}, headers=forwarder)
                    for _ in range(20)
                ),
                *(http.get("/health") for _ in range(10)),
                *(http.get("/health/ready") for _ in range(10)),
            ]
            answers = await asyncio.gather(*asks)
            assert [r.status_code for r in answers] == [200] * len(asks)

            published = await http.post("/notices", json=STORM, headers=admin)
            assert published.status_code == 201, published.text
        notice_id = published.json()["id"]

        received = await asyncio.wait_for(asyncio.gather(*notices), 240)
        assert len(received) == NOTICE_STREAMS
        for event in received:
            assert json.loads(event["data"])["id"] == notice_id
            assert int(event["id"]) > 0
        assert await asyncio.gather(*capacity) == [200] * CAPACITY_STREAMS


def test_many_open_streams_neither_starve_requests_nor_miss_the_change(server):
    app, base, passwords = server
    admin = _token(base, passwords, ADMIN)
    forwarder = _token(base, passwords, FORWARDER)
    asyncio.run(_run(base, admin, forwarder))
    # One watcher per feed in the process, however many streams followed it.
    assert set(app.state.feeds) == {"notices", "capacity"}
