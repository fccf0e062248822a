"""Load benchmark: many concurrent clients reading and writing, against `corridor serve --workers N`.

    .venv/bin/python benchmarks/load.py --db postgres --workers 4 --clients 1000 --duration 60
    .venv/bin/python benchmarks/load.py --db sqlite --workers 1 --clients 200 --duration 60

An asyncio + httpx harness (one connection per client, loopback only). Each client holds its own
API token (clients are spread over ``--organisations`` forwarders) and loops: read one of its
shipments (35 %), list its organisation's shipments (20 %), read network nodes (15 %), book a
shipment (20 %), cancel one of its bookings (10 %; 409 when already cancelled is a correct
answer), then thinks for an exponential time of mean ``--think`` seconds. A separate prober asks
``/health`` ten times a second. It prints, per operation, the count, p50/p99/max latency and the
answers; errors are 5xx answers and transport failures (timeouts, refused connections).
Goals (issue 9): 0 errors, p99 under 1 s, /health p99 under 100 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from collections import Counter, defaultdict

import httpx
from _service import PG_URL, SHORT, Service, ms, pct, service

OPS = (("read", 0.35), ("list", 0.20), ("nodes", 0.15), ("book", 0.20), ("cancel", 0.10))


class Tally:
    def __init__(self) -> None:
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.answers: dict[str, Counter[str]] = defaultdict(Counter)

    def add(self, op: str, began: float, answer: str) -> None:
        self.latency[op].append(time.perf_counter() - began)
        self.answers[op][answer] += 1

    def errors(self) -> int:
        return sum(
            n
            for counts in self.answers.values()
            for answer, n in counts.items()
            if answer[0] not in "234"
        )


def pick() -> str:
    r = random.random()
    for op, weight in OPS:
        if r < weight:
            return op
        r -= weight
    return OPS[-1][0]


async def client_loop(
    http: httpx.AsyncClient, token: str, tally: Tally, stop: float, think: float
) -> None:
    h = {"Authorization": f"Bearer {token}"}
    mine: list[str] = []
    await asyncio.sleep(random.uniform(0, think))  # no thundering start
    while time.perf_counter() < stop:
        op = pick()
        if op in ("read", "cancel") and not mine:
            op = "book"
        began = time.perf_counter()
        try:
            if op == "read":
                r = await http.get(f"/shipments/{random.choice(mine)}", headers=h)
            elif op == "list":
                r = await http.get("/shipments", params={"status": "planned"}, headers=h)
            elif op == "nodes":
                r = await http.get("/network/nodes", params={"country": "AZ"}, headers=h)
            elif op == "book":
                r = await http.post(
                    "/shipments", json={"reference": "LOAD", "route": SHORT}, headers=h
                )
                if r.status_code == 201:
                    mine.append(r.json()["id"])
            else:
                r = await http.post(f"/shipments/{random.choice(mine)}/cancel", headers=h)
            tally.add(op, began, str(r.status_code))
        except httpx.HTTPError as exc:
            tally.add(op, began, type(exc).__name__)
        await asyncio.sleep(random.expovariate(1 / think))


async def prober(base: str, tally: Tally, stop: float) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        while time.perf_counter() < stop:
            began = time.perf_counter()
            try:
                r = await http.get("/health")
                tally.add("health", began, str(r.status_code))
            except httpx.HTTPError as exc:
                tally.add("health", began, type(exc).__name__)
            await asyncio.sleep(0.1)


async def drive(svc: Service, duration: float, think: float) -> tuple[Tally, float]:
    tally = Tally()
    limits = httpx.Limits(
        max_connections=len(svc.tokens), max_keepalive_connections=len(svc.tokens)
    )
    async with httpx.AsyncClient(base_url=svc.base, timeout=30, limits=limits) as http:
        began = time.perf_counter()
        stop = began + duration
        await asyncio.gather(
            prober(svc.base, tally, stop),
            *(client_loop(http, token, tally, stop, think) for _, token in svc.tokens),
        )
        return tally, time.perf_counter() - began


def report(label: str, tally: Tally, elapsed: float) -> None:
    total = sum(len(v) for op, v in tally.latency.items() if op != "health")
    print(f"\n{label}: {total} requests in {elapsed:.0f} s = {total / elapsed:.0f} req/s")
    print(f"  {'operation':<8} {'count':>7} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}  answers")
    everything: list[float] = []
    for op in [o for o, _ in OPS] + ["health"]:
        values = tally.latency.get(op, [])
        if op != "health":
            everything += values
        answers = ", ".join(f"{k}: {v}" for k, v in sorted(tally.answers[op].items()))
        print(
            f"  {op:<8} {len(values):>7} {ms(pct(values, 50))} {ms(pct(values, 99))} "
            f"{ms(max(values, default=float('nan')))}  {answers}"
        )
    health = tally.latency.get("health", [])
    print(
        f"  all      {len(everything):>7} {ms(pct(everything, 50))} {ms(pct(everything, 99))}"
        f" {ms(max(everything, default=float('nan')))}"
    )
    print(
        f"  errors (5xx or transport): {tally.errors()}   goals: 0 errors "
        f"{'met' if tally.errors() == 0 else 'MISSED'}, p99 < 1 s "
        f"{'met' if pct(everything, 99) < 1 else 'MISSED'}, /health p99 < 100 ms "
        f"{'met' if pct(health, 99) < 0.1 else 'MISSED'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--pg-url", default=PG_URL)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--threads", type=int, default=16, help="CORRIDOR_THREADS per worker")
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--organisations", type=int, default=50)
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of load")
    parser.add_argument("--think", type=float, default=2.0, help="mean pause between requests, s")
    args = parser.parse_args()
    kind = "sqlite" if args.db == "sqlite" else "postgresql"
    with service(kind, args.pg_url, args.threads, args.organisations, args.clients) as svc:
        if svc is None:
            return
        startup = svc.start(args.workers)
        print(
            f"{kind}, {args.workers} worker(s) x {args.threads} threads, {args.clients} clients "
            f"over {args.organisations} organisations, mean think {args.think} s; "
            f"server ready in {startup:.1f} s"
        )
        tally, elapsed = asyncio.run(drive(svc, args.duration, args.think))
        report(kind, tally, elapsed)


if __name__ == "__main__":
    main()
