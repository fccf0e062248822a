"""Energy-model benchmark: wall time, CPU time and peak memory of full-year runs and of n-1.

    .venv/bin/python benchmarks/energy.py [--scenarios 2025 2030] [--n1 2030] [--n1-hours 744]
                                          [--workers 2] [--skip-n1]

Each full-year run (8,760 hourly snapshots, PyPSA + HiGHS) is done in a fresh process so that its
peak memory (ru_maxrss) and CPU time are its own; the import of PyPSA is counted separately. The
n-1 sweep runs every candidate outage of a scenario over ``--n1-hours`` hours (default: January)
on ``--workers`` processes (their CPU, and the fork server's that imports PyPSA for them, is counted).
Wall time depends on what else the machine runs: CPU time is printed
beside it so that a loaded machine can still be read.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing.forkserver
import os
import resource
import subprocess
import sys
import time

CHILD = r"""
import json, os, resource, sys, time
t0 = time.perf_counter(); c0 = os.times()
import pypsa  # noqa: F401
from corridor.energy.run import prepare, solve_prepared
t_import = time.perf_counter() - t0
prep = prepare(sys.argv[1])
t1 = time.perf_counter(); c1 = os.times()
res = solve_prepared(prep)
t2 = time.perf_counter(); c2 = os.times()
print(json.dumps({
    "scenario": sys.argv[1], "hours": res.summary["hours"],
    "import_s": t_import, "solve_wall_s": t2 - t1,
    "solve_cpu_s": (c2.user - c1.user) + (c2.system - c1.system),
    "total_wall_s": t2 - t0, "total_cpu_s": (c2.user - c0.user) + (c2.system - c0.system),
    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "unserved_mwh": res.summary["unserved_total_mwh"], "co2_mt": res.summary["co2_total_mt"],
}))
"""


def full_year(scenario: str) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, scenario], capture_output=True, text=True, check=True
    )
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def n1_sweep(scenario: str, hours: int, workers: int) -> dict[str, float | str]:
    from corridor.energy.assets import n1_candidates
    from corridor.energy.outages import n1
    from corridor.energy.run import prepare

    prep = prepare(scenario)
    cases = len(n1_candidates(prep.data)) + 1
    t0 = time.perf_counter()
    c0 = os.times()
    rows = n1(prep.data, prep.scenario.year, 0, hours - 1, workers)
    wall = time.perf_counter() - t0
    # Workers fork from a fork server; their CPU reaches this process's children times only when
    # the fork server, which reaps them, is itself stopped and reaped.
    server = getattr(multiprocessing.forkserver, "_forkserver", None)
    if server is not None and getattr(server, "_forkserver_pid", None):
        server._stop()
    c1 = os.times()
    child_cpu = (c1.children_user - c0.children_user) + (c1.children_system - c0.children_system)
    return {
        "scenario": scenario,
        "cases": cases,
        "hours": hours,
        "workers": workers,
        "wall_s": wall,
        "cpu_s_parent": (c1.user - c0.user),
        "cpu_s_workers": child_cpu,
        "peak_rss_mb_worker": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
        "worst": rows[0]["asset"],
        "worst_for_europe": max(rows, key=lambda r: r["harm_europe_eur"])["asset"],
        "worst_for_central_asia": max(rows, key=lambda r: r["harm_central_asia_eur"])["asset"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", nargs="*", default=["2025", "2030"])
    parser.add_argument("--n1", default="2030")
    parser.add_argument("--n1-hours", type=int, default=744)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--skip-n1", action="store_true")
    args = parser.parse_args()
    print(f"cpus: {os.cpu_count()}, load average: {os.getloadavg()[0]:.1f}")
    for scenario in args.scenarios:
        r = full_year(scenario)
        print(
            f"full year {scenario}: {r['hours']:.0f} h, solve {r['solve_wall_s']:.1f} s wall / "
            f"{r['solve_cpu_s']:.1f} s CPU; with PyPSA import {r['total_wall_s']:.1f} s wall / "
            f"{r['total_cpu_s']:.1f} s CPU (import {r['import_s']:.1f} s); peak memory "
            f"{r['peak_rss_mb']:.0f} MB; CO2 {r['co2_mt']:.0f} Mt; unserved "
            f"{r['unserved_mwh']:.0f} MWh"
        )
    if not args.skip_n1:
        s = n1_sweep(args.n1, args.n1_hours, args.workers)
        print(
            f"n-1 {s['scenario']}: {s['cases']} cases x {s['hours']} h on {s['workers']} "
            f"processes: {s['wall_s']:.1f} s wall, {s['cpu_s_workers']:.1f} s CPU in workers; "
            f"peak worker memory {s['peak_rss_mb_worker']:.0f} MB; worst: {s['worst']}, for "
            f"Europe: {s['worst_for_europe']}, for Central Asia: {s['worst_for_central_asia']}"
        )


if __name__ == "__main__":
    main()
