"""``corridor simulate``: run a what-if scenario, or compare two, from the command line.

    corridor simulate wb-2030 --replications 20 --report wb-2030.html
    corridor simulate diff base-2024 wb-2030
    corridor simulate list

SimPy, NumPy, Dask and matplotlib load only inside the command, so ``corridor --help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

NAMES = typer.Argument(
    ...,
    help="A scenario (shipped name such as wb-2030, or a .toml file); "
    "'diff A B' to compare two; 'list' to list the shipped ones.",
    show_default=False,
)
REPLICATIONS = typer.Option(1, "--replications", "-n", min=1, max=1000, help="Independent seeds.")
WORKERS = typer.Option(
    None, "--workers", "-w", min=1, max=256, help="Dask worker processes (default: 2 when n > 1)."
)
SCHEDULER = typer.Option(
    None, "--scheduler", help="Use an existing Dask cluster, e.g. tcp://HOST:8786."
)
REPORT = typer.Option(None, "--report", help="Write an HTML report with plots here.")
JSON_OUT = typer.Option(
    None, "--json", help="Write the JSON summary here (and Parquet tables beside it)."
)
SEED = typer.Option(1, "--seed", help="Seed of the first replication (same seed, same result).")
DAYS = typer.Option(
    None, "--days", min=1, max=3650, help="Measured days (default: the scenario's horizon)."
)


def _fail(message: str, code: int) -> typer.Exit:
    err.print(f"[red]error:[/red] {message}", highlight=False)
    return typer.Exit(code)


def simulate(
    names: list[str] = NAMES,
    replications: int = REPLICATIONS,
    workers: int | None = WORKERS,
    scheduler: str | None = SCHEDULER,
    report: Path | None = REPORT,
    json_out: Path | None = JSON_OUT,
    seed: int = SEED,
    days: float | None = DAYS,
) -> None:
    """Simulate a year of corridor traffic: transit times, throughput, bottlenecks."""
    from corridor.simulation import ScenarioError, scenario_names

    if names == ["list"]:
        for name in scenario_names():
            out.print(name)
        return
    if names[0] == "diff":
        if len(names) != 3:
            raise _fail("diff needs two scenarios: corridor simulate diff A B", 2)
        targets = names[1:]
    elif len(names) == 1:
        targets = names
    else:
        raise _fail("give one scenario, or 'diff A B'", 2)
    if scheduler is not None and not scheduler.startswith(("tcp://", "tls://", "inproc://")):
        raise _fail(f"--scheduler: {scheduler!r} is not a scheduler address (tcp://HOST:8786)", 2)
    try:
        from corridor.simulation import prepare

        scenarios = [prepare(t) for t in targets]
    except ScenarioError as exc:
        raise _fail(
            str(exc), 1 if exc.code in ("invalid", "no_route", "malformed") else 2
        ) from None
    summaries = [_run(sc, replications, workers, scheduler, seed, days) for sc in scenarios]
    if len(summaries) == 1:
        _print_summary(summaries[0], scenarios[0].changes)
    else:
        from corridor.simulation import diff

        for s in summaries:
            _print_summary(s, ())
        _print_diff(diff(summaries[0], summaries[1]))
    _write(summaries, [list(sc.changes) for sc in scenarios], report, json_out)


def _run(
    scenario: Any,
    replications: int,
    workers: int | None,
    scheduler: str | None,
    seed: int,
    days: float | None,
) -> dict[str, Any]:
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from corridor.simulation import simulate as run_scenario

    with Progress(
        TextColumn("{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(), console=err, transient=True,
    ) as bar:  # fmt: skip
        task = bar.add_task(f"{scenario.name}: starting", total=1.0)

        def progress(fraction: float, message: str) -> None:
            bar.update(task, completed=fraction, description=message)

        try:
            return run_scenario(
                scenario,
                replications=replications,
                seed=seed,
                workers=workers,
                scheduler=scheduler,
                horizon_days=days,
                progress=progress,
            )
        except OSError as exc:
            raise _fail(f"--scheduler: cannot reach the Dask scheduler ({exc})", 2) from None


def _print_summary(summary: dict[str, Any], changes: tuple[str, ...]) -> None:
    v = summary["volume"]
    n = summary["replications"]
    out.print(
        f"[bold]{summary['scenario']}[/bold]: {n} replication(s), "
        f"{summary['horizon_days']:.0f} days, {summary['events']:,} events",
        highlight=False,
    )
    if changes:
        out.print("What it changes:", highlight=False)
        for line in changes:
            if ": flow " not in line:
                out.print(f"  - {line}", highlight=False)
    ci = f" ± {v['delivered_t_ci'] / 1e6:.2f}" if v.get("delivered_t_ci") is not None else ""
    out.print(
        f"Delivered {v['delivered_t'] / 1e6:.2f}{ci} Mt of {v['demand_t'] / 1e6:.2f} Mt demand; "
        f"{v['container_trains']:.0f} container trains, {v['trucks']:,.0f} trucks; "
        f"{v['waiting_end_t'] / 1e3:,.0f} kt still waiting in port yards at the end",
        highlight=False,
    )
    table = Table(title="Where the corridor jams (bottlenecks by utilisation)")
    for col in ("resource", "util", "Mt/yr", "cap Mt", "room", "wait h"):
        table.add_column(col, justify="left" if col == "resource" else "right", no_wrap=True)
    for b in summary["bottlenecks"][:8]:
        table.add_row(
            b["resource"],
            f"{b['utilisation']:.0%}",
            f"{b['tonnes'] / 1e6:.2f}",
            f"{b['capacity_t'] / 1e6:.2f}",
            f"{b['headroom']:+.0%}",
            f"{b['mean_wait_h']:.1f}",
        )
    out.print(table)
    od = Table(title="Transit time per origin-destination (days)")
    for col in ("flow", "cargo", "kt/yr", "p10", "p50", "p90"):
        od.add_column(col, justify="left" if col in ("flow", "cargo") else "right", no_wrap=True)
    for row in summary["od"]:
        od.add_row(
            row["flow"],
            row["cargo"],
            f"{row['delivered_t'] / 1e3:,.0f}",
            *(f"{row[k]:.1f}" if row[k] is not None else "-" for k in ("p10_d", "p50_d", "p90_d")),
        )
    out.print(od)


def _print_diff(d: dict[str, Any]) -> None:
    table = Table(title=f"{d['b']} against {d['a']}")
    for col in ("figure", d["a"], d["b"], "change"):
        table.add_column(col, justify="left" if col == "figure" else "right")
    for key, row in d["volume"].items():
        table.add_row(key, *_triple(row))
    for row in d["od_p50_d"]:
        table.add_row(f"p50 days {row['flow']}", *_triple(row))
    for row in d["utilisation"][:8]:
        table.add_row(f"utilisation {row['resource']}", *_triple(row))
    out.print(table)
    for side in ("a", "b"):
        b = d[f"bottleneck_{side}"]
        if b:
            out.print(
                f"Binding bottleneck in {d[side]}: {b['resource']} at {b['utilisation']:.0%}",
                highlight=False,
            )


def _triple(row: dict[str, Any]) -> tuple[str, str, str]:
    def f(x: Any) -> str:
        return "-" if x is None else f"{x:,.2f}"

    pct = "" if row.get("pct") is None else f" ({row['pct']:+.1f} %)"
    return f(row["a"]), f(row["b"]), f(row["delta"]) + pct


def _write(
    summaries: list[dict[str, Any]],
    changes: list[list[str]],
    report: Path | None,
    json_out: Path | None,
) -> None:
    from corridor.simulation import report as rep

    if json_out is not None:
        data: Any = summaries[0] if len(summaries) == 1 else {"scenarios": summaries}
        if len(summaries) == 2:
            from corridor.simulation import diff

            data["diff"] = diff(summaries[0], summaries[1])
        rep.write_json(data, json_out)
        written = [json_out]
        for s in summaries:
            stem = json_out.with_suffix("")
            if len(summaries) > 1:
                stem = stem.with_name(f"{stem.name}.{s['scenario']}")
            written += rep.write_parquet(s, stem)
        out.print("wrote " + ", ".join(str(p) for p in written), highlight=False)
    if report is not None:
        report.write_text(rep.render_html(summaries, changes), encoding="utf-8")
        out.print(f"wrote {report}", highlight=False)
