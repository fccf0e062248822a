"""Capacity benchmark: concurrent holds through the HTTP API, then the overbooking check.

    .venv/bin/python benchmarks/capacity.py [--db both|sqlite|postgres] [--workers 2]
                                            [--bookings 3000] [--clients 50] [--threads 8]

For each database it prepares a scratch database (embedded SQLite, or a new PostgreSQL database
when reachable), gives each client its own forwarder API token, starts the real server as a
process group (``corridor serve --workers N``: SQLite always with one worker, PostgreSQL with
``--workers``) and fires ``--bookings`` holds from ``--clients`` concurrent clients, each on its
own keep-alive connection. Nine in ten go to the weekly Shanghai - Rotterdam sailings (14,000 TEU
each, so they succeed); one in ten goes to a single 52-wagon Caspian rail ferry, so that sailing
fills up under contention and the rest are refused with 409 and the next sailings with room.

The client is a few lines of asyncio speaking HTTP/1.1 over raw streams with prepared requests,
so that on a small machine the client takes as little of the CPU as possible (a full HTTP client
library costs about as much CPU per request as the server's booking itself).

It prints booking attempts per second, p50/p99 latency, the answers, the CPU time the server
processes and the PostgreSQL backends used per booking (read from /proc: independent of the
load other programs put on the machine), and then checks the database: slots whose held +
confirmed exceed capacity (must be 0) and slots whose counters disagree with the sum of their
bookings (must be 0).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from _service import PG_URL, Service, service
from sqlalchemy import func, select, text

from corridor.capacity import CargoKind
from corridor.store.capacity_tables import CapBooking, CapSlot
from corridor.store.db import Database

TICK_MS = 1000 / os.sysconf("SC_CLK_TCK")
#: Seconds the idle server's CPU is measured before the run.
IDLE_S = 10.0
#: The contended Caspian rail ferry's capacity in wagons (one booking in ten goes to it).
HOT_WAGONS = 52


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


def _cpu_ms(pids: list[int]) -> float:
    """User + system CPU time of the processes ``pids`` (those still alive), milliseconds."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total * TICK_MS


def _group(pgid: int) -> list[int]:
    """The processes of a process group: the server's supervisor and its workers."""
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid:
                out.append(int(entry))
    return out


def _backends(db: Database) -> list[int]:
    """The PostgreSQL backend processes serving this database (the server's pool connections)."""
    if db.dialect != "postgresql":
        return []
    with db.session() as s:
        name = s.scalar(text("SELECT current_database()"))
        return [
            int(p)
            for p in s.scalars(
                text(
                    "SELECT pid FROM pg_stat_activity WHERE datname = :d AND pid <> pg_backend_pid()"
                ),
                {"d": name},
            )
        ]


def _request(port: int, token: str, body: dict[str, Any]) -> bytes:
    payload = json.dumps(body).encode()
    head = (
        f"POST /api/v1/capacity/bookings HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(payload)}\r\n\r\n"
    )
    return head.encode() + payload


async def _client(
    port: int, requests: list[bytes], results: list[tuple[float, int]], start: asyncio.Event
) -> None:
    """One keep-alive connection sending its requests one after the other."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    await start.wait()
    for raw in requests:
        t0 = time.perf_counter()
        writer.write(raw)
        head = await reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n"):
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        await reader.readexactly(length)
        results.append(((time.perf_counter() - t0) * 1000, status))
    writer.close()


async def _drive(port: int, per_client: list[list[bytes]]) -> tuple[list[tuple[float, int]], float]:
    results: list[tuple[float, int]] = []
    start = asyncio.Event()
    tasks = [asyncio.create_task(_client(port, reqs, results, start)) for reqs in per_client]
    await asyncio.sleep(0.5)  # every connection open before the clock starts
    t0 = time.perf_counter()
    start.set()
    await asyncio.gather(*tasks)
    return results, time.perf_counter() - t0


def _targets(svc: Service, token: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=svc.base, timeout=60, headers=headers) as http:
        sea = http.get(
            "/capacity/sailings", params={"service": "ae-shanghai-rotterdam", "days": 45}
        ).json()
        ferry = http.get(
            "/capacity/sailings",
            params={"service": "asco-aktau-alat-ferry", "from_node": "aktau_port", "days": 14},
        ).json()
    return sea, next(s for s in ferry if s["capacity"] == HOT_WAGONS)


def statements_per_hold(svc: Service, sea: list[dict[str, Any]], token: str, n: int = 50) -> float:
    """SQL statements (and commits) one single-leg hold sends, counted in this process by calling
    the store as the endpoint does (``store.hold_one``): a figure that does not depend on the
    machine's load. (On PostgreSQL a hold on a slot with room is one statement in autocommit.)"""
    from sqlalchemy import event

    from corridor.network import load_network
    from corridor.store import capacity as store
    from corridor.store.accounts import principal_for

    network = load_network()
    ctx = store.context_for(network)
    count = 0

    def tally(*_: object) -> None:
        nonlocal count
        count += 1

    with svc.db.session() as s:
        who = principal_for(s, token)
    assert who is not None
    engine = svc.db.engine
    event.listen(engine, "before_cursor_execute", tally)
    event.listen(engine, "commit", tally)
    try:
        for i in range(n):
            target = sea[i % len(sea)]
            leg = store.LegRequest(
                target["service"],
                target["from_node"],
                datetime.fromisoformat(target["departure"]),
                CargoKind("20GP"),
                1,
            )
            with svc.db.session(write=True) as s:
                store.hold_one(s, who, ctx, leg)
    finally:
        event.remove(engine, "before_cursor_execute", tally)
        event.remove(engine, "commit", tally)
    return count / n


