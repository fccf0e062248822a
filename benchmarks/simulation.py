"""Simulation benchmark: events per second, one simulated year, replications on 1 vs 2 Dask workers.

    .venv/bin/python benchmarks/simulation.py [--replications 100] [--rep-days 30] [--seed 1]

Prints, for one year of ``base-2024`` and of ``wb-2030`` run in this process (one core): wall time,
SimPy events scheduled and events per second. Then runs ``--replications`` independent seeds of
``base-2024`` (``--rep-days`` measured days each, after the 30-day warm-up) on a Dask LocalCluster
with 1 and with 2 single-threaded worker processes, and prints both wall times and the speed-up.
"""

from __future__ import annotations

import argparse
import os
import time

from corridor.simulation import prepare, simulate
from corridor.simulation.runner import replication


def one_year(name: str, seed: int) -> None:
    scenario = prepare(name)
    replication(scenario, seed, 5)  # warm caches (network, parameters, channel shares)
    start = time.perf_counter()
    result = replication(scenario, seed)
    wall = time.perf_counter() - start
    events = int(result["events"])
    volume = result["volume"]
    print(
        f"{name:10s} one year: {wall:6.2f} s wall, {events:9,d} events, "
        f"{events / wall:9,.0f} events/s; delivered {volume['delivered_t'] / 1e6:.2f} Mt "
        f"of {volume['demand_t'] / 1e6:.2f} Mt"
    )


def replications(n: int, days: float, seed: int) -> None:
    scenario = prepare("base-2024")
    walls = {}
    for workers in (1, 2):
        start = time.perf_counter()
        summary = simulate(scenario, replications=n, seed=seed, workers=workers, horizon_days=days)
        walls[workers] = time.perf_counter() - start
        print(
            f"{n} replications x {days:g} days on {workers} Dask worker(s): "
            f"{walls[workers]:6.2f} s (delivered {summary['volume']['delivered_t'] / 1e6:.2f} "
            f"± {summary['volume']['delivered_t_ci'] / 1e6:.2f} Mt/yr)"
        )
    print(f"speed-up 2 vs 1 worker: {walls[1] / walls[2]:.2f}x (cores here: {os.cpu_count()})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replications", type=int, default=100)
    parser.add_argument("--rep-days", type=float, default=30.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    for name in ("base-2024", "wb-2030"):
        one_year(name, args.seed)
    replications(args.replications, args.rep_days, args.seed)


if __name__ == "__main__":
    main()
