"""``corridor route`` and ``corridor compare``: plan shipments from the command line."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from corridor.network import Mode, Network, load_network
from corridor.routing import (
    Cargo,
    ContainerType,
    Criterion,
    Itinerary,
    NoRouteError,
    Query,
    RoutingError,
    best,
    compare,
    make_query,
    pareto,
    planner_for,
)

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

FROM = typer.Option(..., "--from", help='Origin: node id, name or UN/LOCODE (e.g. xian, "Xi\'an").')
TO = typer.Option(..., "--to", help="Destination: node id, name or UN/LOCODE.")
READY = typer.Option(
    None,
    "--ready",
    help="When the cargo is ready (UTC): YYYY-MM-DD or YYYY-MM-DDTHH:MM. Default: now.",
)
CONTAINERS = typer.Option(
    None, "--containers", help="Number of containers of --container-type (default 1)."
)
CTYPE = typer.Option(ContainerType.C40, "--container-type", help="Container type.")
TEU = typer.Option(
    None, "--teu", help="Cargo as a number of TEU (20-ft containers), instead of --containers."
)
TONNES = typer.Option(None, "--tonnes", help="Cargo mass in tonnes (default 10 t per TEU).")
DG = typer.Option(
    False, "--dangerous-goods", help="The cargo is dangerous goods (avoids lines that refuse them)."
)
AVOID = typer.Option(
    "", "--avoid", help="Countries to avoid, comma-separated ISO codes (e.g. RU,IR)."
)
AVOID_NODES = typer.Option("", "--avoid-nodes", help="Nodes to avoid, comma-separated.")
MODES = typer.Option(
    "", "--modes", help="Allowed modes, comma-separated (rail,ferry,sea,road). Default: all."
)
MAX_TRANSFERS = typer.Option(None, "--max-transfers", help="Most vehicle changes allowed.")
LATEST = typer.Option(
    None, "--latest", help="Latest acceptable arrival (UTC), same formats as --ready."
)
JSON = typer.Option(False, "--json", help="Print JSON for programs instead of tables.")


def _fail(message: str, code: int) -> typer.Exit:
    err.print(f"[red]error:[/red] {message}", markup=True, highlight=False)
    return typer.Exit(code)


def _when(text: str | None, field: str) -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise _fail(
            f"{field}: {text!r} is not a date (use YYYY-MM-DD or YYYY-MM-DDTHH:MM, UTC)", 2
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def build_query(network: Network, **opts: Any) -> Query:
    """Turn CLI options into a validated query, or exit 2 with the field and the reason."""
    if opts["teu"] is not None and opts["containers"] is not None:
        raise _fail("cargo: give either --teu or --containers, not both", 2)
    cargo_fields: dict[str, Any] = {
        "dangerous_goods": opts["dangerous_goods"],
        "tonnes": opts["tonnes"],
    }
    if opts["teu"] is not None:
        cargo_fields.update(containers=opts["teu"], container_type=ContainerType.C20)
    else:
        cargo_fields.update(
            containers=1 if opts["containers"] is None else opts["containers"],
            container_type=opts["container_type"],
        )
    try:
        cargo = Cargo.model_validate(cargo_fields)
    except ValueError as exc:
        first = exc.errors()[0] if hasattr(exc, "errors") else None
        name = {"containers": "--teu/--containers", "tonnes": "--tonnes"}.get(
            str(first["loc"][0]) if first else "", "cargo"
        )
        raise _fail(f"{name}: {first['msg'] if first else exc}", 2) from None
    modes = _split(opts["modes"])
    unknown = [m for m in modes if m not in {x.value for x in Mode}]
    if unknown:
        raise _fail(f"modes: unknown mode(s) {', '.join(unknown)} (use rail, ferry, sea, road)", 2)
    fields: dict[str, Any] = {
        "origin": opts["origin"],
        "destination": opts["destination"],
        "ready": _when(opts["ready"], "ready") or datetime.now(UTC),
        "cargo": cargo,
        "avoid_countries": frozenset(_split(opts["avoid"])),
        "avoid_nodes": frozenset(_split(opts["avoid_nodes"])),
        "max_transfers": opts["max_transfers"],
        "latest_arrival": _when(opts["latest"], "latest"),
    }
    if modes:
        fields["modes"] = frozenset(Mode(m) for m in modes)
    try:
        return make_query(network, **fields)
    except RoutingError as exc:
        raise _fail(str(exc), 2) from None


def _network() -> Network:
    from corridor.network import DatasetError

    try:
        return load_network()
    except DatasetError:
        raise _fail(
            "the network dataset has problems; run 'corridor network validate'", 1
        ) from None


def _fmt(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M")


def _print_itinerary(it: Itinerary, title: str) -> None:
    out.print(f"[bold]{title}[/bold]")
    for i, leg in enumerate(it.legs, start=1):
        out.print(
            f"  {i}. {leg.mode:<5} {leg.from_name} -> {leg.to_name}: dep {_fmt(leg.departure)}, "
            f"arr {_fmt(leg.arrival)}, {leg.distance_km:,.0f} km, USD {leg.cost_usd:,.0f}, "
            f"{leg.co2e_kg / 1000:,.2f} t CO2e",
            highlight=False,
        )
        details = [leg.line if leg.service else f"operator {leg.operator}"]
        if leg.wait_h >= 0.5:
            details.append(f"waits {leg.wait_h:.0f} h for the departure")
        for c in leg.crossings:
            offices = f": {' / '.join(c.customs_offices)}" if c.customs_offices else ""
            details.append(f"{c.kind} {c.name} {c.dwell_h:g} h{offices}")
        out.print("       " + "; ".join(details), style="dim", highlight=False)


def _summary(it: Itinerary) -> str:
    corridors = ", ".join(it.corridors) or "-"
    return (
        f"arrives {_fmt(it.arrival)} UTC, {it.transit_days:.1f} days, USD {it.cost_usd:,.0f}, "
        f"{it.co2e_kg / 1000:,.1f} t CO2e, {it.distance_km:,.0f} km, {it.transfers} transfers "
        f"(corridor: {corridors})"
    )


def route(
    origin: str = FROM,
    destination: str = TO,
    ready: str | None = READY,
    containers: int | None = CONTAINERS,
    container_type: ContainerType = CTYPE,
    teu: int | None = TEU,
    tonnes: float | None = TONNES,
    dangerous_goods: bool = DG,
    avoid: str = AVOID,
    avoid_nodes: str = AVOID_NODES,
    modes: str = MODES,
    max_transfers: int | None = MAX_TRANSFERS,
    latest: str | None = LATEST,
    best_by: str | None = typer.Option(
        None, "--best", help="Only the best itinerary by time, cost or co2e."
    ),
    as_json: bool = JSON,
) -> None:
    """Plan a shipment: the Pareto set of itineraries over arrival time, cost and CO2e.

    Example: corridor route --from xian --to duisburg --ready 2026-03-03 --containers 40
    """
    network = _network()
    query = build_query(
        network, **{k: v for k, v in locals().items() if k not in ("best_by", "as_json", "network")}
    )
    criterion = None
    if best_by is not None:
        try:
            criterion = Criterion(best_by)
        except ValueError:
            raise _fail(f"best: {best_by!r} is not one of time, cost, co2e", 2) from None
    planner = planner_for(network, query)
    try:
        options = [best(planner, query, criterion)] if criterion else pareto(planner, query)
    except NoRouteError as exc:
        raise _fail(str(exc), 1) from None
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "query": query.model_dump(mode="json"),
                    "itineraries": [it.model_dump(mode="json") for it in options],
                },
                indent=2,
            )
        )
        return
    for i, it in enumerate(options, start=1):
        _print_itinerary(it, f"Option {i}: {_summary(it)}")


def compare_cmd(
    origin: str = FROM,
    destination: str = TO,
    ready: str | None = READY,
    containers: int | None = CONTAINERS,
    container_type: ContainerType = CTYPE,
    teu: int | None = TEU,
    tonnes: float | None = TONNES,
    dangerous_goods: bool = DG,
    avoid: str = AVOID,
    as_json: bool = JSON,
) -> None:
    """Compare the corridors side by side: the fastest itinerary of each, with days, cost and CO2e.

    Example: corridor compare --from Xian --to Duisburg --ready 2026-03-03
    """
    network = _network()
    query = build_query(
        network,
        origin=origin,
        destination=destination,
        ready=ready,
        containers=containers,
        container_type=container_type,
        teu=teu,
        tonnes=tonnes,
        dangerous_goods=dangerous_goods,
        avoid=avoid,
        avoid_nodes="",
        modes="",
        max_transfers=None,
        latest=None,
    )
    rows = compare(planner_for(network, query), query)
    if as_json:
        typer.echo(
            json.dumps(
                [
                    {
                        "corridor": c.id,
                        "name": c.name,
                        "family": c.family.value,
                        "itinerary": None if it is None else it.model_dump(mode="json"),
                    }
                    for c, it in rows
                ],
                indent=2,
            )
        )
        return
    table = Table(
        title=f"{network.nodes[query.origin].name} to {network.nodes[query.destination].name}, "
        f"ready {_fmt(query.ready)} UTC, {query.cargo.teu:g} TEU"
    )
    for col in ("corridor", "days", "USD", "t CO2e", "km"):
        table.add_column(col, justify="left" if col == "corridor" else "right", no_wrap=True)
    for corridor, it in sorted(
        rows, key=lambda r: (r[1] is None, r[1].transit_days if r[1] else 0)
    ):
        if it is None:
            table.add_row(corridor.id, "no route", "", "", "")
        else:
            table.add_row(
                corridor.id,
                f"{it.transit_days:.1f}",
                f"{it.cost_usd:,.0f}",
                f"{it.co2e_kg / 1000:,.1f}",
                f"{it.distance_km:,.0f}",
            )
    out.print(table)
