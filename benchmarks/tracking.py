"""Tracking benchmark: EPCIS capture throughput, JetStream ingestion, rejecting a 50 MB document,
and query latency.

    .venv/bin/python benchmarks/tracking.py [--events 50000] [--workers 2] [--clients 4]
        [--jetstream 1,2,4] [--reject-mb 50] [--postgres URL] [--skip-sqlite] [--skip-postgres]
        [--skip-xml] [--served-only]

For each database (embedded SQLite, and PostgreSQL when reachable):

0. capture over HTTP against the real server as separate processes: ``corridor serve --workers
   N`` over a scratch database, C concurrent clients (each its own keep-alive connection) posting
   documents of 1,000 distinct events, each answer followed to the job's end; only events whose
   job succeeded count; the server's CPU (all its processes, from /proc) per 1,000 events; then
   the database must hold exactly the events sent. ``--workers`` and ``--clients`` take comma
   lists (every pair is run) for a sweep;
1. capture in the store, one process (parse, schema, references, insert), documents of 1,000;
2. capture over HTTP, one sequential client, in-process server (a floor: server, capture job
   and client share one interpreter lock): uvicorn in a thread on a free port,
   ``POST /epcis/capture`` (a document up to ``epcis_inline_mb`` is captured in the request's
   worker thread and answered finished; a larger one is a job on the interactive lane of the
   shared queue and the answer waits for it); the same events again as EPCIS XML (``Content-Type: application/xml``: parse, GS1's
   XSD, conversion, then the JSON path), with the CPU time per 1,000 events of the conversion alone (load-independent);
3. JetStream: documents published to NATS (127.0.0.1:4222), then 1, 2 and 4 ``corridor track
   consume`` processes in one queue group; events/s from the first to the last commit;
4. a ``--reject-mb`` document whose last event is invalid, posted while a thread calls
   ``/health`` every 20 ms: the time to the refusal (the 400, or the capture job's outcome when
   it takes longer than ``epcis_capture_wait_s``) and the /health p50/p99/max during it;
5. query p50/p95 with everything stored: one shipment's events, one container's, one bizStep page.
6. SQLite only: the integrity check and the event count as a new process sees the file.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
from _harness import scratch_postgres, serve
from _service import PG_URL, Service, server_cpu, service
from capacity import _backends, _cpu_ms
from sqlalchemy import func, select

from corridor.settings import PACKAGE_DATA_DIR
from corridor.store.accounts import Principal, create_organisation, create_user, issue_token
from corridor.store.db import Database
from corridor.store.models import EpcisEvent, Organisation, OrgKind, User
from corridor.store.seed import prepare
from corridor.store.tracking_capture import capture
from corridor.tracking.document import parse

DOC = 1000
ADMIN = "admin@demo.corridor"
CONTEXT = ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"]
NODES = ("dostyk", "aktau_port", "alat_port", "tbilisi", "poti_port")


def events(n: int, start: int, shipment: int = 0) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for k in range(start, start + n):
        node = NODES[k % len(NODES)]
        out.append(
            {
                "type": "ObjectEvent",
                "eventID": f"urn:uuid:{uuid.UUID(int=k + (shipment << 64))}",
                "eventTime": f"2026-03-{1 + k % 28:02d}T{k % 24:02d}:00:00.000Z",
                "eventTimeZoneOffset": "+00:00",
                "epcList": [f"urn:epc:id:bic:CSQU{k % 100000:06d}3"],
                "action": "OBSERVE",
                "bizStep": "departing" if k % 2 else "arriving",
                "disposition": "in_transit",
                "readPoint": {"id": f"urn:corridor:node:{node}"},
                "bizLocation": {"id": f"urn:corridor:node:{node}"},
                "bizTransactionList": [
                    {"type": "bol", "bizTransaction": f"urn:corridor:ref:B{k % 500}"}
                ],
            }
        )
    return out


def document(evts: list[dict[str, Any]]) -> bytes:
    return orjson.dumps(
        {
            "@context": CONTEXT,
            "type": "EPCISDocument",
            "schemaVersion": "2.0",
            "creationDate": "2026-03-01T00:00:00Z",
            "epcisBody": {"eventList": evts},
        }
    )


def admin(db: Database) -> Principal:
    with db.session() as s:
        user = s.scalar(select(User).where(User.email == ADMIN))
        assert user is not None
        org = s.get(Organisation, user.organisation_id)
        assert org is not None
        return Principal(
            user.id, user.email, user.name, org.id, org.name, OrgKind(org.kind), None, "bench"
        )


def stored(db: Database) -> int:
    with db.session() as s:
        return int(s.scalar(select(func.count()).select_from(EpcisEvent)) or 0)


def bench_store(db: Database, label: str, total: int, offset: int) -> int:
    who = admin(db)
    docs = [document(events(DOC, offset + i, 1)) for i in range(0, total, DOC)]
    t0 = time.perf_counter()
    for raw in docs:
        with db.session() as s:
            capture(s, who, NODES, parse(raw))
    seconds = time.perf_counter() - t0
    print(
        f"{label}: store capture, 1 process: {len(docs) * DOC / seconds:,.0f} events/s ({len(docs) * DOC:,} events)"
    )
    return offset + len(docs) * DOC


def bench_http(base: str, headers: dict[str, str], label: str, total: int, offset: int) -> int:
    docs = [document(events(DOC, offset + i, 2)) for i in range(0, total, DOC)]
    with httpx.Client(base_url=base, timeout=300) as client:
        t0, cpu0 = time.perf_counter(), time.process_time()
        for raw in docs:
            r = client.post(
                "/epcis/capture",
                content=raw,
                headers={**headers, "Content-Type": "application/ld+json"},
            )
            assert r.status_code == 202, r.text[:300]
        seconds = time.perf_counter() - t0
        cpu = time.process_time() - cpu0
    print(
        f"{label}: HTTP capture, 1 sequential client, in-process server (floor): "
        f"{len(docs) * DOC / seconds:,.0f} events/s ({len(docs) * DOC:,} events); "
        f"CPU {cpu * 1000 / len(docs):.0f} ms per document of {DOC:,} (server, job and client "
        "in this process; load-independent)"
    )
    return offset + len(docs) * DOC


def _post_until_done(client: httpx.Client, raw: bytes, headers: dict[str, str]) -> bool:
    """Post one document and follow its capture job to the end: True when it was captured."""
    r = client.post(
        "/epcis/capture", content=raw, headers={**headers, "Content-Type": "application/ld+json"}
    )
    if r.status_code != 202:
        print(f"  capture refused: HTTP {r.status_code} {r.text[:200]}")
        return False
    job = r.json()
    while job["running"]:  # past epcis_capture_wait_s: the job is still running; follow it
        time.sleep(0.05)
        job = client.get(r.headers["Location"].removeprefix("/api/v1"), headers=headers).json()
    return bool(job["success"])


def _clients(svc: Service, docs: list[bytes], clients: int) -> int:
    """``docs`` posted by ``clients`` threads, each on its own keep-alive connection, taking the
    next document from a shared list; returns the documents confirmed captured."""
    queue = list(reversed(docs))
    lock = threading.Lock()
    captured = [0] * clients

    def work(c: int) -> None:
        headers = {"Authorization": f"Bearer {svc.tokens[c][1]}"}
        with httpx.Client(base_url=svc.base, timeout=300) as client:
            while True:
                with lock:
                    if not queue:
                        return
                    raw = queue.pop()
                captured[c] += _post_until_done(client, raw, headers)

    threads = [threading.Thread(target=work, args=(c,)) for c in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(captured)


def carrier_tokens(db: Database, clients: int) -> list[tuple[str, str]]:
    """One carrier organisation and an API token per client: a carrier (a terminal's or a line's
    feed) captures events without naming shipments, as the admin of the in-process run does."""
    with db.session(write=True) as s:
        org = create_organisation(s, "Bench carrier feed", "carrier")
        user = create_user(s, org.id, "feed@bench.test", "Feed", "x" * 12)
        return [
            (org.id, issue_token(s, user.id, "bench", timedelta(days=1))) for _ in range(clients)
        ]


def bench_served(
    kind: str, label: str, pg_url: str, workers: int, clients: int, total: int
) -> None:
    """Capture over HTTP against ``corridor serve --workers N`` as its own process group, with
    ``clients`` concurrent clients: the service as deployed, not sharing this process's GIL."""
    with service(kind, pg_url, 8, 1, clients) as svc:
        if svc is None:
            print(f"{label}: served capture skipped (PostgreSQL not reachable)")
            return
        svc.tokens = carrier_tokens(svc.db, clients)
        svc.start(workers)
        # One document per client first, outside the timing: connections, schemas, caches.
        warm = [document(events(DOC, i * DOC, 6)) for i in range(clients)]
        warmed = _clients(svc, warm, clients)
        docs = [document(events(DOC, i, 5)) for i in range(0, total, DOC)]
        backends = _backends(svc.db)  # PostgreSQL's processes serving the server's pools
        cpu0, wall0, pg0 = server_cpu(svc), time.perf_counter(), _cpu_ms(backends)
        client0 = time.process_time()
        done = _clients(svc, docs, clients)
        seconds = time.perf_counter() - wall0
        cpu, client_cpu = server_cpu(svc) - cpu0, time.process_time() - client0
        pg_ms = _cpu_ms(backends) - pg0
        sent = (len(warm) + len(docs)) * DOC
        with svc.db.session() as s:
            rows = int(s.scalar(select(func.count()).select_from(EpcisEvent)) or 0)
            distinct = int(s.scalar(select(func.count(func.distinct(EpcisEvent.event_id)))) or 0)
        svc.db.dispose()
        verdict = "exactly the events sent" if rows == distinct == sent else "MISMATCH"
        per_k = DOC / max(done * DOC, 1)  # CPU per 1,000 events captured
        backend = f", PostgreSQL backends {pg_ms * per_k:.0f} ms" if backends else ""
        print(
            f"{label}: HTTP capture, serve --workers {workers}, {clients} clients: "
            f"{done * DOC / seconds:,.0f} events/s ({done * DOC:,} of {len(docs) * DOC:,} events "
            f"confirmed captured); CPU per 1,000 events: server {cpu * 1000 * per_k:.0f} ms (all "
            f"its processes){backend}, clients {client_cpu * 1000 * per_k:.0f} ms; database: "
            f"{rows:,} events, {distinct:,} distinct, {sent:,} sent: {verdict}"
        )
        if verdict != "exactly the events sent" or warmed != len(warm) or done != len(docs):
            raise SystemExit(f"{label}: events lost, duplicated or refused")


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


