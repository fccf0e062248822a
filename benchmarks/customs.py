"""Customs benchmark: batch lodging and single declarations through the real server, and verify.

    .venv/bin/python benchmarks/customs.py [--declarations 4000] [--batch 500] [--clients 4]
        [--single 200] [--workers-sqlite 1] [--workers-postgres 4] [--postgres URL] [--skip-postgres]

For each database (embedded SQLite, then PostgreSQL when reachable) it prepares a database, starts
``uvicorn --factory corridor.api.worker:app`` with N worker processes (what ``corridor serve
--workers N`` runs) on a free local port, books one shipment through the API and copies it ``--declarations + --single`` times in the database (one declaration per
shipment is the rule). Then it measures:

* **batch lodging**: ``POST /customs/declarations/batch`` with ``--batch`` declarations per request
  from ``--clients`` concurrent clients; each declaration validated, assessed at every office,
  stored and logged (draft and lodge records, one signature each) under one signed tree head per
  batch. Prints declarations per second, the p50/p99 latency of a batch request, and the CPU
  time per declaration of the server and of the PostgreSQL backends (from /proc), which does not
  depend on what else the machine runs. SQLite takes one writer at a time, so its batches come
  from ``--sqlite-batch-clients`` (default 1) clients;
* **single declarations**: create-and-lodge, accept and release, three requests each (the old
  path), declarations per second and p50/p99 of the sequence;
* **verify** of the whole stored log over HTTP (signatures with the pinned keys, chain, tree
  heads, every declaration's state re-derived).

It also counts the SQL statements of one in-process batch against those of single declarations,
and times ``verify`` on a synthetic signed log of 100,000 records next to the Ed25519 checks alone.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
from _harness import scratch_postgres
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import event, insert, select

from corridor.customs import ledger
from corridor.customs.examples import example_declaration
from corridor.settings import PACKAGE_DATA_DIR, Settings
from corridor.store.db import Database
from corridor.store.models import Shipment
from corridor.store.seed import prepare

ROUTE = {
    "origin": "dostyk",
    "destination": "tbilisi",
    "ready": "2026-03-03T08:00:00Z",
    "containers": 1,
    "via": ["aktau_port"],
    "best": "time",
}


def start_server(url: str, var_dir: Path, workers: int) -> tuple[str, subprocess.Popen[bytes]]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "CORRIDOR_DATABASE_URL": url, "CORRIDOR_VAR_DIR": str(var_dir)}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "corridor.api.worker:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--log-level",
            "warning",
        ],
        env=env,
    )
    base = f"http://127.0.0.1:{port}/api/v1"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                return base, server
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    server.kill()
    raise RuntimeError("the server did not start in 120 s")


def stop_server(server: subprocess.Popen[bytes]) -> None:
    server.terminate()
    try:
        server.wait(20)
    except subprocess.TimeoutExpired:
        server.kill()


def clone_shipments(db: Database, shipment_id: str, count: int) -> list[str]:
    """``count`` copies of a booked shipment (set-up, not measured)."""
    with db.write_session() as s:
        row = s.execute(select(Shipment.__table__).where(Shipment.id == shipment_id)).one()
        base = dict(row._mapping)
        ids = [uuid.uuid4().hex[:16] for _ in range(count)]
        for start in range(0, count, 1000):
            s.execute(
                insert(Shipment),
                [{**base, "id": i, "reference": f"B-{i}"} for i in ids[start : start + 1000]],
            )
    return ids


def cpu_seconds(server_pid: int, database: str | None) -> tuple[float, float]:
    """CPU time used so far by the server (its process and workers) and by the PostgreSQL
    backends serving ``database`` (their process titles name it), from /proc. The figures do not
    depend on what else runs on the machine, unlike wall-clock rates."""
    tick = os.sysconf("SC_CLK_TCK")
    app = db = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        pid, ppid = int(stat.parent.name), int(fields[1])
        used = (int(fields[11]) + int(fields[12])) / tick
        if pid == server_pid or ppid == server_pid:
            app += used
        elif database and f" {database} " in cmdline.replace("\x00", " "):
            db += used
    return app, db


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def statements(
    db: Database, shipment_ids: list[str], forwarder_org: str, keys_dir: Path
) -> tuple[int, int]:
    """SQL statements of one in-process batch lodging ``shipment_ids``."""
    from corridor.customs.declaration import DeclarationBody
    from corridor.customs.risk import load_profiles
    from corridor.network import load_network
    from corridor.store import customs
    from corridor.store.accounts import Principal
    from corridor.store.models import OrgKind

    network = load_network(PACKAGE_DATA_DIR)
    profiles = load_profiles(PACKAGE_DATA_DIR / "customs_risk_profiles.csv")
    who = Principal("u", "u@x", "u", forwarder_org, "f", OrgKind.FORWARDER, None, "t")
    items = [
        customs.NewDeclaration(sid, DeclarationBody.model_validate(example_declaration(f"S-{i}")))
        for i, sid in enumerate(shipment_ids)
    ]
    seen: list[str] = []

    def count(*args: Any) -> None:
        seen.append(args[2])

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        with db.write_session() as s:
            customs.create_many(s, who, network, keys_dir, profiles, items)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return len(seen), len(items)


def run(db: Database, label: str, args: argparse.Namespace, workers: int) -> None:
    with tempfile.TemporaryDirectory() as var:
        logins = {lg.email: lg.password for lg in prepare(db, PACKAGE_DATA_DIR)}
        # One app built here first creates the job queue's tables, which N workers starting at
        # once would race to create.
        from corridor.api import create_app

        create_app(Settings(var_dir=Path(var), database_url=db.url), db)
        base, server = start_server(db.url, Path(var), workers)
        try:
            measure(db, label, args, workers, base, logins, Path(var) / "keys", server.pid)
        finally:
            stop_server(server)


def measure(
    db: Database,
    label: str,
    args: argparse.Namespace,
    workers: int,
    base: str,
    logins: dict[str, str],
    keys_dir: Path,
    server_pid: int,
) -> None:
    client = httpx.Client(base_url=base, timeout=300)

    def token(email: str, password: str) -> dict[str, str]:
        r = client.post("/auth/login", json={"email": email, "password": password})
        return {"Authorization": "Bearer " + r.json()["token"]}

    admin = token("admin@demo.corridor", logins["admin@demo.corridor"])
    org = client.post(
        "/admin/organisations",
        json={"name": "KZ customs", "kind": "customs", "country": "KZ"},
        headers=admin,
    ).json()
    client.post(
        "/admin/users",
        json={
            "organisation_id": org["id"],
            "email": "kz@bench.test",
            "name": "KZ",
            "password": "bench password",
        },
        headers=admin,
    )
    kz = token("kz@bench.test", "bench password")
    fwd = token("forwarder@demo.corridor", logins["forwarder@demo.corridor"])
    booked = client.post(
        "/shipments", json={"reference": "BENCH", "route": ROUTE}, headers=fwd
    ).json()
    extra = 2 * args.batch
    ids = clone_shipments(db, booked["id"], args.declarations + args.single + extra)
    batch_ids, single_ids, probe_ids = (
        ids[: args.declarations],
        ids[args.declarations : args.declarations + args.single],
        ids[args.declarations + args.single :],
    )
    with db.session() as s:
        forwarder_org = s.scalar(select(Shipment.organisation_id).where(Shipment.id == ids[0]))
    sql, n = statements(db, probe_ids[: args.batch], str(forwarder_org), keys_dir)
    print(
        f"{label}: one batch of {n} declarations runs {sql} SQL statements "
        f"({sql / n:.3f} per declaration)"
    )

    # Batch lodging: payloads serialised before the clock starts.
    payloads = [
        json.dumps(
            {
                "declarations": [
                    {"shipment_id": sid, "declaration": example_declaration(f"B-{sid}")}
                    for sid in batch_ids[i : i + args.batch]
                ]
            }
        ).encode()
        for i in range(0, len(batch_ids), args.batch)
    ]
    headers = {**fwd, "Content-Type": "application/json"}
    warm = json.dumps(
        {
            "declarations": [
                {"shipment_id": sid, "declaration": example_declaration(f"W-{sid}")}
                for sid in probe_ids[args.batch : args.batch + 10]
            ]
        }
    ).encode()
    for _ in range(workers):  # each worker loads the risk data and HS codes once
        client.post("/customs/declarations/batch", content=warm, headers=headers)
        warm = warm.replace(b'"W-', b'"X-')  # same shipments: answered 409, still warms up

    def lodge(payload: bytes) -> float:
        with httpx.Client(base_url=base, timeout=300) as c:
            t0 = time.perf_counter()
            r = c.post("/customs/declarations/batch", content=payload, headers=headers)
            assert r.status_code == 201, r.text[:300]
            return (time.perf_counter() - t0) * 1000

    database = db.url.rsplit("/", 1)[-1] if db.dialect == "postgresql" else None
    app0, db0 = cpu_seconds(server_pid, database)
    t0 = time.perf_counter()
    batch_clients = args.sqlite_batch_clients if db.dialect == "sqlite" else args.clients
    with ThreadPoolExecutor(batch_clients) as pool:
        latencies = list(pool.map(lodge, payloads))
    seconds = time.perf_counter() - t0
    app1, db1 = cpu_seconds(server_pid, database)
    n = len(batch_ids)
    print(
        f"{label} ({workers} worker{'s' if workers > 1 else ''}): {n} declarations "
        f"lodged in batches of {args.batch} from {batch_clients} client(s) in {seconds:.2f} s: "
        f"{n / seconds:,.0f} declarations/s; per batch request "
        f"p50 {statistics.median(latencies):.0f} ms, p99 {percentile(latencies, 0.99):.0f} ms"
    )
    cpu_ms = (app1 - app0 + db1 - db0) * 1000 / n
    print(
        f"{label}: CPU per declaration {cpu_ms:.2f} ms (server {(app1 - app0) * 1000 / n:.2f} ms"
        + (f", PostgreSQL {(db1 - db0) * 1000 / n:.2f} ms" if database else "")
        + f"), i.e. {1000 / cpu_ms:,.0f} declarations/s per free CPU core; "
        f"load average during the run {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )

    def one(sid: str) -> float:
        with httpx.Client(base_url=base, timeout=60) as c:
            t0 = time.perf_counter()
            r = c.post(
                "/customs/declarations",
                json={"shipment_id": sid, "declaration": example_declaration(f"S-{sid}")},
                headers=fwd,
            )
            assert r.status_code == 201, r.text[:300]
            decl = r.json()
            office = decl["offices"][0]["id"]
            for action in ("accept", "release"):
                r = c.post(
                    f"/customs/declarations/{decl['id']}/actions",
                    json={"action": action, "office_id": office},
                    headers=kz,
                )
                assert r.status_code == 200, r.text[:300]
            return (time.perf_counter() - t0) * 1000

    if single_ids:
        app0, db0 = cpu_seconds(server_pid, database)
        t0 = time.perf_counter()
        with ThreadPoolExecutor(args.clients) as pool:
            singles = list(pool.map(one, single_ids))
        seconds = time.perf_counter() - t0
        app1, db1 = cpu_seconds(server_pid, database)
        print(
            f"{label}: {len(single_ids)} single declarations lodged, accepted and released "
            f"(3 requests each) from {args.clients} clients in {seconds:.2f} s: "
            f"{len(single_ids) / seconds:,.0f} declarations/s; p50 "
            f"{statistics.median(singles):.1f} ms, p99 {percentile(singles, 0.99):.1f} ms; "
            f"CPU {(app1 - app0 + db1 - db0) * 1000 / len(single_ids):.1f} ms per declaration"
        )
    t0 = time.perf_counter()
    report = client.get("/customs/log/verify", headers=admin).json()
    print(
        f"{label}: verify of the stored log ({report['records']:,} records, "
        f"{report['declarations']:,} declarations re-derived, ok={report['ok']}) took "
        f"{time.perf_counter() - t0:.2f} s"
    )
    client.close()


def verify_speed(records: int = 100_000) -> None:
    key = Ed25519PrivateKey.generate()
    entries, prev = [], ledger.GENESIS
    for seq in range(1, records + 1):
        body = {
            "seq": seq,
            "declaration": f"d{seq // 4}",
            "action": "release",
            "office": "co-dostyk",
            "office_index": 0,
            "actor": "kz-customs",
            "signer": "kz-customs",
            "details": {},
            "at": "2026-03-03T08:00:00+00:00",
        }
        h = ledger.entry_hash(prev, body)
        entries.append(ledger.Entry(seq, body, prev, h, "k", ledger.sign(key, h)))
        prev = h
    public = key.public_key()
    t0 = time.perf_counter()
    report = ledger.verify(entries, {"k": public}, {"k": "kz-customs"})
    verify_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    for e in entries:
        public.verify(bytes.fromhex(e.signature), bytes.fromhex(e.record_hash))
    sig_s = time.perf_counter() - t0
    print(
        f"verify: {records:,} records in {verify_s:.2f} s (ok={report.ok}); the Ed25519 checks "
        f"alone take {sig_s:.2f} s, so verify runs at {sig_s / verify_s:.0%} of signature-check speed"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--declarations", type=int, default=4000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument(
        "--sqlite-batch-clients",
        type=int,
        default=1,
        help="SQLite has one writer: concurrent batches only queue on its lock (default 1)",
    )
    parser.add_argument("--single", type=int, default=200)
    parser.add_argument("--workers-sqlite", type=int, default=1)
    parser.add_argument("--workers-postgres", type=int, default=4)
    parser.add_argument(
        "--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--skip-sqlite", action="store_true")
    args = parser.parse_args()
    if not args.skip_sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            db = Database(f"sqlite:///{tmp}/bench.db")
            run(db, "SQLite", args, args.workers_sqlite)
            db.dispose()
    if not args.skip_postgres:
        with scratch_postgres(args.postgres) as pg:
            if pg is not None:
                run(pg, "PostgreSQL", args, args.workers_postgres)
    verify_speed()


if __name__ == "__main__":
    main()
