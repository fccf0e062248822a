"""The ``corridor`` command: a thin layer that parses arguments and prints; the work is in domains.

Sub-commands are imported when they run, not when ``corridor`` starts: ``corridor route`` never
loads the database layer, and ``corridor energy`` alone pays for PyPSA.
"""

from __future__ import annotations

import importlib
from typing import Any

import typer
from typer.core import TyperGroup

from corridor import __version__

#: name -> (module, attribute): a Typer app (a group of commands) or one command function.
COMMANDS: dict[str, tuple[str, str]] = {
    "network": ("corridor.cli.network", "app"),
    "route": ("corridor.cli.route", "route"),
    "compare": ("corridor.cli.route", "compare_cmd"),
    "serve": ("corridor.cli.serve", "serve"),
    "admin": ("corridor.cli.admin", "app"),
    "worker": ("corridor.cli.worker", "worker"),
    "customs": ("corridor.cli.customs", "app"),
    "track": ("corridor.cli.track", "app"),
    "notices": ("corridor.cli.notices", "app"),
    "simulate": ("corridor.cli.simulate", "simulate"),
    "energy": ("corridor.cli.energy", "app"),
}


class LazyGroup(TyperGroup):
    """A command group that imports a sub-command's module only when that sub-command is used."""

    def list_commands(self, ctx: Any) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in COMMANDS:
            return None
        module, attribute = COMMANDS[cmd_name]
        target = getattr(importlib.import_module(module), attribute)
        command: Any
        if isinstance(target, typer.Typer):
            command = typer.main.get_group(target)  # a group even when it has one command
        else:
            single = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
            single.command(cmd_name)(target)
            command = typer.main.get_command(single)
        command.name = cmd_name
        return command


app = typer.Typer(
    name="corridor",
    cls=LazyGroup,
    help="Corridor: one shared system for the Middle Corridor (Trans-Caspian route).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


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