def bench_jetstream(
    db: Database, var: Path, label: str, consumers: int, total: int, offset: int
) -> int:
    tag = uuid.uuid4().hex[:8]
    subject, stream = f"bench.{tag}", f"BENCH{tag}"
    tag_id = 0x30 + consumers  # a prefix of its own, so the span covers this run only
    docs = [document(events(DOC, offset + i, tag_id)) for i in range(0, total, DOC)]
    try:
        asyncio.run(_publish(subject, stream, docs))
    except Exception as exc:
        print(f"{label}: JetStream skipped ({exc.__class__.__name__}: NATS not reachable)")
        return offset
    before = stored(db)
    env = {**os.environ, "CORRIDOR_DATABASE_URL": db.url, "CORRIDOR_VAR_DIR": str(var)}
    cli = [
        str(Path(sys.executable).parent / "corridor"),
        "track",
        "consume",
        "--as",
        ADMIN,
        "--subject",
        subject,
        "--stream",
        stream,
        "--dead-letter",
        subject + ".dead",
        "--idle-exit",
        "3",
    ]
    children0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    procs = [
        subprocess.Popen(cli, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        for _ in range(consumers)
    ]
    failures = []
    for p in procs:
        _, err = p.communicate(timeout=900)  # read as it comes: a full pipe would block it
        if p.returncode:
            failures.append(err.decode(errors="replace")[-2000:])
    children1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (children1.ru_utime + children1.ru_stime) - (children0.ru_utime + children0.ru_stime)
    asyncio.run(_drop(stream))
    if failures:
        raise SystemExit(f"{label}: a JetStream consumer failed:\n" + "\n".join(failures))
    with db.session() as s:
        first, last = s.execute(
            select(func.min(EpcisEvent.record_time), func.max(EpcisEvent.record_time)).where(
                EpcisEvent.event_id.like(f"urn:uuid:{uuid.UUID(int=tag_id << 64)}"[:-12] + "%")
            )
        ).one()
    captured = stored(db) - before
    if captured != len(docs) * DOC:  # each event exactly once, or the figure means nothing
        raise SystemExit(f"{label}: {captured:,} events stored of {len(docs) * DOC:,} published")
    span = (last - first).total_seconds() if first and last else 0.0
    per_doc = span / max(1, len(docs) - 1)
    seconds = span + per_doc  # the last document's own capture time
    print(
        f"{label}: JetStream, {consumers} consumer(s): {captured / max(seconds, 1e-9):,.0f} events/s "
        f"({captured:,} events); consumers' CPU {cpu * 1000 * DOC / max(captured, 1):.0f} ms per "
        f"1,000 events, start-up included (load-independent)"
    )
    return offset + len(docs) * DOC


def bench_reject(base: str, headers: dict[str, str], label: str, megabytes: float) -> None:
    one = len(document(events(1, 0)))
    count = int(megabytes * 2**20 / (one - 150))
    evts = events(count, 10_000_000, 4)
    evts[-1]["action"] = "WATCH"
    raw = document(evts)
    latencies: list[float] = []
    done = threading.Event()

    def poll() -> None:
        with httpx.Client(base_url=base, timeout=30) as c:
            while not done.is_set():
                t = time.perf_counter()
                c.get("/health")
                latencies.append((time.perf_counter() - t) * 1000)
                time.sleep(0.02)

    poller = threading.Thread(target=poll)
    poller.start()
    with httpx.Client(base_url=base, timeout=600) as client:
        t0 = time.perf_counter()
        r = client.post(
            "/epcis/capture",
            content=raw,
            headers={**headers, "Content-Type": "application/ld+json"},
        )
        outcome = f"HTTP {r.status_code}"
        # Capture is a job: past epcis_capture_wait_s the answer is 202 (running); follow it.
        if r.status_code == 202 and r.json()["running"]:
            location = r.headers["Location"].removeprefix("/api/v1")
            job = r.json()
            while job["running"]:
                time.sleep(0.2)
                job = client.get(location, headers=headers).json()
            outcome = f"HTTP 202, then the job: success={job['success']}"
        seconds = time.perf_counter() - t0
    done.set()
    poller.join()
    latencies.sort()
    print(
        f"{label}: {len(raw) / 2**20:.0f} MB document ({count:,} events), last one bad: {outcome} "
        f"in {seconds:.1f} s; /health during it p50 {statistics.median(latencies):.0f} ms, "
        f"p99 {latencies[int(0.99 * (len(latencies) - 1))]:.0f} ms, max {latencies[-1]:.0f} ms ({len(latencies)} calls)"
    )


def bench_query(base: str, headers: dict[str, str], label: str, total: int) -> None:
    with httpx.Client(base_url=base, timeout=60) as client:
        queries: tuple[tuple[str, Any], ...] = (
            (
                "one business transaction",
                lambda k: {"EQ_bizTransaction_bol": f"urn:corridor:ref:B{k % 500}"},
            ),
            ("one container", lambda k: {"MATCH_epc": f"urn:epc:id:bic:CSQU{k % 100000:06d}3"}),
            ("bizStep page", lambda k: {"EQ_bizStep": "departing", "perPage": 100}),
        )
        for name, params in queries:
            samples = []
            for k in range(100):
                t = time.perf_counter()
                r = client.get("/epcis/events", params=params(k * 37), headers=headers)
                samples.append((time.perf_counter() - t) * 1000)
                assert r.status_code == 200, r.text[:200]
            samples.sort()
            print(
                f"{label}: query {name} with {total:,} stored: p50 {statistics.median(samples):.1f} ms, p95 {samples[94]:.1f} ms"
            )


def xml_document(evts: list[dict[str, Any]]) -> bytes:
    """The events of :func:`events` as an EPCIS 2.0 XML document (CBV words as URNs)."""
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?><epcis:EPCISDocument '
        'xmlns:epcis="urn:epcglobal:epcis:xsd:2" schemaVersion="2.0" '
        'creationDate="2026-03-01T00:00:00Z"><EPCISBody><EventList>'
    ]
    for e in evts:
        parts.append(
            f"<ObjectEvent><eventTime>{e['eventTime']}</eventTime>"
            f"<eventTimeZoneOffset>{e['eventTimeZoneOffset']}</eventTimeZoneOffset>"
            f"<eventID>{e['eventID']}</eventID>"
            f"<epcList><epc>{e['epcList'][0]}</epc></epcList><action>{e['action']}</action>"
            f"<bizStep>urn:epcglobal:cbv:bizstep:{e['bizStep']}</bizStep>"
            f"<disposition>urn:epcglobal:cbv:disp:{e['disposition']}</disposition>"
            f"<readPoint><id>{e['readPoint']['id']}</id></readPoint>"
            f"<bizLocation><id>{e['bizLocation']['id']}</id></bizLocation>"
            "<bizTransactionList><bizTransaction type='urn:epcglobal:cbv:btt:bol'>"
            f"{e['bizTransactionList'][0]['bizTransaction']}</bizTransaction>"
            "</bizTransactionList></ObjectEvent>"
        )
    parts.append("</EventList></EPCISBody></epcis:EPCISDocument>")
    return "".join(parts).encode()


