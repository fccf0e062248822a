"""Load benchmark: many concurrent clients reading and writing, against `corridor serve --workers N`.

    .venv/bin/python benchmarks/load.py --db postgres --workers 4 --clients 1000 --duration 60
    .venv/bin/python benchmarks/load.py --db sqlite --workers 1 --clients 200 --duration 60

An asyncio harness (benchmarks/_client.py: a small keep-alive HTTP/1.1 client on httptools' parser,
about a tenth of httpx's CPU per request, one connection per client, loopback only), its clients
spread over ``--harness-processes`` processes so that the harness does not measure itself. It also
prints the CPU time the server's processes spent per request during the run (load-independent
enough to compare runs on a busy machine), and on PostgreSQL that of the backends serving its
database. Each client holds its own
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
import multiprocessing as mp
import random
import resource
import time
from collections import Counter, defaultdict
from typing import TYPE_CHECKING, Any

from _client import Connection, HttpError

if TYPE_CHECKING:
    from _service import Service

# _service (the database, the server process, corridor's store) is imported where it is used, not
# here: the harness processes are spawned and import this script, and need only the client.

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
    conn: Connection, token: str, tally: Tally, stop: float, think: float, route: dict[str, Any]
) -> None:
    mine: list[str] = []
    await asyncio.sleep(random.uniform(0, think))  # no thundering start
    while time.perf_counter() < stop:
        op = pick()
        if op in ("read", "cancel") and not mine:
            op = "book"
        began = time.perf_counter()
        try:
            if op == "read":
                r = await conn.request("GET", f"/shipments/{random.choice(mine)}", token=token)
            elif op == "list":
                r = await conn.request(
                    "GET", "/shipments", params={"status": "planned"}, token=token
                )
            elif op == "nodes":
                r = await conn.request(
                    "GET", "/network/nodes", params={"country": "AZ"}, token=token
                )
            elif op == "book":
                r = await conn.request(
                    "POST",
                    "/shipments",
                    json_body={"reference": "LOAD", "route": route},
                    token=token,
                )
                if r.status_code == 201:
                    mine.append(r.json()["id"])
            else:
                r = await conn.request(
                    "POST", f"/shipments/{random.choice(mine)}/cancel", token=token
                )
            tally.add(op, began, str(r.status_code))
        except HttpError as exc:
            tally.add(op, began, str(exc))
        # (a pause that would end after the run is cut short: the run is over then)
        pause = random.expovariate(1 / think)
        await asyncio.sleep(min(pause, max(0.0, stop - time.perf_counter())))
    await conn.close()


async def prober(base: str, tally: Tally, stop: float) -> None:
    conn = Connection(base)
    while time.perf_counter() < stop:
        began = time.perf_counter()
        try:
            r = await conn.request("GET", "/health")
            tally.add("health", began, str(r.status_code))
        except HttpError as exc:
            tally.add("health", began, str(exc))
        await asyncio.sleep(0.1)
    await conn.close()


async def drive(
    base: str, tokens: list[str], duration: float, think: float, probe: bool, route: dict[str, Any]
) -> tuple[Tally, float]:
    tally = Tally()
    began = time.perf_counter()
    stop = began + duration
    loops = [client_loop(Connection(base), token, tally, stop, think, route) for token in tokens]
    if probe:
        loops.append(prober(base, tally, stop))
    await asyncio.gather(*loops)
    return tally, time.perf_counter() - began


def _part(
    base: str,
    tokens: list[str],
    duration: float,
    think: float,
    probe: bool,
    route: dict[str, Any],
    out: Any,
) -> None:
    """One harness process: its share of the clients (and the prober in the first)."""
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    tally, elapsed = asyncio.run(drive(base, tokens, duration, think, probe, route))
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = usage.ru_utime + usage.ru_stime
    out.send((dict(tally.latency), {k: dict(v) for k, v in tally.answers.items()}, elapsed, cpu))
    out.close()


def drive_split(
    base: str,
    tokens: list[str],
    duration: float,
    think: float,
    processes: int,
    route: dict[str, Any],
) -> tuple[Tally, float, float]:
    """The clients spread over ``processes`` harness processes (so that the harness is not the
    bottleneck on one core); their tallies merged, and the CPU seconds the harness used."""
    ctx = mp.get_context("spawn")
    pipes, procs = [], []
    for i in range(processes):
        here, there = ctx.Pipe(duplex=False)
        share = tokens[i::processes]
        proc = ctx.Process(target=_part, args=(base, share, duration, think, i == 0, route, there))
        proc.start()
        pipes.append(here)
        procs.append(proc)
    tally = Tally()
    elapsed = 0.0
    harness_cpu = 0.0
    for pipe in pipes:
        latency, answers, took, cpu = pipe.recv()
        harness_cpu += cpu
        for op, values in latency.items():
            tally.latency[op].extend(values)
        for op, counts in answers.items():
            tally.answers[op].update(counts)
        elapsed = max(elapsed, took)
    for proc in procs:
        proc.join()
    return tally, elapsed, harness_cpu


def report(label: str, tally: Tally, elapsed: float) -> None:
    from _service import ms, pct

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


def run(
    svc: Service, label: str, clients: int, duration: float, think: float, processes: int
) -> Tally:
    """The mixed load from ``clients`` clients (the service's first tokens) against the running
    server for ``duration`` seconds; prints the report and the CPU per request."""
    from _service import SHORT, database_cpu, server_cpu

    tokens = [token for _, token in svc.tokens[:clients]]
    cpu_before, db_before = server_cpu(svc), database_cpu(svc)
    tally, elapsed, harness_cpu = drive_split(
        svc.base, tokens, duration, think, max(1, processes), SHORT
    )
    cpu, db_cpu = server_cpu(svc) - cpu_before, database_cpu(svc) - db_before
    report(label, tally, elapsed)
    served = sum(len(v) for v in tally.latency.values())
    print(
        f"  server CPU: {cpu:.1f} s for {served} requests (/health included) = "
        f"{cpu * 1000 / max(1, served):.2f} ms per request; database backends "
        f"{db_cpu * 1000 / max(1, served):.2f} ms; harness "
        f"{harness_cpu * 1000 / max(1, served):.2f} ms"
    )
    return tally


def main() -> None:
    from _service import PG_URL, service

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--pg-url", default=PG_URL)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--threads", type=int, default=16, help="CORRIDOR_THREADS per worker")
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--organisations", type=int, default=50)
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of load")
    parser.add_argument("--think", type=float, default=2.0, help="mean pause between requests, s")
    parser.add_argument(
        "--harness-processes", type=int, default=2, help="processes the clients are spread over"
    )
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
        tally = run(svc, kind, args.clients, args.duration, args.think, args.harness_processes)
    if tally.errors():
        # An error is the run failing, whatever the latencies (CI runs a small one).
        raise SystemExit(f"{tally.errors()} requests failed (5xx or transport)")


if __name__ == "__main__":
    main()
