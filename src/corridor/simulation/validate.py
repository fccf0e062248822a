"""Checks a scenario file against the network before anything runs.

Each problem names the file, the line of the offending key, the field and the reason, so an analyst
editing a TOML file can fix it without reading code: an unknown node, link, service or crossing, a
demand that has no route, a source id that resolves nowhere.
"""

from __future__ import annotations

from collections.abc import Callable

from corridor.network import CrossingKind, Mode, Network, NodeKind
from corridor.simulation.errors import ScenarioError
from corridor.simulation.routes import plan_path
from corridor.simulation.scenario import ScenarioFile, locate


def checker(network: Network) -> Callable[[ScenarioFile, str, str], None]:
    """A check for :func:`corridor.simulation.scenario.load_scenario` bound to ``network``."""

    def check(parsed: ScenarioFile, text: str, filename: str) -> None:
        def fail(loc: tuple[object, ...], reason: str, code: str = "invalid") -> ScenarioError:
            field = ".".join(str(p) for p in loc)
            return ScenarioError(code, field, reason, filename, locate(text, loc))

        def source(loc: tuple[object, ...], value: str) -> None:
            for ref in (r.strip() for r in value.split(";") if r.strip()):
                if ref not in network.sources:
                    raise fail(loc, f"source {ref!r} is not in sources.csv")

        for ref in parsed.scenario.source:
            source(("scenario", "source"), ref)
        if parsed.demand.scale_source:
            source(("demand", "scale_source"), parsed.demand.scale_source)
        for i, flow in enumerate(parsed.flow):
            for key in ("origin", "destination"):
                node = getattr(flow, key)
                if node not in network.nodes:
                    raise fail(("flow", i, key), f"unknown node {node!r}")
            for node in flow.via:
                if node not in network.nodes:
                    raise fail(("flow", i, "via"), f"unknown node {node!r}")
            if flow.corridor and flow.corridor not in network.corridors:
                raise fail(("flow", i, "corridor"), f"unknown corridor {flow.corridor!r}")
            source(("flow", i, "source"), flow.source)
            hops = plan_path(
                network, flow.origin, flow.destination, flow.cargo, flow.corridor, flow.via
            )
            if hops is None:
                raise fail(
                    ("flow", i, "destination"),
                    f"no route for {flow.cargo} from {flow.origin} to {flow.destination}"
                    + (f" by corridor {flow.corridor}" if flow.corridor else ""),
                    "no_route",
                )
        for i, fleet in enumerate(parsed.fleet):
            service = network.services.get(fleet.service)
            if service is None:
                raise fail(("fleet", i, "service"), f"unknown service {fleet.service!r}")
            if service.mode not in (Mode.FERRY, Mode.SEA):
                raise fail(("fleet", i, "service"), f"{fleet.service!r} is not a vessel service")
            if fleet.vessels is None and fleet.add_vessels is None and fleet.rule is None:
                raise fail(("fleet", i), "give vessels, add_vessels or rule")
            if fleet.source:
                source(("fleet", i, "source"), fleet.source)
        for i, cap in enumerate(parsed.capacity):
            if cap.factor is None and cap.servers is None and cap.capacity_per_year is None:
                raise fail(("capacity", i), "give factor, servers or capacity_per_year")
            if cap.kind == "link":
                link = network.links.get(cap.id)
                if link is None:
                    raise fail(("capacity", i, "id"), f"unknown link {cap.id!r}")
                if link.capacity_day is None:
                    raise fail(("capacity", i, "id"), f"link {cap.id!r} has no daily capacity")
            elif cap.kind in ("crossing", "transshipment"):
                crossing = network.crossings.get(cap.id)
                wanted = (
                    CrossingKind.BORDER if cap.kind == "crossing" else CrossingKind.TRANSSHIPMENT
                )
                if crossing is None or crossing.kind is not wanted:
                    raise fail(("capacity", i, "id"), f"unknown {cap.kind} {cap.id!r}")
            else:
                node = network.nodes.get(cap.id)
                if node is None or node.kind is not NodeKind.SEA_PORT:
                    raise fail(("capacity", i, "id"), f"unknown sea port {cap.id!r}")
            if cap.source:
                source(("capacity", i, "source"), cap.source)
        for i, dwell in enumerate(parsed.dwell):
            if dwell.target not in ("borders", "transshipment") and (
                dwell.target not in network.crossings
            ):
                raise fail(
                    ("dwell", i, "target"),
                    f"unknown crossing {dwell.target!r} (or use 'borders' / 'transshipment')",
                )
            if dwell.source:
                source(("dwell", i, "source"), dwell.source)
        if parsed.customs and parsed.customs.source:
            source(("customs", "source"), parsed.customs.source)
        for i, dis in enumerate(parsed.disruption):
            if dis.kind == "port_closed":
                node = network.nodes.get(dis.target)
                if node is None or node.kind is not NodeKind.SEA_PORT:
                    raise fail(("disruption", i, "target"), f"unknown sea port {dis.target!r}")
            else:
                crossing = network.crossings.get(dis.target)
                if crossing is None or crossing.kind is not CrossingKind.BORDER:
                    raise fail(
                        ("disruption", i, "target"), f"unknown border crossing {dis.target!r}"
                    )
            if dis.source:
                source(("disruption", i, "source"), dis.source)

    return check
