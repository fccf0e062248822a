"""``corridor energy ...``: run the gas and power corridor model, its disruptions and its report.

PyPSA is imported only inside the commands that solve, so ``corridor --help`` stays fast.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from corridor.energy.errors import EnergyDataError, EnergyError

app = typer.Typer(
    help="Energy corridor: gas and power flows Central Asia - Caspian - South Caucasus - Europe.",
    no_args_is_help=True,
)
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

SCENARIO_HELP = "Scenario: a shipped name (2025, 2030) or the path of a .toml file."
OUT_HELP = "Results directory (default: <var_dir>/energy)."
FROM_HELP = "Start of the outage (ISO date, inclusive; default: 1 January)."
TO_HELP = "End of the outage (ISO date, exclusive; default: the end of the year)."


def _fail(exc: EnergyError) -> typer.Exit:
    if isinstance(exc, EnergyDataError):
        for problem in exc.problems:
            err.print(f"[red]error:[/red] {problem}", highlight=False, markup=True)
        err.print(f"[red]{len(exc.problems)} problem(s); nothing was run or stored[/red]")
    else:
        where = f"{exc.field}: " if exc.field else ""
        err.print(f"[red]error:[/red] {where}{exc.reason}", highlight=False)
    return typer.Exit(2)


@contextmanager
def _solver_quiet() -> Iterator[None]:
    """HiGHS prints a banner on the process's standard output (fd 1), which would corrupt --json
    output and tables; while solving, fd 1 goes to /dev/null (progress is on stderr)."""
    import os
    import sys

    sys.stdout.flush()
    saved = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)


@contextmanager
def _bar(label: str) -> Iterator[Callable[[float, str], None]]:
    with (
        _solver_quiet(),
        Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[msg]}"),
            TimeElapsedColumn(),
            console=err,
            transient=True,
        ) as bar,
    ):
        task = bar.add_task(label, total=1.0, msg="importing PyPSA")

        def update(fraction: float, message: str) -> None:
            bar.update(task, completed=fraction, msg=message)

        yield update


def _pipelines_table(summary: dict[str, Any]) -> Table:
    table = Table(title=f"Gas pipelines, {summary['hours']} h from {summary['start']}")
    for col in (
        "asset",
        "name",
        "throughput bcm",
        "bcm/yr rate",
        "capacity bcm/yr",
        "utilisation",
        "hours at capacity",
    ):
        table.add_column(col, justify="left" if col in ("asset", "name") else "right")
    for p in summary["pipelines"]:
        table.add_row(
            p["asset"],
            p["name"],
            f"{p['throughput_bcm']:.2f}",
            f"{p['throughput_bcm_per_yr']:.2f}",
            f"{p['capacity_bcm_per_yr']:.2f}",
            f"{p['utilisation']:.0%}",
            str(p["hours_at_capacity"]),
        )
    return table


def _cables_table(summary: dict[str, Any]) -> Table:
    table = Table(title="Electricity interconnectors and cables")
    for col in ("asset", "forward TWh", "backward TWh", "capacity MW", "utilisation"):
        table.add_column(col, justify="left" if col == "asset" else "right")
    for s in summary["segments"]:
        if s["carrier"] == "electricity":
            table.add_row(
                s["asset"],
                f"{s['forward']:.2f}",
                f"{s['backward']:.2f}",
                f"{s['capacity']:,.0f}",
                f"{s['utilisation']:.0%}",
            )
    return table


def _prices_table(summary: dict[str, Any]) -> Table:
    table = Table(title="Prices (load-weighted, EUR/MWh), unserved energy and CO2")
    for col in (
        "country",
        "electricity",
        "gas",
        "unserved el MWh",
        "unserved gas MWh",
        "CO2 Mt",
        "gas net exports bcm",
    ):
        table.add_column(col, justify="left" if col == "country" else "right")
    countries = sorted({b.split("-")[0] for b in summary["prices"] if b.count("-") == 1})
    for c in countries:
        pe = summary["prices"].get(f"{c}-el", {}).get("load_weighted")
        pg = summary["prices"].get(f"{c}-gas", {}).get("load_weighted")
        bal = summary["gas_balance"].get(c, {})
        table.add_row(
            c,
            "" if pe is None else f"{pe:.1f}",
            "" if pg is None else f"{pg:.1f}",
            f"{summary['unserved_mwh'].get(f'{c}-el', 0):,.0f}",
            f"{summary['unserved_mwh'].get(f'{c}-gas', 0):,.0f}",
            f"{summary['co2_mt'].get(c, 0):.1f}",
            f"{bal.get('net_exports_bcm', 0):.2f}" if bal else "",
        )
    return table


def _harm_table(rows: list[dict[str, Any]], title: str, top: int) -> Table:
    table = Table(title=title)
    for col in (
        "rank",
        "asset",
        "kind",
        "harm M EUR",
        "Europe M EUR",
        "Central Asia M EUR",
        "unserved GWh",
        "largest price rise",
        "main reroute",
    ):
        table.add_column(
            col,
            justify="left"
            if col in ("asset", "kind", "largest price rise", "main reroute")
            else "right",
        )
    for i, r in enumerate(rows[:top], start=1):
        rise = max(r["price_change_eur_per_mwh"].items(), key=lambda kv: kv[1], default=("", 0.0))
        reroute = max(r["rerouted_bcm"].items(), key=lambda kv: kv[1], default=("", 0.0))
        table.add_row(
            str(i),
            r["asset"],
            r["kind"],
            f"{r['harm_eur'] / 1e6:,.1f}",
            f"{r['harm_europe_eur'] / 1e6:,.1f}",
            f"{r['harm_central_asia_eur'] / 1e6:,.1f}",
            f"{r['unserved_mwh'] / 1e3:,.1f}",
            f"{rise[0]} +{rise[1]:.1f}" if rise[1] > 0 else "-",
            f"{reroute[0]} +{reroute[1]:.2f} bcm" if reroute[1] > 0 else "-",
        )
    return table


@app.command()
def validate(
    data_dir: Path | None = typer.Option(None, "--data", help="Energy data directory."),
) -> None:
    """Check the energy data files and the shipped scenarios; list every problem."""
    from corridor.energy import load_energy_data, load_scenario, shipped_scenarios

    try:
        data = load_energy_data(data_dir)
        for name in shipped_scenarios():
            load_scenario(name, data)
    except EnergyError as exc:
        raise _fail(exc) from None
    out.print(
        f"[green]OK[/green] {len(data.buses)} buses, {len(data.pipelines)} pipeline segments, "
        f"{len(data.interconnectors)} interconnectors, {len(data.generation)} fleets, "
        f"scenarios: {', '.join(shipped_scenarios())}"
    )


@app.command("assets")
def list_assets(scenario: str = typer.Argument(..., help=SCENARIO_HELP)) -> None:
    """The assets of a scenario that can be taken out (``--outage``), n-1 candidates marked."""
    from corridor.energy.assets import assets, n1_candidates
    from corridor.energy.run import prepare

    try:
        prep = prepare(scenario)
    except EnergyError as exc:
        raise _fail(exc) from None
    n1 = set(n1_candidates(prep.data))
    table = Table(title=f"Assets of scenario {prep.scenario.name}")
    for col in ("asset", "kind", "name", "region", "n-1"):
        table.add_column(col)
    for a in assets(prep.data).values():
        table.add_row(a.asset_id, a.kind, a.name, a.region, "yes" if a.asset_id in n1 else "")
    out.print(table)


@app.command()
def run(
    scenario: str = typer.Argument(..., help=SCENARIO_HELP),
    outage: str | None = typer.Option(None, "--outage", help="Asset to take out (see 'assets')."),
    start: str | None = typer.Option(None, "--from", help=FROM_HELP),
    end: str | None = typer.Option(None, "--to", help=TO_HELP),
    results: Path | None = typer.Option(None, "--out", help=OUT_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Solve a scenario hour by hour for a year (8,760 h) and save the results.

    With --outage the asset is out from --from to --to; only those hours are solved, with and
    without the outage, and the harm is reported.
    """
    from corridor.energy.run import prepare, results_dir, run_name

    try:
        prep = prepare(scenario, outage, start, end)
    except EnergyError as exc:
        raise _fail(exc) from None
    from corridor.energy.results import save
    from corridor.energy.run import solve_prepared

    first, last = (prep.outage.first, prep.outage.last) if prep.outage else (0, 8759)
    with _bar(f"energy {prep.scenario.name}") as progress:
        res = solve_prepared(prep, first, last, progress)
    target = save(res, results_dir(results) / run_name(prep))
    if as_json:
        out.print_json(json.dumps(res.summary))
        return
    out.print(_pipelines_table(res.summary))
    out.print(_cables_table(res.summary))
    out.print(_prices_table(res.summary))
    if prep.outage:
        from corridor.energy.outages import sweep

        with _bar("base case for comparison") as progress:
            rows = sweep(
                prep.data, prep.scenario.year, [prep.outage.asset_id], first, last, 1, progress
            )
        out.print(_harm_table(rows, f"Harm of losing {prep.outage.asset_id}", 1))
    out.print(
        f"CO2 {res.summary['co2_total_mt']:.1f} Mt; unserved "
        f"{res.summary['unserved_total_mwh']:,.0f} MWh; results in {target}"
    )


