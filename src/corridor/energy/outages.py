"""Disruptions: one asset out for a period, and the n-1 sweep that ranks assets by the harm done.

Because the hours of the model are independent (no storage, no annual constraint), an outage changes
only the hours it covers: each case solves just its window and is compared with the base over the
same window. Cases run in parallel worker processes.

Harm of a case, per bus: unserved energy valued at the value of lost load, plus what consumers pay
more for the energy they still get (load-weighted price change times served load), counted only
where it is a loss: gas stranded upstream of a broken pipeline gets cheap, and that windfall must
not cancel the loss downstream. Harm per region is the sum over its buses. The change in total
system cost (the economist's welfare loss) is reported beside it. The sweep
ranks by total harm and also gives Europe's and Central Asia's share, so each can read its own list.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any

from corridor.energy.assets import HOURS, Outage, assets, n1_candidates
from corridor.energy.data import EnergyData

Progress = Callable[[float, str], None]


def _silent(_: float, __: str) -> None:
    return None


def case_metrics(
    data: EnergyData, year: int, outage: Outage | None, first: int, last: int
) -> dict[str, Any]:
    """Solve hours ``first``..``last`` with ``outage`` and return the window's metrics."""
    from corridor.energy import model
    from corridor.energy.results import window_metrics

    n = model.build(data, year, outage)
    model.solve(n, first, last, data.assumptions.window_hours)
    return window_metrics(n, data, first, last)


def _case(args: tuple[EnergyData, int, Outage | None, int, int]) -> dict[str, Any]:
    return case_metrics(*args)


def harm(
    data: EnergyData, base: dict[str, Any], case: dict[str, Any], asset_id: str
) -> dict[str, Any]:
    """How much worse ``case`` is than ``base``: unserved energy, prices, rerouted flows, harm."""
    a = data.assumptions
    mwh_per_bcm = a.twh_per_bcm * 1e6
    by_region: dict[str, dict[str, float]] = {}
    price_change: dict[str, float] = {}
    for bus, b in base["buses"].items():
        c = case["buses"][bus]
        carrier = data.buses[bus].carrier
        region = data.countries[data.buses[bus].country].region
        voll = (
            a.voll_electricity_eur_per_mwh if carrier == "electricity" else a.voll_gas_eur_per_mwh
        )
        d_unserved = c["unserved_mwh"] - b["unserved_mwh"]
        served = c["load_mwh"] - c["unserved_mwh"]
        d_price = c["price_eur_per_mwh"] - b["price_eur_per_mwh"]
        r = by_region.setdefault(region, {"unserved_mwh": 0.0, "harm_eur": 0.0})
        r["unserved_mwh"] += d_unserved
        # A windfall somewhere (stranded gas getting cheap) does not cancel a loss elsewhere.
        r["harm_eur"] += max(0.0, d_unserved * voll + served * d_price)
        price_change[bus] = round(d_price, 2)
    reroute = {
        k: round((case["throughput_mwh"].get(k, 0.0) - v) / mwh_per_bcm, 3)
        for k, v in base["throughput_mwh"].items()
    }
    asset = assets(data)[asset_id]
    return {
        "asset": asset_id,
        "kind": asset.kind,
        "name": asset.name,
        "region": asset.region,
        "harm_eur": round(sum(r["harm_eur"] for r in by_region.values())),
        "harm_europe_eur": round(by_region.get("europe", {}).get("harm_eur", 0.0)),
        "harm_central_asia_eur": round(by_region.get("central_asia", {}).get("harm_eur", 0.0)),
        "unserved_mwh": round(sum(r["unserved_mwh"] for r in by_region.values()), 1),
        "system_cost_change_eur": round(case["system_cost_eur"] - base["system_cost_eur"]),
        "by_region": {
            k: {"unserved_mwh": round(v["unserved_mwh"], 1), "harm_eur": round(v["harm_eur"])}
            for k, v in sorted(by_region.items())
        },
        "price_change_eur_per_mwh": price_change,
        "rerouted_bcm": {k: v for k, v in reroute.items() if abs(v) >= 0.001},
    }


def _pool(workers: int) -> ProcessPoolExecutor:
    """Worker processes that start without importing PyPSA again each.

    Workers must not be forked from the caller, which may run threads (uvicorn, HiGHS). Where
    available they fork from a fork server, a clean single-threaded process that has imported
    the model (PyPSA: seconds of CPU) once and keeps it for later sweeps; elsewhere they are fresh
    interpreters ("spawn").
    """
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["corridor.energy.model", "corridor.energy.results"])
        return ProcessPoolExecutor(max_workers=workers, mp_context=ctx)
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))


def default_workers() -> int:
    return max(1, min(4, os.cpu_count() or 1))


def sweep(
    data: EnergyData,
    year: int,
    asset_ids: list[str],
    first: int = 0,
    last: int = HOURS - 1,
    workers: int | None = None,
    progress: Progress = _silent,
) -> list[dict[str, Any]]:
    """Take out each asset alone over hours ``first``..``last``; rows ranked by harm, worst first."""
    workers = workers or default_workers()
    progress(0.0, f"base case and {len(asset_ids)} outage(s) on {workers} process(es)")
    tasks: list[tuple[EnergyData, int, Outage | None, int, int]] = [(data, year, None, first, last)]
    tasks += [(data, year, Outage(a, first, last), first, last) for a in asset_ids]
    done: dict[int, dict[str, Any]] = {}
    if workers == 1:
        for i, t in enumerate(tasks):
            done[i] = _case(t)
            progress((i + 1) / len(tasks), f"{i + 1}/{len(tasks)} cases solved")
    else:
        with _pool(workers) as pool:
            futures = {pool.submit(_case, t): i for i, t in enumerate(tasks)}
            for k, fut in enumerate(as_completed(futures)):
                done[futures[fut]] = fut.result()
                progress((k + 1) / len(tasks), f"{k + 1}/{len(tasks)} cases solved")
    base = done[0]
    rows = [harm(data, base, done[i + 1], a) for i, a in enumerate(asset_ids)]
    return sorted(rows, key=lambda r: (-r["harm_eur"], r["asset"]))


def n1(
    data: EnergyData,
    year: int,
    first: int = 0,
    last: int = HOURS - 1,
    workers: int | None = None,
    progress: Progress = _silent,
) -> list[dict[str, Any]]:
    """The n-1 sweep over every candidate asset (see ``assets.n1_candidates``)."""
    return sweep(data, year, n1_candidates(data), first, last, workers, progress)
