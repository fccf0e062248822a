"""Capacity benchmark: concurrent bookings through the HTTP API, and the overbooking check after.

    .venv/bin/python benchmarks/capacity.py [--bookings 2000] [--clients 50] [--postgres URL]
                                            [--skip-postgres]

For each database (embedded SQLite, and PostgreSQL when reachable) it starts the real server on a
free local port and fires ``--bookings`` holds from ``--clients`` concurrent HTTP clients (one
keep-alive connection each). Nine in ten go to the weekly Shanghai - Rotterdam sailings (14,000
TEU each, so they succeed); one in ten goes to a single 52-wagon Caspian rail ferry, so that
sailing fills up under contention and the rest are refused with 409 and the next sailings with
room. It prints booking attempts per second, p50/p99 latency, how many were granted and refused,
and then checks the database: slots whose held + confirmed exceed capacity (must be 0) and slots
whose counters disagree with the sum of their bookings (must be 0).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
from _harness import scratch_postgres, serve
from sqlalchemy import func, select

from corridor.settings import PACKAGE_DATA_DIR
from corridor.store.capacity_tables import CapBooking, CapSlot
from corridor.store.db import Database
from corridor.store.seed import prepare


def _check(db: Database) -> tuple[int, int, int]:
    """(overbooked slots, slots whose counters disagree with their bookings, slots)."""
    with db.session() as s:
        overbooked = s.scalar(
            select(func.count())
            .select_from(CapSlot)
            .where(CapSlot.held + CapSlot.confirmed > CapSlot.capacity)
        )
        sums = dict(
            s.execute(
                select(CapBooking.slot_id, func.sum(CapBooking.units))
                .where(CapBooking.state == "held")
                .group_by(CapBooking.slot_id)
            ).all()
        )
        slots = list(s.execute(select(CapSlot.id, CapSlot.held)).all())
    mismatched = sum(1 for slot_id, held in slots if int(sums.get(slot_id, 0)) != held)
    return int(overbooked or 0), mismatched, len(slots)


def run(db: Database, label: str, count: int, clients: int) -> None:
    with tempfile.TemporaryDirectory() as var:
        logins = {
            lg.email: lg.password for lg in prepare(db, PACKAGE_DATA_DIR, demo_shipment=False)
        }
        base, server, thread = serve(db, Path(var))
        setup = httpx.Client(base_url=base, timeout=60)
        email = "forwarder@demo.corridor"
        token = setup.post("/auth/login", json={"email": email, "password": logins[email]}).json()
        headers = {"Authorization": f"Bearer {token['token']}"}
        sea = setup.get(
            "/capacity/sailings",
            params={"service": "ae-shanghai-rotterdam", "days": 45},
            headers=headers,
        ).json()
        ferry = setup.get(
            "/capacity/sailings",
            params={"service": "asco-aktau-alat-ferry", "from_node": "aktau_port", "days": 14},
            headers=headers,
        ).json()
        hot = next(s for s in ferry if s["capacity"] == 52)
        local = threading.local()

        def body(i: int) -> dict[str, Any]:
            if i % 10 == 0:
                target, cargo = hot, "rail_wagon"
            else:
                target, cargo = sea[i % len(sea)], "20GP"
            return {
                "service": target["service"],
                "from_node": target["from_node"],
                "departure": target["departure"],
                "cargo": cargo,
                "items": 1,
            }

        def one(i: int) -> tuple[float, int]:
            client = getattr(local, "client", None)
            if client is None:
                client = local.client = httpx.Client(base_url=base, timeout=120, headers=headers)
            t0 = time.perf_counter()
            response = client.post("/capacity/bookings", json=body(i))
            return (time.perf_counter() - t0) * 1000, response.status_code

        one(1)  # warm-up (builds the timetable cache)
        t0 = time.perf_counter()
        with ThreadPoolExecutor(clients) as pool:
            results = list(pool.map(one, range(2, count + 2)))
        seconds = time.perf_counter() - t0
        latencies = sorted(ms for ms, _ in results)
        statuses = Counter(code for _, code in results)
        p99 = latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))]
        print(
            f"{label}: {count} booking requests with {clients} clients in {seconds:.2f} s: "
            f"{count / seconds:,.0f} bookings/s; p50 {statistics.median(latencies):.1f} ms, "
            f"p99 {p99:.1f} ms; answers {dict(sorted(statuses.items()))}"
        )
        overbooked, mismatched, slots = _check(db)
        with db.session() as s:
            held = s.scalar(select(CapSlot.held).where(CapSlot.id == hot["key"]))
        print(
            f"{label}: after the run {slots} slots, overbooked {overbooked}, counters not matching "
            f"their bookings {mismatched}; the 52-wagon ferry holds {held}"
        )
        setup.close()
        server.should_exit = True
        thread.join(10)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--bookings", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument(
        "--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{tmp}/bench.db")
        run(db, "SQLite", args.bookings, args.clients)
        db.dispose()
    if not args.skip_postgres:
        with scratch_postgres(args.postgres) as pg:
            if pg is not None:
                run(pg, "PostgreSQL", args.bookings, args.clients)


if __name__ == "__main__":
    main()
