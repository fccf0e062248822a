"""Customs benchmark: declarations end to end through the HTTP API, and log verification speed.

    .venv/bin/python benchmarks/customs.py [--declarations 300] [--clients 4] [--postgres URL]

For each database (embedded SQLite, and PostgreSQL when reachable) it starts the real server on a
free local port, books one shipment, then lodges (with risk assessment), accepts and releases
``--declarations`` declarations from ``--clients`` concurrent HTTP clients: three requests and
three signed log appends per declaration. It prints declarations per second and p50/p99 latency
of the whole sequence, then the time ``verify`` takes per 100,000 log records (measured on a
synthetic signed log of 100,000 records) next to the time of the Ed25519 checks alone.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from _harness import scratch_postgres, serve
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from corridor.customs import ledger
from corridor.customs.examples import example_declaration
from corridor.settings import PACKAGE_DATA_DIR
from corridor.store.db import Database
from corridor.store.seed import prepare


def run(db: Database, label: str, count: int, clients: int) -> None:
    with tempfile.TemporaryDirectory() as var:
        logins = {lg.email: lg.password for lg in prepare(db, PACKAGE_DATA_DIR)}
        base, server, thread = serve(db, Path(var))
        client = httpx.Client(base_url=base, timeout=60)

        def token(email: str, password: str) -> dict[str, str]:
            return {
                "Authorization": "Bearer "
                + client.post("/auth/login", json={"email": email, "password": password}).json()[
                    "token"
                ]
            }

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
        route = {
            "origin": "dostyk",
            "destination": "tbilisi",
            "ready": "2026-03-03T08:00:00Z",
            "containers": 1,
            "via": ["aktau_port"],
            "best": "time",
        }
        shipment = client.post(
            "/shipments", json={"reference": "BENCH", "route": route}, headers=fwd
        ).json()

        def one(i: int) -> float:
            with httpx.Client(base_url=base, timeout=60) as c:
                t0 = time.perf_counter()
                decl = c.post(
                    "/customs/declarations",
                    json={
                        "shipment_id": shipment["id"],
                        "declaration": example_declaration(f"B-{i}"),
                    },
                    headers=fwd,
                ).json()
                office = decl["offices"][0]["id"]
                for action in ("accept", "release"):
                    r = c.post(
                        f"/customs/declarations/{decl['id']}/actions",
                        json={"action": action, "office_id": office},
                        headers=kz,
                    )
                    assert r.status_code == 200, r.text
                return (time.perf_counter() - t0) * 1000

        one(-1)  # warm-up
        t0 = time.perf_counter()
        with ThreadPoolExecutor(clients) as pool:
            latencies = sorted(pool.map(one, range(count)))
        seconds = time.perf_counter() - t0
        p99 = latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))]
        print(
            f"{label}: {count} declarations lodged+assessed, accepted and released in {seconds:.2f} s with "
            f"{clients} clients: {count / seconds:,.0f} declarations/s; per declaration (3 requests) "
            f"p50 {statistics.median(latencies):.1f} ms, p99 {p99:.1f} ms"
        )
        t0 = time.perf_counter()
        report = client.get("/customs/log/verify", headers=admin).json()
        print(
            f"{label}: verify of the stored log ({report['records']} records, ok={report['ok']}) "
            f"took {time.perf_counter() - t0:.2f} s"
        )
        client.close()
        server.should_exit = True
        thread.join(10)


def verify_speed(records: int = 100_000) -> None:
    key = Ed25519PrivateKey.generate()
    entries, prev = [], ledger.GENESIS
    for seq in range(1, records + 1):
        body = {
            "seq": seq,
            "declaration": f"d{seq // 4}",
            "action": "release",
            "office": "co-dostyk",
            "actor": "kz-customs",
            "details": {},
            "at": "2026-03-03T08:00:00+00:00",
        }
        h = ledger.entry_hash(prev, body)
        entries.append(ledger.Entry(seq, body, prev, h, "k", ledger.sign(key, h)))
        prev = h
    public = key.public_key()
    t0 = time.perf_counter()
    report = ledger.verify(entries, {"k": public})
    verify_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    for e in entries:
        public.verify(bytes.fromhex(e.signature), bytes.fromhex(e.record_hash))
    sig_s = time.perf_counter() - t0
    print(
        f"verify: {records:,} records in {verify_s:.2f} s (ok={report.ok}); the Ed25519 checks alone take "
        f"{sig_s:.2f} s, so verify runs at {sig_s / verify_s:.0%} of signature-check speed"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--declarations", type=int, default=300)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument(
        "--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{tmp}/bench.db")
        run(db, "SQLite", args.declarations, args.clients)
        db.dispose()
    with scratch_postgres(args.postgres) as pg:
        if pg is not None:
            run(pg, "PostgreSQL", args.declarations, args.clients)
    verify_speed()


if __name__ == "__main__":
    main()
