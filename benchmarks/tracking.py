"""Tracking benchmark: EPCIS capture throughput and query latency over a million stored events.

    .venv/bin/python benchmarks/tracking.py [--events 1000000] [--postgres URL]

For each database (embedded SQLite, and PostgreSQL when reachable) it starts the real server on a
free local port, registers shipments, and captures ``--events`` events through ``POST
/epcis/capture`` in EPCISDocuments of 1,000 events (schema validation, reference checks,
idempotency, one transaction per document). It prints events per second, then the p50/p95
latency of ``GET /epcis/events?EQ_shipment=...`` (one shipment's events) with that many events
stored.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
from _harness import scratch_postgres, serve
from sqlalchemy import insert, text

from corridor.routing import Itinerary
from corridor.settings import PACKAGE_DATA_DIR
from corridor.store.db import Database
from corridor.store.models import Shipment
from corridor.store.seed import prepare
from corridor.tracking.generator import container_numbers, document, events_for

DOC = 1000


def run(db: Database, label: str, total: int) -> None:
    with tempfile.TemporaryDirectory() as var:
        logins = {lg.email: lg.password for lg in prepare(db, PACKAGE_DATA_DIR)}
        base, server, thread = serve(db, Path(var))
        client = httpx.Client(base_url=base, timeout=120)
        fwd = {
            "Authorization": "Bearer "
            + client.post(
                "/auth/login",
                json={
                    "email": "forwarder@demo.corridor",
                    "password": logins["forwarder@demo.corridor"],
                },
            ).json()["token"]
        }
        route = {
            "origin": "xian",
            "destination": "duisburg",
            "ready": "2026-03-03T08:00:00Z",
            "containers": 2,
            "best": "time",
        }
        template = client.post(
            "/shipments", json={"reference": "BENCH-0", "route": route}, headers=fwd
        ).json()
        plan = Itinerary.model_validate(template["itinerary"])
        per_shipment = 2 * len(plan.legs)
        shipments = -(-total // per_shipment)
        with db.session() as s:  # clone the booked shipment: the benchmark is about events
            row = s.get(Shipment, template["id"])
            assert row is not None
            base_row = {c.name: getattr(row, c.name) for c in Shipment.__table__.columns}
            ids = [uuid.uuid4().hex[:16] for _ in range(shipments)]
            s.execute(
                insert(Shipment),
                [{**base_row, "id": i, "reference": f"BENCH-{n}"} for n, i in enumerate(ids)],
            )
        rng = random.Random(1)
        pending: list[dict[str, object]] = []
        captured = 0
        seconds = 0.0
        for n, sid in enumerate(ids):
            pending += events_for(plan, sid, container_numbers(n, 2), seed=n, noise_h=3)
            while len(pending) >= DOC or (n == len(ids) - 1 and pending):
                batch, pending = pending[:DOC], pending[DOC:]
                body = document(batch, datetime.now(UTC))
                t0 = time.perf_counter()
                response = client.post("/epcis/capture", json=body, headers=fwd)
                seconds += time.perf_counter() - t0
                assert response.status_code == 201, response.text[:300]
                captured += response.json()["captured"]
            if captured >= total:
                break
        print(
            f"{label}: captured {captured:,} events in documents of {DOC:,} in {seconds:.1f} s: "
            f"{captured / seconds:,.0f} events/s"
        )
        with db.session() as s:
            stored = s.scalar(text("SELECT count(*) FROM epcis_events"))
        samples = []
        for sid in rng.sample(ids, min(200, len(ids))):
            t0 = time.perf_counter()
            response = client.get(
                "/epcis/events", params={"EQ_shipment": sid, "perPage": 100}, headers=fwd
            )
            samples.append((time.perf_counter() - t0) * 1000)
            assert response.status_code == 200
        samples.sort()
        print(
            f"{label}: one shipment's events with {stored:,} stored: p50 {statistics.median(samples):.1f} ms, "
            f"p95 {samples[int(0.95 * len(samples))]:.1f} ms ({len(samples)} queries)"
        )
        client.close()
        server.should_exit = True
        thread.join(10)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument(
        "--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    if not args.skip_sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            db = Database(f"sqlite:///{tmp}/bench.db")
            run(db, "SQLite", args.events)
            db.dispose()
    if args.skip_postgres:
        return
    with scratch_postgres(args.postgres) as pg:
        if pg is not None:
            run(pg, "PostgreSQL", args.events)


if __name__ == "__main__":
    main()
