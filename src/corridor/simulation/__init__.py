"""What-if simulation of the corridor: trains, borders, ports and ferries as a discrete-event model.

``prepare(name)`` loads and validates a scenario (TOML, ``data/scenarios``) against the network;
``simulate(scenario, replications=...)`` runs it (in-process or on Dask) and returns a JSON-ready
summary; ``diff`` compares two summaries; ``run(params, progress)`` is the background-job entry.
SimPy, NumPy and Dask are imported by the submodules, so import this package only when simulating.
"""

from corridor.simulation.errors import ScenarioError
from corridor.simulation.results import diff, summarise
from corridor.simulation.runner import prepare, run, seed_for, simulate
from corridor.simulation.scenario import Scenario, load_scenario, scenario_names

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
