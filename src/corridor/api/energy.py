"""The energy corridor over HTTP: start runs and n-1 sweeps as background jobs, read their results.

Input is checked here before a job is queued (that needs no PyPSA, so it is fast); the solve runs in
the job consumer (kinds ``energy.run`` and ``energy.n1`` in ``corridor.jobs.kinds``). Saved runs live in ``<var_dir>/energy/<run>/``; the dashboard's energy layer reads
``GET /energy/runs/{run}/flows`` as GeoJSON.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from corridor.api.deps import PrincipalDep
from corridor.api.errors import ApiError
from corridor.api.jobs import JobOut, JobsDep, accepted
from corridor.energy.errors import EnergyError

router = APIRouter(prefix="/energy", tags=["energy"])
RUN_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,80}$")


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EnergyRunIn(_In):
    scenario: str = Field(min_length=1, max_length=80, description="Shipped scenario, e.g. 2025")
    outage: str | None = Field(default=None, max_length=80, description="Asset to take out")
    start: str | None = Field(
        default=None, alias="from", max_length=40, description="Outage start (ISO date)"
    )
    end: str | None = Field(
        default=None, alias="to", max_length=40, description="Outage end, exclusive (ISO date)"
    )
    first_hour: int | None = Field(
        default=None, ge=0, le=8759, description="First hour to solve (default: the whole year)"
    )
    last_hour: int | None = Field(default=None, ge=0, le=8759, description="Last hour to solve")


class EnergyN1In(_In):
    scenario: str = Field(min_length=1, max_length=80, description="Shipped scenario, e.g. 2030")
    first_hour: int = Field(default=0, ge=0, le=8759)
    last_hour: int = Field(default=743, ge=0, le=8759)


class ScenarioOut(BaseModel):
    name: str
    year: int
    description: str


class AssetOut(BaseModel):
    asset: str
    kind: str
    name: str
    region: str
    n1: bool


class FlowProperties(BaseModel):
    id: str
    asset: str
    name: str
    carrier: str
    status: str
    flow: float
    unit: str
    capacity: float
    capacity_unit: str
    utilisation: float
    colour: str


class FlowGeometry(BaseModel):
    type: str
    coordinates: list[list[float]]


class FlowFeature(BaseModel):
    type: str
    geometry: FlowGeometry
    properties: FlowProperties


class FlowsOut(BaseModel):
    """GeoJSON FeatureCollection of one run's pipelines and cables."""

    type: str
    features: list[FlowFeature]
    scenario: str
    hours: int


class RunScenarioOut(BaseModel):
    name: str
    year: int
    description: str


class RunOutageOut(BaseModel):
    """The asset taken out, over which hours of the year (0 = 1 January 00:00)."""

    asset: str
    first_hour: int
    last_hour: int
    start: str
    end: str


class PipelineOut(BaseModel):
    """One pipeline's flow at its entry into the corridor."""

    asset: str
    name: str
    status: str
    throughput_bcm: float = Field(description="Gas carried over the run's hours")
    throughput_bcm_per_yr: float = Field(description="The same, scaled to a full year")
    capacity_bcm_per_yr: float
    utilisation: float = Field(description="Mean absolute flow over capacity, 0..1")
    hours_at_capacity: int


class SegmentOut(BaseModel):
    """One pipeline segment (gas, bcm) or electricity interconnector (TWh) of the run."""

    id: str
    asset: str
    carrier: str
    name: str
    status: str
    bus0: str
    bus1: str
    coordinates: list[list[float]] = Field(description="[[lon, lat], [lon, lat]] of its ends")
    flow: float = Field(description="Net flow bus0 -> bus1 over the run, in `unit`")
    unit: str
    forward: float | None = Field(default=None, description="Cables: flow bus0 -> bus1 (TWh)")
    backward: float | None = Field(default=None, description="Cables: flow bus1 -> bus0 (TWh)")
    capacity: float
    capacity_unit: str
    utilisation: float
    hours_at_capacity: int
    entry: bool = Field(description="Whether the segment is the pipeline's entry point")


class PriceOut(BaseModel):
    """Marginal prices of one bus over the run (EUR/MWh)."""

    mean: float
    load_weighted: float
    max: float


class RegionUnservedOut(BaseModel):
    electricity_mwh: float
    gas_mwh: float


class GasBalanceOut(BaseModel):
    """One country's gas over the run (bcm)."""

    production_bcm: float
    other_supply_bcm: float
    consumption_bcm: float
    power_bcm: float
    net_exports_bcm: float
    unserved_bcm: float


class RunSummaryOut(BaseModel):
    """A saved run: see docs/energy.md for every field."""

    scenario: RunScenarioOut
    hours: int
    first_hour: int | None = None
    last_hour: int | None = None
    start: str
    end: str
    outage: RunOutageOut | None
    pipelines: list[PipelineOut]
    segments: list[SegmentOut]
    prices: dict[str, PriceOut] = Field(description="By bus id")
    unserved_mwh: dict[str, float] = Field(description="Load shed by bus id")
    unserved_by_region: dict[str, RegionUnservedOut] = Field(default_factory=dict)
    unserved_total_mwh: float
    co2_mt: dict[str, float] = Field(description="Power-sector CO2 by country (Mt)")
    co2_total_mt: float
    gas_balance: dict[str, GasBalanceOut] = Field(description="By country code")


