"""Simulation over HTTP: list scenarios, start a run as a background job, compare two runs.

A run is validated here (an unknown scenario or a broken file answers 4xx at once and nothing is
stored), then queued as a job of kind ``simulation``; the client follows ``Location`` to
``/api/v1/jobs/{id}`` for progress and, when done, the summary. The work itself is
:func:`corridor.simulation.runner.run`.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from corridor.api.deps import PrincipalDep, SessionDep
from corridor.api.errors import ApiError
from corridor.api.jobs import JobOut, JobsDep, accepted
from corridor.store import jobs as job_store
from corridor.store.models import OrgKind

router = APIRouter(tags=["simulation"])


class ScenarioOut(BaseModel):
    """A shipped scenario: its base chain, total demand and what each file changes."""

    name: str
    description: str
    year: int
    chain: list[str]
    demand_t: float
    changes: list[str]


class RunIn(BaseModel):
    scenario: str = Field(pattern=r"^[a-z0-9][a-z0-9\-]*$", max_length=64)
    replications: int = Field(default=1, ge=1, le=100)
    seed: int = Field(default=1, ge=0, le=2**31)
    workers: int | None = Field(default=None, ge=1, le=16)
    days: float | None = Field(default=None, gt=0, le=3650, description="Measured days")


class DiffOut(BaseModel):
    """Run ``b`` against run ``a``: volumes, median transit per flow, utilisation that moved most."""

    a: str
    b: str
    volume: dict[str, dict[str, float | None]]
    od_p50_d: list[dict[str, Any]]
    utilisation: list[dict[str, Any]]
    bottleneck_a: dict[str, Any] | None
    bottleneck_b: dict[str, Any] | None


@router.get("/simulation/scenarios", response_model=list[ScenarioOut], summary="Shipped scenarios")
def scenarios(who: PrincipalDep) -> list[ScenarioOut]:
    from corridor.simulation import prepare, scenario_names

    out = []
    for name in scenario_names():
        sc = prepare(name)
        out.append(
            ScenarioOut(
                name=sc.name,
                description=sc.description,
                year=sc.year,
                chain=list(sc.chain),
                demand_t=sc.total_tonnes(),
                changes=list(sc.changes),
            )
        )
    return out


@router.post(
    "/simulation/runs",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=JobOut,
    summary="Start a simulation run (a background job)",
)
def start_run(body: RunIn, who: PrincipalDep, jobs: JobsDep) -> JSONResponse:
    from corridor.simulation import prepare

    prepare(body.scenario)  # ScenarioError -> 4xx before anything is stored
    params: dict[str, Any] = {
        "scenario": body.scenario,
        "replications": body.replications,
        "seed": body.seed,
    }
    if body.workers is not None:
        params["workers"] = body.workers
    if body.days is not None:
        params["horizon_days"] = body.days
    return accepted(jobs.submit("simulation", params, who.organisation_id))


def _result(s: SessionDep, who: PrincipalDep, job_id: str, field: str) -> dict[str, Any]:
    job = job_store.get(s, job_id)
    if (
        job is None
        or job.kind != "simulation"
        or (who.kind is not OrgKind.ADMIN and job.organisation_id != who.organisation_id)
    ):
        raise ApiError(404, "not_found", field, f"no simulation run {job_id} that you may see")
    if job.state != "done" or job.result is None:
        raise ApiError(409, "conflict", field, f"run {job_id} is {job.state}, not done")
    return dict(job.result)


@router.get("/simulation/diff", response_model=DiffOut, summary="Compare two finished runs")
def diff_runs(
    s: SessionDep,
    who: PrincipalDep,
    a: str = Query(..., max_length=64, description="Job id of the reference run"),
    b: str = Query(..., max_length=64, description="Job id of the run compared with it"),
) -> DiffOut:
    from corridor.simulation import diff

    return DiffOut.model_validate(diff(_result(s, who, a, "a"), _result(s, who, b, "b")))
