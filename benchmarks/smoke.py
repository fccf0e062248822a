"""CI's small run of the HTTP benchmarks on one database: their guarantees, one server's start-up.

    .venv/bin/python benchmarks/smoke.py --db sqlite
    .venv/bin/python benchmarks/smoke.py --db postgres

capacity.py, load.py and ``faults.py kill9`` each prepare a scratch database and start
``corridor serve --workers N``, and a server's start-up (a supervisor and N processes that each
import the API) costs more CPU than a small run itself. This runs the three, with their own code,
against one prepared database and one process group, in an order where each leaves the next a
valid start:

1. capacity: ``--bookings`` concurrent holds from ``--clients`` clients, one in ten on a 52-wagon
   ferry; then, with no hold in flight, no slot overbooked, every counter equal to the sum of its
   bookings, the ferry full and not over, no 5xx;
2. load: the mixed read/write load for ``--duration`` seconds; no 5xx, no transport error;
3. kill -9 under bookings and customs declarations for ``--before`` seconds: no acknowledged
   write lost, the server restarts, and ``corridor customs verify --trusted-keys`` passes.

It prints what each script prints and exits non-zero when a guarantee breaks.
"""

from __future__ import annotations

import argparse


def main() -> None:
    # Imported here, not above: load's harness process is spawned and imports this script first.
    import capacity
    import faults
    import load
    from _service import PG_URL, service

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--pg-url", default=PG_URL)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8, help="CORRIDOR_THREADS per worker")
    parser.add_argument("--clients", type=int, default=50, help="capacity and load clients")
    parser.add_argument("--bookings", type=int, default=700, help="capacity: holds")
    parser.add_argument("--duration", type=float, default=3.0, help="load: seconds")
    parser.add_argument("--think", type=float, default=0.5, help="load: mean pause, s")
    parser.add_argument("--kill-clients", type=int, default=10, help="kill9: writers")
    parser.add_argument("--before", type=float, default=2.0, help="kill9: seconds before kill")
    args = parser.parse_args()
    kind = "sqlite" if args.db == "sqlite" else "postgresql"
    label = "SQLite" if args.db == "sqlite" else "PostgreSQL"
    clients = max(args.clients, args.kill_clients)
    broken: list[str] = []
    with service(kind, args.pg_url, args.threads, min(clients, 10), clients) as svc:
        if svc is None:
            print(f"{label}: skipped (PostgreSQL not reachable at {args.pg_url})")
            return
        startup = svc.start(args.workers)
        print(
            f"{label}: {args.workers} worker(s) x {args.threads} threads, ready in {startup:.1f} s"
        )
        holds = capacity.fire(
            svc, label, args.workers, args.threads, args.bookings, args.clients, 0.0
        )
        broken += capacity.verdict(svc, label, holds)
        tally = load.run(svc, kind, args.clients, args.duration, args.think, 1)
        if tally.errors():
            broken.append(f"load: {tally.errors()} requests failed (5xx or transport)")
        print(f"{kind}:")
        if not faults.kill9(svc, args.workers, args.before, args.kill_clients):
            broken.append("kill9: an acknowledged write lost or the customs log does not verify")
    if broken:
        raise SystemExit("guarantees broken:\n" + "\n".join(broken))


if __name__ == "__main__":
    main()
