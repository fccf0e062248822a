"""What-if simulation of the corridor: trains, borders, ports and ferries as a discrete-event model.

``prepare(name)`` loads and validates a scenario (TOML, ``data/scenarios``) against the network;
``simulate(scenario, replications=...)`` runs it (in-process or on Dask) and returns a JSON-ready
summary; ``diff`` compares two summaries; ``run(params, progress)`` is the background-job entry.

Names are loaded on first use: importing :class:`ScenarioError` (the API does, to map it to a 4xx)
must not pull SimPy, NumPy and the model into a web process that never simulates.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from corridor.simulation.errors import ScenarioError
    from corridor.simulation.results import diff, summarise
    from corridor.simulation.runner import prepare, run, seed_for, simulate
    from corridor.simulation.scenario import Scenario, load_scenario, scenario_names

_WHERE = {
    "ScenarioError": "errors",
    "diff": "results",
    "summarise": "results",
    "prepare": "runner",
    "run": "runner",
    "seed_for": "runner",
    "simulate": "runner",
    "Scenario": "scenario",
    "load_scenario": "scenario",
    "scenario_names": "scenario",
}

__all__ = [
    "Scenario",
    "ScenarioError",
    "diff",
    "load_scenario",
    "prepare",
    "run",
    "scenario_names",
    "seed_for",
    "simulate",
    "summarise",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'corridor.simulation' has no attribute {name!r}")
    return getattr(importlib.import_module(f"corridor.simulation.{module}"), name)
