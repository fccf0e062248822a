"""Fault benchmarks against `corridor serve --workers N`: kill -9 under load, PostgreSQL
connections killed mid-run, and bursts on one resource.

    .venv/bin/python benchmarks/faults.py kill9  --db sqlite   --workers 2 --clients 50
    .venv/bin/python benchmarks/faults.py kill9  --db postgres --workers 4 --clients 100
    .venv/bin/python benchmarks/faults.py pgkill --workers 4 --clients 100 --kills 3
    .venv/bin/python benchmarks/faults.py bursts --db sqlite   --workers 2
    .venv/bin/python benchmarks/faults.py bursts --db postgres --workers 4

* **kill9**: clients book shipments as fast as they can, and every other client lodges a customs
  declaration (create-and-lodge, signed records in the customs log) for each shipment it booked;
  after ``--before`` seconds the whole server process group gets SIGKILL. Every booking and
  declaration answered 201 before the kill is an acknowledged write; the benchmark counts how many
  of them are missing from the database (goal 0), restarts the server, times until it answers,
  exports the trust bundle from the key files (``corridor customs export-trust-bundle``) and runs
  ``corridor customs verify --trusted-keys`` over the log the kill left (goal: OK). It exits 1
  when a goal is missed.
* **pgkill**: clients read and book; ``--kills`` times, every server connection is terminated
  with ``pg_terminate_backend``. It counts the answers per status (503 with Retry-After is the
  allowed failure, 500 or a transport error is not) and the recovery time: from each kill to the
  first moment after which no request failed (goal under 5 s).
* **bursts**: ``--size`` parallel cancels of one shipment (exactly one 200, the rest 409), and
  ``--size`` parallel bookings (all 201), repeated ``--rounds`` times across the workers.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx
from _service import CORRIDOR, PG_URL, SHORT, Service, service
from sqlalchemy import create_engine, select, text
from sqlalchemy.pool import NullPool

from corridor.customs.examples import example_declaration
from corridor.store.models import CustomsDeclaration, Shipment


async def writers(
    svc: Service,
    tokens: list[str],
    killed: threading.Event,
    acknowledged: list[str],
    declared: list[str],
    answers: Counter[str],
) -> None:
    """Every client books as fast as it can; every other one also lodges a customs declaration
    for each shipment it booked (create-and-lodge: two signed records in the customs log), until
    the server has been killed (no write can be acknowledged after that)."""
    limits = httpx.Limits(max_connections=len(tokens))
    async with httpx.AsyncClient(base_url=svc.base, timeout=10, limits=limits) as http:

        async def one(token: str, declares: bool) -> None:
            h = {"Authorization": f"Bearer {token}"}
            while not killed.is_set():
                try:
                    r = await http.post(
                        "/shipments", json={"reference": "KILL", "route": SHORT}, headers=h
                    )
                    answers[f"book {r.status_code}"] += 1
                    if r.status_code != 201:
                        continue
                    shipment = r.json()["id"]
                    acknowledged.append(shipment)
                    if not declares:
                        continue
                    declaration = example_declaration(f"KILL-{shipment}")
                    r = await http.post(
                        "/customs/declarations",
                        json={"shipment_id": shipment, "declaration": declaration},
                        headers=h,
                    )
                    answers[f"declare {r.status_code}"] += 1
                    if r.status_code == 201:
                        declared.append(r.json()["id"])
                except httpx.HTTPError as exc:
                    answers[type(exc).__name__] += 1
                    await asyncio.sleep(0.05)

        await asyncio.gather(*(one(token, i % 2 == 0) for i, token in enumerate(tokens)))


def kill9(svc: Service, workers: int, before: float, clients: int) -> bool:
    """Bookings and declarations under load on the running server, SIGKILL to every process,
    restart, then count the acknowledged writes missing and run ``corridor customs verify
    --trusted-keys`` (goal: 0 and OK)."""
    acknowledged: list[str] = []
    declared: list[str] = []
    answers: Counter[str] = Counter()

    killed = threading.Event()

    def load() -> None:
        tokens = [token for _, token in svc.tokens[:clients]]
        asyncio.run(writers(svc, tokens, killed, acknowledged, declared, answers))

    thread = threading.Thread(target=load)
    began = time.monotonic()
    thread.start()
    time.sleep(before)
    # The run checks both kinds of write: on a busy machine the first declaration can take longer
    # than ``before``, so the kill also waits for one acknowledged booking and declaration.
    while not (acknowledged and declared) and time.monotonic() - began < before + 60:
        time.sleep(0.1)
    waited = time.monotonic() - began
    at_kill = len(acknowledged), len(declared)
    svc.kill9()
    killed.set()
    thread.join()
    acked, lodged = set(acknowledged), set(declared)  # no 201 can arrive after the kill
    with svc.db.session() as s:
        stored = set(s.scalars(select(Shipment.id).where(Shipment.reference == "KILL")))
        kept = set(s.scalars(select(CustomsDeclaration.id)))
    lost, lost_declarations = acked - stored, lodged - kept
    print(
        f"kill -9 after {waited:.1f} s of bookings and declarations ({workers} workers):\n"
        f"  bookings: {len(acked)} acknowledged ({at_kill[0]} counted at the signal), "
        f"{len(stored)} stored, {len(lost)} acknowledged lost (goal 0); "
        f"{len(stored - acked)} stored but never acknowledged (in flight)\n"
        f"  declarations: {len(lodged)} acknowledged ({at_kill[1]} counted at the signal), "
        f"{len(kept)} stored, {len(lost_declarations)} acknowledged lost (goal 0); "
        f"{len(kept - lodged)} stored but never acknowledged (in flight)"
    )
    print(f"  answers: {dict(sorted(answers.items()))}")
    restart = svc.start(workers)
    r = httpx.get(f"{svc.base}/health/ready", timeout=10)
    print(f"  restarted in {restart:.1f} s; /health/ready {r.status_code}")
    # The authorities' copy of the keys (from the key files, not the database), then verify the
    # whole log against it: signatures, chain, tree heads, every declaration's state re-derived.
    bundle = svc.log.parent / "trust.json"
    exported = _cli(svc, "customs", "export-trust-bundle", "--out", str(bundle))
    verified = _cli(svc, "customs", "verify", "--trusted-keys", str(bundle))
    print(f"  corridor customs export-trust-bundle: {exported.stdout.splitlines()[:1]}")
    print(f"  corridor customs verify --trusted-keys trust.json: exit {verified.returncode}")
    print("    " + (verified.stdout + verified.stderr).strip().replace("\n", "\n    "))
    ok = not lost and not lost_declarations and verified.returncode == 0 and bool(lodged)
    print(f"  goal (0 acknowledged writes lost and verify OK): {'met' if ok else 'MISSED'}")
    return ok


def _cli(svc: Service, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CORRIDOR, *args], env=svc.env, capture_output=True, text=True, timeout=600, check=False
    )


async def mixed(svc: Service, stop: float, events: list[tuple[float, str]], think: float) -> None:
    limits = httpx.Limits(max_connections=len(svc.tokens))
    async with httpx.AsyncClient(base_url=svc.base, timeout=30, limits=limits) as http:

        async def one(token: str) -> None:
            h = {"Authorization": f"Bearer {token}"}
            mine: list[str] = []
            while time.perf_counter() < stop:
                try:
                    if mine and random.random() < 0.6:
                        r = await http.get(f"/shipments/{random.choice(mine)}", headers=h)
                    else:
                        r = await http.post(
                            "/shipments", json={"reference": "PGK", "route": SHORT}, headers=h
                        )
                        if r.status_code == 201:
                            mine.append(r.json()["id"])
                    answer = str(r.status_code)
                    if r.status_code == 503 and "retry-after" not in r.headers:
                        answer = "503 without Retry-After"
                except httpx.HTTPError as exc:
                    answer = type(exc).__name__
                events.append((time.perf_counter(), answer))
                await asyncio.sleep(random.expovariate(1 / think))

        await asyncio.gather(*(one(token) for _, token in svc.tokens))


def pgkill(svc: Service, workers: int, kills: int, every: float, think: float) -> None:
    svc.start(workers)
    events: list[tuple[float, str]] = []
    duration = every * (kills + 1)
    kill_times: list[tuple[float, int]] = []

    def killer() -> None:
        outside = create_engine(svc.url, poolclass=NullPool)
        for _ in range(kills):
            time.sleep(every)
            with outside.connect() as conn:
                n = conn.execute(
                    text(
                        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )
                ).scalar_one()
            kill_times.append((time.perf_counter(), n))
        outside.dispose()

    thread = threading.Thread(target=killer)
    thread.start()
    asyncio.run(mixed(svc, time.perf_counter() + duration, events, think))
    thread.join()
    answers = Counter(a for _, a in events)
    print(
        f"pg_terminate_backend {kills} times (every {every:.0f} s) under {len(svc.tokens)} "
        f"clients, {workers} workers: {len(events)} requests"
    )
    print(f"  answers: {dict(sorted(answers.items()))}")
    bad = [t for t, a in events if a not in ("200", "201")]
    for at, n in kill_times:
        after = [t for t in bad if at <= t < at + every]
        recovery = (max(after) - at) if after else 0.0
        print(
            f"  kill of {n} connections: {len(after)} failed answers after it, "
            f"recovered in {recovery:.2f} s (goal < 5 s)"
        )
    errors = sum(n for a, n in answers.items() if a not in ("200", "201", "503"))
    print(f"  errors other than 503 with Retry-After: {errors} (goal 0)")


def bursts(svc: Service, workers: int, size: int, rounds: int) -> None:
    svc.start(workers)
    token = svc.tokens[0][1]
    h = {"Authorization": f"Bearer {token}"}

    def together(request: Callable[[httpx.Client], httpx.Response]) -> Counter[str]:
        gate = threading.Barrier(size)

        def one(_: int) -> str:
            with httpx.Client(base_url=svc.base, timeout=60) as client:
                gate.wait()
                try:
                    return str(request(client).status_code)
                except httpx.HTTPError as exc:
                    return type(exc).__name__

        with ThreadPoolExecutor(size) as pool:
            return Counter(pool.map(one, range(size)))

    cancels: Counter[str] = Counter()
    bookings: Counter[str] = Counter()
    one_winner = 0
    for _ in range(rounds):
        sid = httpx.post(
            f"{svc.base}/shipments", json={"reference": "BURST", "route": SHORT}, headers=h
        ).json()["id"]
        path = f"/shipments/{sid}/cancel"
        got = together(lambda c: c.post(path, headers=h))  # noqa: B023 (used within the round)
        one_winner += got == Counter({"200": 1, "409": size - 1})
        cancels += got
        bookings += together(
            lambda c: c.post("/shipments", json={"reference": "B", "route": SHORT}, headers=h)
        )
    print(f"bursts of {size}, {rounds} rounds, {workers} workers:")
    print(
        f"  cancels of one shipment: {dict(sorted(cancels.items()))}; rounds with exactly one "
        f"winner: {one_winner}/{rounds}"
    )
    print(f"  parallel bookings: {dict(sorted(bookings.items()))} (goal: all 201)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("what", choices=["kill9", "pgkill", "bursts"])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="postgres")
    parser.add_argument("--pg-url", default=PG_URL)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--before", type=float, default=10.0, help="kill9: seconds before kill")
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--every", type=float, default=8.0, help="pgkill: seconds between kills")
    parser.add_argument("--think", type=float, default=0.5)
    parser.add_argument("--size", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    kind = "postgresql" if args.what == "pgkill" or args.db == "postgres" else "sqlite"
    clients = 1 if args.what == "bursts" else args.clients
    with service(kind, args.pg_url, args.threads, min(clients, 20), clients) as svc:
        if svc is None:
            return
        print(f"{kind}:")
        if args.what == "kill9":
            svc.start(args.workers)
            if not kill9(svc, args.workers, args.before, clients):
                sys.exit(1)
        elif args.what == "pgkill":
            pgkill(svc, args.workers, args.kills, args.every, args.think)
        else:
            bursts(svc, args.workers, args.size, args.rounds)


if __name__ == "__main__":
    main()
