"""Several processes on one embedded SQLite file: nothing committed is lost, the file stays sound.

SQLite in WAL mode lets many processes share one file only while each holds its POSIX locks on
it. Those locks belong to the process, and closing any descriptor of the file drops them all:
``files.secure`` used to open and close the database file while the server had it open, after
which the next other process to exit believed it was the last user and deleted the -wal and -shm
files under the server. The server then committed into a deleted WAL that nobody else would ever
read, and the tracking benchmark's readers saw "database disk image is malformed".

Every count below is checked from a fresh process, which sees only what reached the shared files.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import orjson
import pytest
from sqlalchemy import text

from corridor.api import create_app
from corridor.settings import PACKAGE_DATA_DIR, Settings
from corridor.store import files
from corridor.store.db import Database
from corridor.store.seed import prepare
from tests.api.conftest import serve_in_thread

ADMIN = "admin@demo.corridor"
CONTEXT = ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"]


def _fresh(path: Path, query: str) -> str:
    """``query``'s rows, and the integrity check, as another process that opens the file now."""
    code = (
        "import sqlite3, sys\n"
        "c = sqlite3.connect(sys.argv[1])\n"
        "print(c.execute(sys.argv[2]).fetchall(), c.execute('PRAGMA integrity_check').fetchall())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(path), query], capture_output=True, text=True, timeout=60
    )
    return (done.stdout + done.stderr).strip()


def test_securing_an_open_database_keeps_its_commits_visible(tmp_path):
    """The server secures var/ again after opening the database (create_app); another process
    then opens, writes and closes. The server's later commits must reach the shared files."""
    var = tmp_path / "var"
    path = var / "corridor.db"
    url = f"sqlite:///{path}"
    files.secure(var, url)
    db = Database(url)
    try:
        with db.write_session() as s:
            s.execute(text("CREATE TABLE t (n INTEGER PRIMARY KEY)"))
            s.execute(text("INSERT INTO t VALUES (1)"))
        files.secure(var, url)  # the pool keeps its connection open meanwhile
        other = (
            "import sqlite3, sys\n"
            "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
            "c.execute('INSERT INTO t VALUES (2)')\n"
            "c.close()\n"
        )
        subprocess.run([sys.executable, "-c", other, str(path)], check=True, timeout=60)
        assert path.with_name("corridor.db-wal").exists(), "the WAL was deleted while in use"
        with db.write_session() as s:
            for n in range(3, 201):
                s.execute(text("INSERT INTO t VALUES (:n)"), {"n": n})
        assert _fresh(path, "SELECT count(*), sum(n) FROM t") == "[(200, 20100)] [('ok',)]"
        assert os.stat(path).st_mode & 0o777 == 0o600  # still owner-only
    finally:
        db.dispose()


def _nats_up() -> None:
    try:
        socket.create_connection(("127.0.0.1", 4222), timeout=1).close()
    except OSError:
        if os.environ.get("CORRIDOR_REQUIRE_SERVICES"):
            pytest.fail("NATS JetStream not reachable at 127.0.0.1:4222 (required in CI)")
        pytest.skip("NATS JetStream not reachable at 127.0.0.1:4222")


def _document(prefix: str, start: int, count: int) -> bytes:
    evts = [
        {
            "type": "ObjectEvent",
            "eventID": f"urn:uuid:{prefix}-0000-0000-{k:012d}",
            "eventTime": f"2026-03-{1 + k % 28:02d}T{k % 24:02d}:00:00.000Z",
            "eventTimeZoneOffset": "+00:00",
            "epcList": [f"urn:epc:id:bic:CSQU{k % 100000:06d}3"],
            "action": "OBSERVE",
            "bizStep": "departing",
            "readPoint": {"id": "urn:corridor:node:aktau_port"},
        }
        for k in range(start, start + count)
    ]
    return orjson.dumps(
        {
            "@context": CONTEXT,
            "type": "EPCISDocument",
            "schemaVersion": "2.0",
            "creationDate": "2026-03-01T00:00:00Z",
            "epcisBody": {"eventList": evts},
        }
    )


async def _publish(subject: str, stream: str, docs: list[bytes]) -> None:
    import nats

    nc = await nats.connect("nats://127.0.0.1:4222")
    js = nc.jetstream()
    await js.add_stream(name=stream, subjects=[subject, subject + ".dead"])
    for raw in docs:
        await js.publish(subject, raw)
    await nc.drain()


async def _drop(stream: str) -> None:
    import nats

    nc = await nats.connect("nats://127.0.0.1:4222")
    await nc.jetstream().delete_stream(stream)
    await nc.drain()


def _post(base: str, headers: dict[str, str], raw: bytes) -> None:
    r = httpx.post(
        f"{base}/epcis/capture",
        content=raw,
        headers={**headers, "Content-Type": "application/ld+json"},
        timeout=120,
    )
    assert r.status_code == 202, r.text[:300]
    assert r.json()["success"] is True, r.text[:300]


def test_the_server_and_two_consumers_share_one_sqlite_file(tmp_path, request):
    """`corridor serve` as it starts (secure, prepare, create_app), two `corridor track consume`
    processes capturing from one JetStream subject, and captures over HTTP before and after the
    consumers exit: every event is stored exactly once and the file passes the integrity check."""
    _nats_up()
    template = request.getfixturevalue("_sqlite_template")
    var = tmp_path / "var"
    path = var / "corridor.db"
    url = f"sqlite:///{path}"
    var.mkdir()
    shutil.copyfile(template.location, path)  # closed and checkpointed: a plain file
    settings = Settings(var_dir=var, database_url=url, queue_timeout_s=120, db_pool_timeout_s=60)
    files.secure(var, url)
    db = Database.from_settings(settings)
    prepare(db, PACKAGE_DATA_DIR, demo=False)
    base, server, thread = serve_in_thread(create_app(settings, db))
    tag = uuid.uuid4().hex[:8]
    subject, stream = f"sqlitefix.{tag}", f"SQLITEFIX{tag}"
    per_doc, streamed = 200, 8
    try:
        password = {lg.email: lg.password for lg in template.logins}[ADMIN]
        login = httpx.post(
            f"{base}/auth/login", json={"email": ADMIN, "password": password}, timeout=120
        )
        headers = {"Authorization": f"Bearer {login.json()['token']}"}
        _post(base, headers, _document("00000001", 0, per_doc))
        asyncio.run(
            _publish(
                subject,
                stream,
                [_document("00000002", i * per_doc, per_doc) for i in range(streamed)],
            )
        )
        cli = [
            str(Path(sys.executable).parent / "corridor"),
            *("track", "consume", "--as", ADMIN, "--subject", subject, "--stream", stream),
            *("--dead-letter", f"{subject}.dead", "--idle-exit", "2"),
        ]
        env = {**os.environ, "CORRIDOR_DATABASE_URL": url, "CORRIDOR_VAR_DIR": str(var)}
        consumers = [
            subprocess.Popen(cli, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            for _ in range(2)
        ]
        outputs = [c.communicate(timeout=300)[0].decode() for c in consumers]
        assert [c.returncode for c in consumers] == [0, 0], outputs
        # The consumers have closed their connections; the server goes on capturing.
        _post(base, headers, _document("00000003", 0, per_doc))
        expected = per_doc * (2 + streamed)
        seen = _fresh(path, "SELECT count(*), count(DISTINCT event_id) FROM epcis_events")
        assert seen == f"[({expected}, {expected})] [('ok',)]"
    finally:
        asyncio.run(_drop(stream))
        server.should_exit = True
        thread.join(10)
        db.dispose()
