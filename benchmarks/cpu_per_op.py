"""CPU milliseconds per operation of `corridor serve`: a load-independent figure for the load goals.

    .venv/bin/python benchmarks/cpu_per_op.py --db postgres --requests 400
    .venv/bin/python benchmarks/cpu_per_op.py --db sqlite --requests 400

Latency on a shared machine says little; the CPU time the server spends per request does not
depend on what else runs. For each operation of benchmarks/load.py (and /health) it sends
``--requests`` requests, ``--concurrency`` at a time, and divides the CPU time (user + system) the
server's processes used meanwhile by the number of requests. It also reports the CPU time the
harness itself spent per request (the client side counts too when both share the cores) and, on
PostgreSQL, the CPU time of the backends serving the benchmark's database (from /proc), apart.

At 1,000 clients thinking 2 s on average the service is offered about 500 requests a second; the
mix of load.py then needs ``sum(weight x ms)`` x 500 / 1000 cores: the last line prints it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import time

import httpx
from _service import PG_URL, SHORT, Service, database_cpu, server_cpu, service

#: The operations of load.py, their share of the mix, and /health (10 a second, outside the mix).
MIX = {"read": 0.35, "list": 0.20, "nodes": 0.15, "book": 0.20, "cancel": 0.10}


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def measure(
    svc: Service, op: str, requests: int, concurrency: int
) -> tuple[float, float, float, float, dict[str, int]]:
    """(server ms, database ms, harness ms per request, wall seconds, answers) for ``op``."""
    tokens = [t for _, t in svc.tokens]
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    answers: dict[str, int] = {}
    async with httpx.AsyncClient(base_url=svc.base, timeout=60, limits=limits) as http:
        # one booking per token first, so read and cancel have something to work on
        mine: dict[str, list[str]] = {t: [] for t in tokens}
        if op in ("read", "cancel"):
            for i in range(requests):
                t = tokens[i % len(tokens)]
                r = await http.post(
                    "/shipments",
                    json={"reference": "CPU", "route": SHORT},
                    headers={"Authorization": f"Bearer {t}"},
                )
                mine[t].append(r.json()["id"])
        queue: asyncio.Queue[int] = asyncio.Queue()
        for i in range(requests):
            queue.put_nowait(i)

        async def one(i: int) -> None:
            t = tokens[i % len(tokens)]
            h = {"Authorization": f"Bearer {t}"}
            if op == "read":
                r = await http.get(f"/shipments/{mine[t][i // len(tokens)]}", headers=h)
            elif op == "list":
                r = await http.get("/shipments", params={"status": "planned"}, headers=h)
            elif op == "nodes":
                r = await http.get("/network/nodes", params={"country": "AZ"}, headers=h)
            elif op == "book":
                r = await http.post(
                    "/shipments", json={"reference": "CPU", "route": SHORT}, headers=h
                )
            elif op == "cancel":
                r = await http.post(f"/shipments/{mine[t][i // len(tokens)]}/cancel", headers=h)
            else:
                r = await http.get("/health")
            answers[str(r.status_code)] = answers.get(str(r.status_code), 0) + 1

        async def worker() -> None:
            while not queue.empty():
                await one(queue.get_nowait())

        before_server, before_db = server_cpu(svc), database_cpu(svc)
        before_own, began = own_cpu(), time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall = time.perf_counter() - began
        server, own = server_cpu(svc) - before_server, own_cpu() - before_own
        db = database_cpu(svc) - before_db
    return server * 1000 / requests, db * 1000 / requests, own * 1000 / requests, wall, answers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--pg-url", default=PG_URL)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--threads", type=int, default=16)
    args = parser.parse_args()
    kind = "sqlite" if args.db == "sqlite" else "postgresql"
    with service(kind, args.pg_url, args.threads, 20, 100) as svc:
        if svc is None:
            return
        svc.start(1)
        asyncio.run(measure(svc, "book", 50, 4))  # warm up: planner, caches, pool
        print(
            f"{kind}, 1 worker x {args.threads} threads, {args.requests} requests per operation, "
            f"{args.concurrency} at a time (pid {os.getpid()} is the harness)"
        )
        print(
            f"  {'operation':<8} {'server ms':>10} {'database ms':>12} {'harness ms':>11} "
            f"{'req/s':>7}  answers"
        )
        mixed = mixed_db = 0.0
        for op in [*MIX, "health"]:
            server_ms, db_ms, own_ms, wall, answers = asyncio.run(
                measure(svc, op, args.requests, args.concurrency)
            )
            mixed += MIX.get(op, 0.0) * server_ms
            mixed_db += MIX.get(op, 0.0) * db_ms
            print(
                f"  {op:<8} {server_ms:>10.2f} {db_ms:>12.2f} {own_ms:>11.2f} "
                f"{args.requests / wall:>7.0f}  "
                + ", ".join(f"{k}: {v}" for k, v in sorted(answers.items()))
            )
        print(
            f"  mix of load.py: {mixed:.2f} server + {mixed_db:.2f} database CPU ms per request; "
            f"1,000 clients thinking 2 s offer ~500 req/s = {mixed * 500 / 1000:.2f} + "
            f"{mixed_db * 500 / 1000:.2f} cores"
        )


if __name__ == "__main__":
    main()
