"""The ``corridor`` command: a thin layer that parses arguments and prints; the work is in domains."""

from __future__ import annotations

import typer

from corridor import __version__
from corridor.cli import customs, network, notices, route, serve, simulate, track, worker

app = typer.Typer(
    name="corridor",
    help="Corridor: one shared system for the Middle Corridor (Trans-Caspian route).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(network.app, name="network")
app.command("route")(route.route)
app.command("compare")(route.compare_cmd)
app.command("serve")(serve.serve)
app.add_typer(serve.admin, name="admin")
app.add_typer(customs.app, name="customs")
app.add_typer(track.app, name="track")
app.command("worker")(worker.worker)
app.add_typer(notices.app, name="notices")
app.command("simulate")(simulate.simulate)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"corridor {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Corridor: plan, declare, track and analyse freight on the Middle Corridor."""


def main() -> None:
    app()