def bench_http_xml(base: str, headers: dict[str, str], label: str, total: int, offset: int) -> int:
    from corridor.tracking.xml import document_from_xml

    docs = [xml_document(events(DOC, offset + i, 3)) for i in range(0, total, DOC)]
    document_from_xml(docs[0])  # loads GS1's XSD once, outside the timing
    cpu0 = time.process_time()
    for raw in docs[:5]:
        document_from_xml(raw)
    convert_ms = (time.process_time() - cpu0) * 1000 / min(5, len(docs))
    with httpx.Client(base_url=base, timeout=300) as client:
        t0 = time.perf_counter()
        for raw in docs:
            r = client.post(
                "/epcis/capture",
                content=raw,
                headers={**headers, "Content-Type": "application/xml"},
            )
            assert r.status_code == 202, r.text[:300]
        seconds = time.perf_counter() - t0
    print(
        f"{label}: HTTP capture, EPCIS XML: {len(docs) * DOC / seconds:,.0f} events/s "
        f"({len(docs) * DOC:,} events); XML parse + XSD + conversion alone: "
        f"{convert_ms:.0f} ms CPU per 1,000 events"
    )
    return offset + len(docs) * DOC


def run(db: Database, label: str, args: argparse.Namespace) -> None:
    # The reject document holds more events than the default capture limit: raise it, so the
    # server has to find the bad event rather than refuse the count.
    os.environ["CORRIDOR_EPCIS_MAX_EVENTS"] = "1000000"
    with tempfile.TemporaryDirectory() as tmp:
        var = Path(tmp)
        logins = {
            lg.email: lg.password for lg in prepare(db, PACKAGE_DATA_DIR, demo_shipment=False)
        }
        offset = bench_store(db, label, args.events, 0)
        base, server, thread = serve(db, var)
        with httpx.Client(base_url=base, timeout=120) as c:  # argon2 on a loaded machine
            token = c.post("/auth/login", json={"email": ADMIN, "password": logins[ADMIN]}).json()[
                "token"
            ]
        headers = {"Authorization": f"Bearer {token}"}
        offset = bench_http(base, headers, label, args.events, offset)
        if not args.skip_xml:
            offset = bench_http_xml(base, headers, label, args.events, offset)
        for n in args.jetstream:
            offset = bench_jetstream(db, var, label, n, args.events, offset)
        if args.reject_mb > 0:
            bench_reject(base, headers, label, args.reject_mb)
        bench_query(base, headers, label, stored(db))
        server.should_exit = True
        thread.join(10)
        if db.dialect == "sqlite":
            check_sqlite(db, label)


