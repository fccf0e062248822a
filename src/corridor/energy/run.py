"""Running a scenario, with or without an outage: the one entry point of the CLI, API and jobs.

``run(params, progress)`` is the background-job function (``corridor.jobs``): plain JSON in, plain
JSON out, progress as a fraction and a message. Checking happens before PyPSA is imported, so bad
input fails in milliseconds with an ``EnergyError`` naming the field.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from corridor.energy.assets import HOURS, Outage, make_outage
from corridor.energy.data import EnergyData, load_energy_data
from corridor.energy.errors import EnergyError
from corridor.energy.results import Results
from corridor.energy.scenario import Scenario, apply, load_scenario

Progress = Callable[[float, str], None]


def _silent(_: float, __: str) -> None:
    return None


@dataclass(frozen=True)
class Prepared:
    """A checked scenario, its data and an optional outage, ready to build."""

    scenario: Scenario
    data: EnergyData
    outage: Outage | None

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.scenario.name,
            "year": self.scenario.year,
            "description": self.scenario.description,
        }


def prepare(
    scenario: str,
    outage: str | None = None,
    start: str | None = None,
    end: str | None = None,
    data_dir: Path | None = None,
) -> Prepared:
    """Load and check everything a run needs; raises ``EnergyError`` on bad input."""
    if (start or end) and not outage:
        raise EnergyError("invalid", "outage", "--from/--to need an asset to take out (--outage)")
    base = load_energy_data(data_dir)
    sc = load_scenario(scenario, base)
    data = apply(base, sc)
    out = make_outage(data, sc.year, outage, start, end) if outage else None
    return Prepared(sc, data, out)


def solve_prepared(
    prep: Prepared, first: int = 0, last: int = HOURS - 1, progress: Progress = _silent
) -> Results:
    """Build and solve hours ``first``..``last``; the outage (if any) applies inside its window."""
    from corridor.energy import model
    from corridor.energy.results import extract

    progress(0.0, "building the model")
    n = model.build(prep.data, prep.scenario.year, prep.outage)
    model.solve(
        n, first, last, prep.data.assumptions.window_hours, lambda f, m: progress(0.05 + 0.9 * f, m)
    )
    outage = None
    if prep.outage:
        o = prep.outage
        outage = {
            "asset": o.asset_id,
            "first_hour": o.first,
            "last_hour": o.last,
            "start": str(n.snapshots[o.first]),
            "end": str(n.snapshots[o.last]),
        }
    results = extract(n, prep.data, prep.describe(), first, last, outage)
    progress(1.0, "done")
    return results


def run(params: dict[str, Any], progress: Callable[[float, str], None]) -> dict[str, Any]:
    """Background job: run a scenario (optionally with an outage) and save its results.

    params: ``scenario`` (name, required), ``outage``/``from``/``to`` (optional), ``results_dir``
    (optional; default ``<var_dir>/energy``), ``first_hour``/``last_hour`` (optional window).
    Returns the run's summary.
    """
    scenario = params.get("scenario")
    if not isinstance(scenario, str) or not scenario:
        raise EnergyError("invalid", "scenario", "a scenario name is required")
    for key in ("outage", "from", "to", "results_dir"):
        if params.get(key) is not None and not isinstance(params[key], str):
            raise EnergyError("invalid", key, "must be a string")
    first = params.get("first_hour", 0)
    last = params.get("last_hour", HOURS - 1)
    if not (isinstance(first, int) and isinstance(last, int) and 0 <= first <= last < HOURS):
        raise EnergyError(
            "invalid", "first_hour", f"hours must satisfy 0 <= first <= last < {HOURS}"
        )
    prep = prepare(scenario, params.get("outage"), params.get("from"), params.get("to"))
    if prep.outage and params.get("first_hour") is None:
        first, last = prep.outage.first, prep.outage.last
    results = solve_prepared(prep, first, last, progress)
    target = results_dir(params.get("results_dir"))
    from corridor.energy.results import save

    name = run_name(prep)
    if not prep.outage and (first, last) != (0, HOURS - 1):
        name += f"--h{first}-{last}"
    save(results, target / name)
    return {**results.summary, "run": name}


def results_dir(given: str | Path | None = None) -> Path:
    """Where runs are saved: the given directory, else ``<var_dir>/energy``."""
    if given:
        return Path(given)
    from corridor.settings import get_settings

    return get_settings().var_dir / "energy"


def run_name(prep: Prepared) -> str:
    """Directory name of a run: the scenario, plus the outage asset if any."""
    name = Path(prep.scenario.name).stem
    return f"{name}--{prep.outage.asset_id}" if prep.outage else name


def n1_job(params: dict[str, Any], progress: Callable[[float, str], None]) -> dict[str, Any]:
    """Background job: the n-1 sweep of a scenario over a window (default: January).

    params: ``scenario`` (required), ``first_hour``/``last_hour`` (optional, default 0-743),
    ``workers`` (optional), ``results_dir`` (optional). Returns the ranking, worst first.
    """
    scenario = params.get("scenario")
    if not isinstance(scenario, str) or not scenario:
        raise EnergyError("invalid", "scenario", "a scenario name is required")
    first = params.get("first_hour", 0)
    last = params.get("last_hour", 743)
    if not (isinstance(first, int) and isinstance(last, int) and 0 <= first <= last < HOURS):
        raise EnergyError(
            "invalid", "first_hour", f"hours must satisfy 0 <= first <= last < {HOURS}"
        )
    workers = params.get("workers")
    if workers is not None and not (isinstance(workers, int) and 1 <= workers <= 32):
        raise EnergyError("invalid", "workers", "must be an integer from 1 to 32")
    prep = prepare(scenario)
    from corridor.energy.outages import n1

    rows = n1(prep.data, prep.scenario.year, first, last, workers, progress)
    result = {"scenario": prep.describe(), "first_hour": first, "last_hour": last, "ranking": rows}
    target = results_dir(params.get("results_dir")) / f"{run_name(prep)}--n1.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    import json

    target.write_text(json.dumps(result, indent=1), encoding="utf-8")
    return result