@app.command()
def n1(
    scenario: str = typer.Argument(..., help=SCENARIO_HELP),
    start: str | None = typer.Option(
        None, "--from", help="Start of the window (default: 1 January)."
    ),
    end: str | None = typer.Option(
        None, "--to", help="End of the window, exclusive (default: 1 February, the winter peak)."
    ),
    full_year: bool = typer.Option(False, "--full-year", help="Sweep all 8,760 hours."),
    workers: int | None = typer.Option(
        None, "--workers", min=1, max=32, help="Parallel processes (default: CPUs, at most 4)."
    ),
    top: int = typer.Option(15, "--top", min=1, help="Rows to print."),
    results: Path | None = typer.Option(None, "--out", help=OUT_HELP),
) -> None:
    """Take out every pipeline, cable, gas field and large fleet alone; rank them by harm."""
    from corridor.energy.assets import hour_of_year
    from corridor.energy.run import prepare, results_dir

    try:
        prep = prepare(scenario)
        year = prep.scenario.year
        if full_year:
            first, last = 0, 8759
        else:
            first = hour_of_year(start, year, "from") if start else 0
            last = (hour_of_year(end, year, "to") if end else 744) - 1
            if last < first:
                raise EnergyError("invalid", "to", "the window must end after it starts")
    except EnergyError as exc:
        raise _fail(exc) from None
    from corridor.energy.outages import n1 as sweep_n1

    with _bar(f"n-1 {prep.scenario.name}") as progress:
        rows = sweep_n1(prep.data, year, first, min(last, 8759), workers, progress)
    target = results_dir(results) / f"{prep.scenario.name}--n1.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(
        json.dumps(
            {"scenario": prep.describe(), "first_hour": first, "last_hour": last, "ranking": rows},
            indent=1,
        ),
        encoding="utf-8",
    )
    out.print(
        _harm_table(rows, f"n-1 {prep.scenario.name}: hours {first}-{last}, worst first", top)
    )
    europe = [
        r for r in sorted(rows, key=lambda r: -r["harm_europe_eur"]) if r["harm_europe_eur"] > 0
    ]
    asia = [
        r
        for r in sorted(rows, key=lambda r: -r["harm_central_asia_eur"])
        if r["harm_central_asia_eur"] > 0
    ]
    out.print("Worst for Europe: " + (", ".join(r["asset"] for r in europe[:5]) or "none"))
    out.print("Worst for Central Asia: " + (", ".join(r["asset"] for r in asia[:5]) or "none"))
    out.print(f"Ranking saved to {target}")


@app.command()
def report(
    scenarios: list[str] = typer.Argument(None, help="Scenarios to include (default: 2025 2030)."),
    results: Path | None = typer.Option(None, "--out", help=OUT_HELP),
    html: Path | None = typer.Option(
        None, "--html", help="Report file (default: <out>/report.html)."
    ),
) -> None:
    """A self-contained HTML report: flow duration curves, utilisation bars and price maps.

    Uses saved runs from 'corridor energy run'; a scenario not yet run is run first.
    """
    from corridor.energy.run import prepare, results_dir, run_name

    names = scenarios or ["2025", "2030"]
    try:
        preps = [prepare(s) for s in names]
    except EnergyError as exc:
        raise _fail(exc) from None
    from corridor.energy import report as energy_report
    from corridor.energy.results import load, save
    from corridor.energy.run import solve_prepared

    base = results_dir(results)
    runs = []
    for prep in preps:
        res = load(base / run_name(prep))
        if res is None:
            with _bar(f"energy {prep.scenario.name}") as progress:
                res = solve_prepared(prep, progress=progress)
            save(res, base / run_name(prep))
        runs.append(res)
    target = html or base / "report.html"
    energy_report.write(runs, preps[0].data, target)
    out.print(f"Report written to {target}")