def check_sqlite(db: Database, label: str) -> None:
    """The integrity check and the event count, as a new process opening the file sees them: a
    process whose WAL was deleted under it would still see its own commits, nobody else would."""
    code = (
        "import sqlite3, sys\n"
        "c = sqlite3.connect(sys.argv[1])\n"
        "print(c.execute('SELECT count(*) FROM epcis_events').fetchone()[0])\n"
        "print(', '.join(r[0] for r in c.execute('PRAGMA integrity_check').fetchmany(5)))\n"
    )
    path = db.url.split("///", 1)[-1]
    out = subprocess.run([sys.executable, "-c", code, path], capture_output=True, text=True)
    lines = out.stdout.split("\n")
    verdict = lines[1] if len(lines) > 1 else out.stderr.strip()[-300:]
    print(f"{label}: from a new process: {lines[0] or '?'} events, integrity check: {verdict}")
    if verdict != "ok" or lines[0] != str(stored(db)):
        raise SystemExit(f"{label}: the database file is damaged or misses commits")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=50_000, help="events per capture measurement")
    parser.add_argument(
        "--jetstream", default="1,2,4", help="consumer process counts ('' for none)"
    )
    parser.add_argument("--reject-mb", type=float, default=50.0)
    parser.add_argument("--postgres", default=PG_URL)
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--skip-xml", action="store_true", help="no EPCIS XML capture figure")
    parser.add_argument(
        "--workers", default="2", help="`corridor serve --workers` for the served capture (list)"
    )
    parser.add_argument(
        "--clients", default="4", help="concurrent clients for the served capture (list)"
    )
    parser.add_argument(
        "--served-only", action="store_true", help="only the served capture (for a sweep)"
    )
    args = parser.parse_args()
    args.jetstream = [int(n) for n in args.jetstream.split(",") if n]
    kinds = [
        (kind, label)
        for kind, label, skip in (
            ("sqlite", "SQLite", args.skip_sqlite),
            ("postgres", "PostgreSQL", args.skip_postgres),
        )
        if not skip
    ]
    for kind, label in kinds:
        for workers in (int(n) for n in args.workers.split(",")):
            for clients in (int(n) for n in args.clients.split(",")):
                bench_served(kind, label, args.postgres, workers, clients, args.events)
    if args.served_only:
        return
    if not args.skip_sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            db = Database(f"sqlite:///{tmp}/bench.db")
            run(db, "SQLite", args)
            db.dispose()
    if not args.skip_postgres:
        with scratch_postgres(args.postgres) as pg:
            if pg is not None:
                run(pg, "PostgreSQL", args)


if __name__ == "__main__":
    main()