def _dir(request: Request) -> Path:
    base: Path = request.app.state.settings.var_dir
    return base / "energy"


def _bad(exc: EnergyError) -> ApiError:
    status = 404 if exc.code == "not_found" else 422
    return ApiError(status, exc.code, exc.field, exc.reason.splitlines()[0])


@router.get("/scenarios", response_model=list[ScenarioOut], summary="Shipped scenarios")
def scenarios(_: PrincipalDep) -> list[ScenarioOut]:
    from corridor.energy import load_energy_data, load_scenario, shipped_scenarios

    data = load_energy_data()
    out = []
    for name in shipped_scenarios():
        sc = load_scenario(name, data)
        out.append(ScenarioOut(name=sc.name, year=sc.year, description=sc.description))
    return out


@router.get(
    "/scenarios/{scenario}/assets",
    response_model=list[AssetOut],
    summary="Assets of a scenario that an outage can take out",
)
def scenario_assets(scenario: str, _: PrincipalDep) -> list[AssetOut]:
    from corridor.energy.assets import assets, n1_candidates
    from corridor.energy.run import prepare

    if "/" in scenario or "\\" in scenario or scenario.endswith(".toml"):
        raise ApiError(404, "not_found", "scenario", f"unknown scenario {scenario!r}")
    try:
        prep = prepare(scenario)
    except EnergyError as exc:
        raise _bad(exc) from None
    n1 = set(n1_candidates(prep.data))
    return [
        AssetOut(asset=a.asset_id, kind=a.kind, name=a.name, region=a.region, n1=a.asset_id in n1)
        for a in assets(prep.data).values()
    ]


@router.post(
    "/runs",
    status_code=202,
    response_model=JobOut,
    summary="Run a scenario (optionally with an outage) as a background job",
)
def start_run(
    body: EnergyRunIn, request: Request, jobs: JobsDep, who: PrincipalDep
) -> JSONResponse:
    from corridor.energy.run import prepare

    if "/" in body.scenario or body.scenario.endswith(".toml"):
        raise ApiError(422, "invalid", "scenario", "only shipped scenarios can be run over the API")
    try:
        prepare(body.scenario, body.outage, body.start, body.end)
    except EnergyError as exc:
        raise _bad(exc) from None
    params: dict[str, Any] = {
        "scenario": body.scenario,
        "outage": body.outage,
        "from": body.start,
        "to": body.end,
        "results_dir": str(_dir(request)),
    }
    if body.first_hour is not None or body.last_hour is not None:
        first = body.first_hour or 0
        last = 8759 if body.last_hour is None else body.last_hour
        if last < first:
            raise ApiError(422, "invalid", "last_hour", "must not be before first_hour")
        params.update(first_hour=first, last_hour=last)
    job = jobs.submit("energy.run", params, who.organisation_id)
    return accepted(job)


@router.post(
    "/n1",
    status_code=202,
    response_model=JobOut,
    summary="Run the n-1 sweep of a scenario over a window of hours as a background job",
)
def start_n1(body: EnergyN1In, request: Request, jobs: JobsDep, who: PrincipalDep) -> JSONResponse:
    from corridor.energy.run import prepare

    if "/" in body.scenario or body.scenario.endswith(".toml"):
        raise ApiError(422, "invalid", "scenario", "only shipped scenarios can be run over the API")
    if body.last_hour < body.first_hour:
        raise ApiError(422, "invalid", "last_hour", "must not be before first_hour")
    try:
        prepare(body.scenario)
    except EnergyError as exc:
        raise _bad(exc) from None
    params = {
        "scenario": body.scenario,
        "first_hour": body.first_hour,
        "last_hour": body.last_hour,
        "results_dir": str(_dir(request)),
    }
    job = jobs.submit("energy.n1", params, who.organisation_id)
    return accepted(job)


def _summary(request: Request, run: str) -> dict[str, Any]:
    from corridor.energy.results import load_summary

    if not RUN_NAME.match(run) or run.startswith("."):
        raise ApiError(404, "not_found", "run", f"no saved run {run!r}")
    summary = load_summary(_dir(request) / run)
    if summary is None:
        raise ApiError(
            404,
            "not_found",
            "run",
            f"no saved run {run!r}; start one with POST /api/v1/energy/runs",
        )
    return summary


@router.get("/runs/{run}", response_model=RunSummaryOut, summary="A saved run's summary")
def run_summary(run: str, request: Request, _: PrincipalDep) -> RunSummaryOut:
    return RunSummaryOut.model_validate(_summary(request, run))


@router.get(
    "/runs/{run}/flows",
    response_model=FlowsOut,
    summary="A saved run's pipeline and cable flows as GeoJSON (dashboard energy layer)",
)
def run_flows(run: str, request: Request, _: PrincipalDep) -> dict[str, Any]:
    from corridor.energy.geo import flows_geojson

    return flows_geojson(_summary(request, run))
