"""``corridor network ...``: check, summarise and export the corridor dataset."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from corridor.network import DatasetError, Network, check_dataset, load_network
from corridor.network.export import to_csv, to_geojson
from corridor.network.summary import by_country, by_mode

app = typer.Typer(
    help="The corridor network: nodes, links, schedules, crossings.", no_args_is_help=True
)
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

DIR_HELP = "Dataset directory (default: the shipped corridor data, or CORRIDOR_NETWORK_DIR)."


def _load(directory: Path | None) -> Network:
    try:
        return load_network(directory)
    except DatasetError as exc:
        err.print(
            f"[red]The dataset has {len(exc.problems)} problem(s); run "
            "'corridor network validate' for the list.[/red]"
        )
        raise typer.Exit(1) from None


@app.command()
def validate(
    directory: Path | None = typer.Argument(None, help=DIR_HELP, show_default=False),
) -> None:
    """Check a dataset and list every problem with its file, line, record and reason.

    Exits with status 1 when there is any problem.
    """
    if directory is None:
        from corridor.settings import get_settings

        directory = get_settings().network_dir
    if not directory.is_dir():
        err.print(f"[red]{directory}: not a directory[/red]")
        raise typer.Exit(2)
    problems = check_dataset(directory)
    if problems:
        for problem in problems:
            err.print(str(problem), markup=False, highlight=False)
        err.print(f"[red]{len(problems)} problem(s) in {directory}[/red]")
        raise typer.Exit(1)
    network = load_network(directory)
    out.print(
        f"[green]OK[/green] {directory}: {len(network.nodes)} nodes in {len(network.countries())} "
        f"countries, {len(network.links)} links, {len(network.services)} services, "
        f"{len(network.crossings)} crossings, {len(network.corridors)} corridors, "
        f"{len(network.sources)} sources"
    )


@app.command()
def show(directory: Path | None = typer.Option(None, "--dir", help=DIR_HELP)) -> None:
    """Summary tables of the network by country, by mode and by corridor."""
    network = _load(directory)
    table = Table(title="By country")
    for col in ("country", "nodes", "rail km", "border crossings"):
        table.add_column(col, justify="right" if col != "country" else "left")
    for row in by_country(network):
        table.add_row(row.country, str(row.nodes), f"{row.rail_km:,.0f}", str(row.border_crossings))
    out.print(table)
    table = Table(title="By mode")
    for col in ("mode", "links", "km", "of which estimated km", "scheduled services", "runs"):
        table.add_column(col, justify="right" if col not in ("mode", "runs") else "left")
    for m in by_mode(network):
        runs = "on schedules only" if m.scheduled else "runs on" if m.runs_on else "own vehicle"
        if m.gauge:
            runs += ", gauge-bound"
        table.add_row(
            m.mode,
            str(m.links),
            f"{m.km:,.0f}",
            f"{m.estimated_km:,.0f}",
            str(m.services),
            runs,
        )
    out.print(table)
    table = Table(title="Corridors")
    for col in ("id", "family", "name", "via", "avoids"):
        table.add_column(col, no_wrap=col in ("id", "family"))
    for c in network.corridors.values():
        via = " then ".join("|".join(group) for group in c.via)
        table.add_row(c.id, c.family.value, c.name, via, ", ".join(c.avoid_countries))
    out.print(table)


class ExportFormat(StrEnum):
    GEOJSON = "geojson"
    CSV = "csv"


@app.command()
def export(
    fmt: ExportFormat = typer.Option(ExportFormat.GEOJSON, "--format", "-f", help="Output format."),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="File to write (default: stdout)."
    ),
    directory: Path | None = typer.Option(None, "--dir", help=DIR_HELP),
) -> None:
    """Export nodes and links with all their attributes (GeoJSON FeatureCollection, or CSV with WKT)."""
    network = _load(directory)
    text = (
        json.dumps(to_geojson(network), ensure_ascii=False)
        if fmt is ExportFormat.GEOJSON
        else to_csv(network)
    )
    if output is None:
        typer.echo(text)
    else:
        try:
            output.write_text(text + ("\n" if not text.endswith("\n") else ""), encoding="utf-8")
        except OSError as exc:
            err.print(f"[red]--output {output}: {exc.strerror}[/red]")
            raise typer.Exit(2) from None
        err.print(f"wrote {output}")