@dataclass
class Holds:
    """What a run of holds left to check: the answers, and the targets it aimed at."""

    statuses: Counter[int]
    sea: list[dict[str, Any]]
    hot: dict[str, Any]


def fire(
    svc: Service, label: str, workers: int, threads: int, count: int, clients: int, idle_s: float
) -> Holds:
    """``count`` holds from ``clients`` concurrent clients against the running server (after a
    warm-up); prints the throughput, latencies, answers and CPU per booking."""
    assert svc.process is not None
    tokens = [token for _org, token in svc.tokens[:clients]]
    sea, hot = _targets(svc, tokens[0])

    def body(i: int) -> dict[str, Any]:
        target, cargo = (hot, "rail_wagon") if i % 10 == 0 else (sea[i % len(sea)], "20GP")
        keys = ("service", "from_node", "departure")
        return {**{k: target[k] for k in keys}, "cargo": cargo, "items": 1}

    # Warm-up: every worker builds its timetables and opens its connections.
    warm = [[_request(svc.port, tokens[c], body(1 + c)) for _ in range(2)] for c in range(clients)]
    asyncio.run(_drive(svc.port, warm))
    per_client: list[list[bytes]] = [[] for _ in range(clients)]
    for i in range(count):
        per_client[i % clients].append(_request(svc.port, tokens[i % clients], body(i)))
    pids = _group(svc.process.pid)
    backends = _backends(svc.db)
    # What the idle server burns (its upkeep threads poll the database every few seconds):
    # measured first and taken off, so the figure is the CPU of the bookings themselves.
    idle0, t_idle = _cpu_ms(pids), time.perf_counter()
    time.sleep(idle_s)
    idle_rate = (_cpu_ms(pids) - idle0) / (time.perf_counter() - t_idle) if idle_s else 0.0
    cpu0, pg0 = _cpu_ms(pids), _cpu_ms(backends)
    results, seconds = asyncio.run(_drive(svc.port, per_client))
    cpu, pg = _cpu_ms(pids) - cpu0, _cpu_ms(backends) - pg0
    busy = cpu - idle_rate * seconds
    latencies = sorted(ms for ms, _ in results)
    statuses = Counter(code for _, code in results)
    p99 = latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))]
    print(
        f"{label} ({workers} worker(s) x {threads} threads): {count} booking requests with "
        f"{clients} clients in {seconds:.2f} s: {count / seconds:,.0f} bookings/s; "
        f"p50 {statistics.median(latencies):.1f} ms, p99 {p99:.1f} ms; "
        f"answers {dict(sorted(statuses.items()))}"
    )
    pg_part = f", PostgreSQL backends {pg / count:.2f} ms" if backends else ""
    print(
        f"{label}: CPU per booking: server {busy / count:.2f} ms (idle upkeep of "
        f"{idle_rate / 1000:.0%} of a core taken off; {cpu / count:.2f} ms with it){pg_part}"
    )
    return Holds(statuses, sea, hot)


def verdict(svc: Service, label: str, holds: Holds) -> list[str]:
    """The guarantees, read from the database once no hold is in flight: no slot overbooked,
    every counter equal to the sum of its bookings, the contended ferry full but not over, no 5xx.
    Returns what broke (empty when nothing did)."""
    overbooked, mismatched, slots = _check(svc.db)
    with svc.db.session() as s:
        held = s.scalar(select(CapSlot.held).where(CapSlot.id == holds.hot["key"]))
    print(
        f"{label}: after the run {slots} slots, overbooked {overbooked}, counters not matching "
        f"their bookings {mismatched}; the 52-wagon ferry holds {held}"
    )
    broken = [f"{label}: {n} answers {code}" for code, n in holds.statuses.items() if code >= 500]
    if overbooked or mismatched or (held or 0) > HOT_WAGONS:
        broken.append(f"{label}: overbooked {overbooked}, counters off {mismatched}, ferry {held}")
    return broken


def run(
    kind: str, label: str, workers: int, threads: int, count: int, clients: int, idle_s: float
) -> list[str]:
    """One database's run; returns what broke the guarantees (empty when nothing did)."""
    with service(kind, PG_URL, threads, min(clients, 10), clients) as svc:
        if svc is None:
            print(f"{label}: skipped (PostgreSQL not reachable at {PG_URL})")
            return []
        svc.start(workers)
        holds = fire(svc, label, workers, threads, count, clients, idle_s)
        svc.stop()  # (on SQLite the server's upkeep would contend with the count's writes)
        print(
            f"{label}: SQL statements + commits per single-leg hold in the store: "
            f"{statements_per_hold(svc, holds.sea, svc.tokens[0][1]):.1f}"
        )
        return verdict(svc, label, holds)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=("both", "sqlite", "postgres"), default="both")
    parser.add_argument("--bookings", type=int, default=3000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument(
        "--workers", type=int, default=2, help="Server processes on PostgreSQL (SQLite: 1)."
    )
    parser.add_argument("--threads", type=int, default=8, help="Threads per server process.")
    parser.add_argument(
        "--idle-s",
        type=float,
        default=IDLE_S,
        help="Seconds of idle server measured first to take its upkeep off the CPU figure (0: none).",
    )
    args = parser.parse_args()
    broken: list[str] = []
    if args.db in ("both", "sqlite"):
        broken += run("sqlite", "SQLite", 1, args.threads, args.bookings, args.clients, args.idle_s)
    if args.db in ("both", "postgres"):
        broken += run(
            "postgres",
            "PostgreSQL",
            args.workers,
            args.threads,
            args.bookings,
            args.clients,
            args.idle_s,
        )
    if broken:
        # A failed guarantee is the benchmark failing, whatever the speed (CI runs a small one).
        raise SystemExit("guarantees broken:\n" + "\n".join(broken))


if __name__ == "__main__":
    main()
