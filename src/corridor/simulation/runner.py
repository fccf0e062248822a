"""Running a scenario: one replication in-process, many in parallel on Dask.

Replications are independent runs with different seeds, so they parallelise perfectly. By default a
``dask.distributed.LocalCluster`` with one single-threaded worker process per core is started (SimPy
is pure Python: threads would not help); ``scheduler="tcp://host:8786"`` uses an existing cluster.
Results are put back in replication order, so the summary does not depend on which worker finished
first: the same scenario and seed give the same summary on 1 worker or 20.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from corridor.network import Network, load_network
from corridor.simulation.model import Model
from corridor.simulation.parameters import load_parameters
from corridor.simulation.results import collect, summarise
from corridor.simulation.scenario import SCENARIO_DIR, Scenario, load_scenario
from corridor.simulation.validate import checker

Progress = Callable[[float, str], None]


def _quiet(_: float, __: str) -> None:
    return None


@lru_cache(maxsize=2)
def _network(directory: str | None) -> Network:
    return load_network(Path(directory) if directory else None)


def seed_for(seed: int, replication: int) -> int:
    """Independent, reproducible seed of replication ``replication`` of a run seeded ``seed``."""
    return int(np.random.SeedSequence([seed, replication]).generate_state(1, np.uint64)[0])


def prepare(
    name_or_path: str, network_dir: str | None = None, directory: Path = SCENARIO_DIR
) -> Scenario:
    """Load and validate a scenario against the network (raises ``ScenarioError``).

    Validation routes every flow of the scenario over the network, 0.1-0.3 s of CPU a scenario:
    the list of shipped scenarios, which the dashboard asks for on every visit, cost that for each
    scenario on every request. A validated scenario is kept per process while its files stay as
    they were: the key holds a digest of every scenario file it may read (its bases come from
    ``directory``; a few kB), so an edited, added or removed file is read again.
    """
    return _prepared(name_or_path, network_dir, directory, _files_state(name_or_path, directory))


@lru_cache(maxsize=64)
def _prepared(
    name_or_path: str,
    network_dir: str | None,
    directory: Path,
    files: tuple[tuple[str, str], ...],
) -> Scenario:
    return load_scenario(name_or_path, directory, check=checker(_network(network_dir)))


def _files_state(name_or_path: str, directory: Path) -> tuple[tuple[str, str], ...]:
    paths = sorted(directory.glob("*.toml"))
    given = Path(name_or_path)
    if given.suffix == ".toml" or given.exists():
        paths.append(given)
    state = []
    for path in paths:
        try:
            content = path.read_bytes()
        except OSError:
            continue  # a file that is not there: resolving the scenario says so
        state.append((str(path), hashlib.sha256(content).hexdigest()))
    return tuple(state)


def replication(
    scenario: Scenario,
    seed: int,
    horizon_days: float | None = None,
    network_dir: str | None = None,
) -> dict[str, Any]:
    """One replication; top-level so Dask workers can import and run it."""
    model = Model(_network(network_dir), scenario, load_parameters(), seed, horizon_days)
    model.run()
    return collect(model)


def simulate(
    scenario: Scenario,
    replications: int = 1,
    seed: int = 1,
    workers: int | None = None,
    scheduler: str | None = None,
    horizon_days: float | None = None,
    network_dir: str | None = None,
    progress: Progress = _quiet,
) -> dict[str, Any]:
    """Run ``replications`` seeds of ``scenario`` and summarise them (see :func:`results.summarise`).

    One replication with no scheduler runs in this process; otherwise on Dask.
    """
    seeds = [seed_for(seed, i) for i in range(replications)]
    if replications == 1 and scheduler is None and (workers or 1) <= 1:
        progress(0.0, f"{scenario.name}: replication 1 of 1")
        result = replication(scenario, seeds[0], horizon_days, network_dir)
        progress(1.0, f"{scenario.name}: done")
        return summarise([result], seeds)
    results = _on_dask(scenario, seeds, workers, scheduler, horizon_days, network_dir, progress)
    return summarise(results, seeds)


def _on_dask(
    scenario: Scenario,
    seeds: list[int],
    workers: int | None,
    scheduler: str | None,
    horizon_days: float | None,
    network_dir: str | None,
    progress: Progress,
) -> list[dict[str, Any]]:
    from dask.distributed import Client, LocalCluster, as_completed

    cluster = None
    if scheduler is None:
        cluster = LocalCluster(  # type: ignore[no-untyped-call]
            n_workers=workers or 2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",  # a free port: never clash with another cluster
            silence_logs=40,
        )
        client = Client(cluster)  # type: ignore[no-untyped-call]
    else:
        client = Client(scheduler)  # type: ignore[no-untyped-call]
    try:
        futures = [
            client.submit(
                replication, scenario, s, horizon_days, network_dir, key=f"rep-{i}-{s}", pure=False
            )
            for i, s in enumerate(seeds)
        ]
        index = {f.key: i for i, f in enumerate(futures)}
        results: list[dict[str, Any] | None] = [None] * len(seeds)
        finished = as_completed(futures)  # type: ignore[no-untyped-call]
        for done, future in enumerate(finished, start=1):
            results[index[future.key]] = future.result()
            progress(done / len(seeds), f"{scenario.name}: replication {done} of {len(seeds)}")
        return [r for r in results if r is not None]
    finally:
        client.close()  # type: ignore[no-untyped-call]
        if cluster is not None:
            cluster.close()


def run(params: dict[str, Any], progress: Progress) -> dict[str, Any]:
    """The background-job entry point: ``{"scenario", "replications", "seed", "workers", ...}``.

    Validates first (a bad scenario raises ``ScenarioError`` before any work), then simulates; the
    result is the JSON summary.
    """
    name = str(params.get("scenario", ""))
    if not name:
        from corridor.simulation.errors import ScenarioError

        raise ScenarioError("invalid", "scenario", "a scenario name is required")
    scenario = prepare(name)
    return simulate(
        scenario,
        replications=int(params.get("replications", 1)),
        seed=int(params.get("seed", 1)),
        workers=params.get("workers"),
        scheduler=params.get("scheduler"),
        horizon_days=params.get("horizon_days"),
        progress=progress,
    )
