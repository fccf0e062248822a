"""Replications on a Dask LocalCluster give the same summary as the same seeds in-process."""

import json

from corridor.simulation import prepare, seed_for, simulate, summarise
from corridor.simulation.runner import replication


def test_dask_replications_equal_in_process_runs():
    sc = prepare("base-2024")
    seen = []
    on_dask = simulate(
        sc, replications=2, seed=9, workers=1, horizon_days=10, progress=lambda f, m: seen.append(f)
    )
    seeds = [seed_for(9, i) for i in range(2)]
    local = summarise([replication(sc, s, 10) for s in seeds], seeds)
    assert json.dumps(on_dask, sort_keys=True) == json.dumps(local, sort_keys=True)
    assert seen[-1] == 1.0
    assert on_dask["replications"] == 2
