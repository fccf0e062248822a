"""``corridor route`` and ``corridor compare``: plan shipments from the command line."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console

if TYPE_CHECKING:
    from corridor.network import Network
    from corridor.routing import Itinerary, Planner, Query

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


class ContainerType(StrEnum):
    """ISO container sizes (the same values as corridor.routing.ContainerType, kept here so the
    command line parses without importing the planner)."""

    C20 = "20GP"
    C40 = "40GP"
    C40HC = "40HC"
    C45HC = "45HC"


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
    "",
    "--modes",
    help="Allowed modes, comma-separated (see 'corridor network show'). Default: all.",
)
RED_SEA = typer.Option(
    None,
    "--red-sea",
    help="open: container lines may sail through Suez; closed: only round the Cape. "
    "Default: the red_sea_open setting (CORRIDOR_RED_SEA_OPEN).",
)
RATES = typer.Option(
    None, "--rates", help="A rate table (CSV) of this month's charges replacing the dataset's."
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


#: Request fields as the command line names them, for error messages.
OPTION_NAMES = {
    "containers": "--teu/--containers",
    "teu": "--teu/--containers",
    "tonnes": "--tonnes",
    "modes": "--modes",
    "avoid_countries": "--avoid",
    "avoid_nodes": "--avoid-nodes",
    "ready": "--ready",
    "latest_arrival": "--latest",
}


def _red_sea(text: str | None) -> bool | None:
    if text is None:
        return None
    if text.lower() not in ("open", "closed"):
        raise _fail(f"--red-sea: {text!r} is not open or closed", 2)
    return text.lower() == "open"


def query_from_options(network: Network, **opts: Any) -> Query:
    """Turn CLI options into a validated query (routing.build_query), or exit 2 naming the option."""
    from corridor.routing import RoutingError, build_query

    try:
        return build_query(
            network,
            origin=opts["origin"],
            destination=opts["destination"],
            ready=_when(opts["ready"], "ready") or datetime.now(UTC),
            containers=opts["containers"],
            container_type=str(opts["container_type"]),
            teu=opts["teu"],
            tonnes=opts["tonnes"],
            dangerous_goods=opts["dangerous_goods"],
            avoid_countries=_split(opts["avoid"]),
            avoid_nodes=_split(opts.get("avoid_nodes", "")),
            modes=_split(opts.get("modes", "")),
            max_transfers=opts.get("max_transfers"),
            latest_arrival=_when(opts.get("latest"), "latest"),
            red_sea_open=_red_sea(opts.get("red_sea")),
        )
    except RoutingError as exc:
        if exc.field == "containers" and "either" in exc.reason:
            raise _fail("cargo: give either --teu or --containers, not both", 2) from None
        raise _fail(f"{OPTION_NAMES.get(exc.field, exc.field)}: {exc.reason}", 2) from None


def _network() -> Network:
    from corridor.network import DatasetError, load_network

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
            spread = (
                f" (p90 {c.dwell_p90_h:g} h)" if c.dwell_p90_h and c.dwell_p90_h > c.dwell_h else ""
            )
            details.append(f"{c.kind} {c.name} {c.dwell_h:g} h{spread}{offices}")
        out.print("       " + "; ".join(details), style="dim", highlight=False)


def _summary(it: Itinerary) -> str:
    corridors = ", ".join(it.corridors) or "-"
    p90 = f" (p90 {it.transit_days_p90:.1f})" if it.transit_days_p90 is not None else ""
    split = f"; {it.split}" if it.split else ""
    return (
        f"arrives {_fmt(it.arrival)} UTC, {it.transit_days:.1f} days{p90}, USD {it.cost_usd:,.0f}, "
        f"{it.co2e_kg / 1000:,.1f} t CO2e, {it.distance_km:,.0f} km, {it.transfers} transfers "
        f"(corridor: {corridors}){split}"
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
        None, "--best", help="Only the best itinerary by time, p90, cost or co2e."
    ),
    red_sea: str | None = RED_SEA,
    rates: str | None = RATES,
    as_json: bool = JSON,
) -> None:
    """Plan a shipment: the Pareto set of itineraries over arrival time, cost and CO2e.

    Example: corridor route --from xian --to duisburg --ready 2026-03-03 --containers 40
    """
    planner = _planner(_when(ready, "ready") or datetime.now(UTC), rates)
    network = planner.net
    query = query_from_options(
        network, **{k: v for k, v in locals().items() if k not in ("network", "planner")}
    )
    from corridor.routing import Criterion, NoRouteError, plan

    criterion = None
    if best_by is not None:
        try:
            criterion = Criterion(best_by)
        except ValueError:
            raise _fail(f"best: {best_by!r} is not one of time, p90, cost, co2e", 2) from None
    try:
        options = plan(planner, query, criterion)
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
    red_sea: str | None = RED_SEA,
    as_json: bool = JSON,
) -> None:
    """Compare the corridors side by side: the fastest itinerary of each, with days, cost and CO2e.

    Example: corridor compare --from Xian --to Duisburg --ready 2026-03-03
    """
    planner = _planner(_when(ready, "ready") or datetime.now(UTC), None)
    network = planner.net
    query = query_from_options(
        network, **{k: v for k, v in locals().items() if k not in ("network", "planner")}
    )
    from corridor.routing import compare

    rows = compare(planner, query)
    if as_json:
        typer.echo(
            json.dumps(
                [
                    {
                        "corridor": a.corridor.id,
                        "name": a.corridor.name,
                        "family": a.corridor.family.value,
                        "itinerary": None
                        if a.itinerary is None
                        else a.itinerary.model_dump(mode="json"),
                        "reason": a.reason,
                    }
                    for a in rows
                ],
                indent=2,
            )
        )
        return
    from rich.table import Table

    table = Table(
        title=f"{network.nodes[query.origin].name} to {network.nodes[query.destination].name}, "
        f"ready {_fmt(query.ready)} UTC, {query.cargo.teu:g} TEU"
    )
    for col in ("corridor", "days", "p90 days", "USD", "t CO2e", "km"):
        table.add_column(col, justify="left" if col == "corridor" else "right", no_wrap=True)
    applies = sorted((a for a in rows if a.itinerary), key=lambda a: a.itinerary.transit_days)  # type: ignore[union-attr]
    for answer in applies:
        it = answer.itinerary
        assert it is not None
        table.add_row(
            answer.corridor.id,
            f"{it.transit_days:.1f}",
            f"{it.transit_days_p90:.1f}" if it.transit_days_p90 is not None else "",
            f"{it.cost_usd:,.0f}",
            f"{it.co2e_kg / 1000:,.1f}",
            f"{it.distance_km:,.0f}",
        )
    if applies:
        out.print(table)
    else:
        out.print("No named corridor applies to this trip; plan it with 'corridor route'.")
    left_out = [a for a in rows if a.itinerary is None]
    if left_out:
        out.print("[bold]Left out[/bold]")
        for answer in left_out:
            out.print(f"  {answer.corridor.id}: {answer.reason}", highlight=False)


def _planner(ready: datetime, rates: str | None) -> Planner:
    """The planner (and its network) for ``ready``: from the on-disk cache while the dataset is
    unchanged, else loaded, validated and built once and cached."""
    from corridor.network import DatasetError
    from corridor.routing import Planner
    from corridor.routing.cache import planner_for_dataset
    from corridor.settings import get_settings

    try:
        planner = planner_for_dataset(get_settings().network_dir, ready)
    except DatasetError:
        raise _fail(
            "the network dataset has problems; run 'corridor network validate'", 1
        ) from None
    path = rates or (str(get_settings().rates_file) if get_settings().rates_file else None)
    if path is not None:
        from pathlib import Path

        from corridor.routing import RateTableError, read_rates

        places = set(planner.net.crossings) | set(planner.net.nodes)
        try:
            table = read_rates(Path(path), today=ready.date(), places=places)
        except RateTableError as exc:
            raise _fail("; ".join(str(p) for p in exc.problems), 2) from None
        planner = Planner(planner.tt, table)
    return planner
