"""From a demand flow to the stages it passes: found in the network data, never wired by hand.

A flow names its origin and destination and either a named corridor (its ``via`` groups and avoided
countries from ``corridors.csv``) or its own ``via`` nodes. The path is the quickest one through the
links that can carry the cargo (containers and wagons by rail and ferry, trucks by road and ro-ro),
then cut into stages where the vehicle changes: a land stage is one train run, a sea stage one
sailing. Crossings, transshipment points, services and their capacities come from the same network.
"""

from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass

from corridor.network import Crossing, CrossingKind, Link, Mode, Network, Service

#: Wagons of a train when no service on the stage says (KTZ container trains: 57; services.csv).
DEFAULT_TRAIN_WAGONS = 57


@dataclass(frozen=True)
class Hop:
    """A link passed in one direction."""

    link: Link
    src: str
    dst: str


@dataclass(frozen=True)
class LandStage:
    """One train (or truck) run over consecutive rail or road links."""

    hops: tuple[Hop, ...]
    service: Service | None
    train_wagons: int
    stop_dwell: tuple[float, ...]  # dwell at the end of each hop (intermediate stops only)

    @property
    def start(self) -> str:
        return self.hops[0].src

    @property
    def end(self) -> str:
        return self.hops[-1].dst

    @property
    def key(self) -> str:
        return "land:" + ">".join([self.start, *(h.dst for h in self.hops)])


@dataclass(frozen=True)
class SeaStage:
    """One sailing over a ferry (or sea) link, on any of ``services``."""

    hop: Hop
    services: tuple[Service, ...]

    @property
    def start(self) -> str:
        return self.hop.src

    @property
    def end(self) -> str:
        return self.hop.dst


Stage = LandStage | SeaStage


@dataclass(frozen=True)
class Index:
    """Lookups the search and the model make thousands of times, built once per network."""

    border_by_link: dict[str, Crossing]
    transshipment_by_node: dict[str, Crossing]
    vessels_by_ends: dict[frozenset[str], tuple[Service, ...]]
    rail_services: tuple[Service, ...]


_INDEXES: dict[int, tuple[Network, Index]] = {}


def index(network: Network) -> Index:
    """The lookups of ``network`` (kept with the network object, which is immutable)."""
    hit = _INDEXES.get(id(network))
    if hit is not None and hit[0] is network:
        return hit[1]
    vessels: dict[frozenset[str], list[Service]] = {}
    for s in network.services.values():
        if s.mode in (Mode.FERRY, Mode.SEA):
            vessels.setdefault(frozenset((s.stops[0], s.stops[-1])), []).append(s)
    built = Index(
        {c.at: c for c in network.crossings.values() if c.kind is CrossingKind.BORDER},
        {c.at: c for c in network.crossings.values() if c.kind is CrossingKind.TRANSSHIPMENT},
        {k: tuple(v) for k, v in vessels.items()},
        tuple(s for s in network.services.values() if s.mode is Mode.RAIL),
    )
    _INDEXES[id(network)] = (network, built)
    return built


def carries(service: Service, cargo: str) -> bool:
    """Whether a vessel service takes this cargo: feeders take containers, rail ferries wagons too."""
    if cargo == "container":
        return True
    if cargo == "wagon":
        return service.capacity_wagons is not None
    return service.vehicle == "ropax_ferry"


def vessel_services(network: Network, link: Link, cargo: str | None = None) -> list[Service]:
    """Ferry services that sail between the two ends of ``link`` (in ``services.csv`` order)."""
    found = index(network).vessels_by_ends.get(frozenset((link.from_node, link.to_node)), ())
    return [s for s in found if cargo is None or carries(s, cargo)]


def _allowed(link: Link, cargo: str) -> bool:
    if cargo == "truck":
        return link.mode in (Mode.ROAD, Mode.FERRY)
    return link.mode in (Mode.RAIL, Mode.FERRY)


def _cost(network: Network, link: Link, cargo: str) -> float | None:
    if link.mode in (Mode.FERRY, Mode.SEA):
        services = vessel_services(network, link, cargo)
        durations = [s.duration_h for s in services if s.duration_h]
        return min(durations) if durations else None
    border = index(network).border_by_link.get(link.id)
    return (link.running_time_h or 1.0) + (border.dwell_h if border else 0.0)


def find_path(
    network: Network,
    origin: str,
    destination: str,
    cargo: str,
    via: tuple[tuple[str, ...], ...] = (),
    avoid_countries: tuple[str, ...] = (),
) -> list[Hop] | None:
    """Quickest path passing one node of each ``via`` group in order; ``None`` when there is none."""
    avoid = {c for c in avoid_countries}
    goal = len(via)
    start_k = 1 if goal and origin in via[0] else 0
    best: dict[tuple[str, int], float] = {(origin, start_k): 0.0}
    back: dict[tuple[str, int], tuple[tuple[str, int], Hop]] = {}
    heap: list[tuple[float, int, str, int]] = [(0.0, 0, origin, start_k)]
    counter = 0
    while heap:
        cost, _, node, k = heapq.heappop(heap)
        if cost > best.get((node, k), float("inf")):
            continue
        if node == destination and k == goal:
            hops: list[Hop] = []
            state = (node, k)
            while state in back:
                state, hop = back[state]
                hops.append(hop)
            return hops[::-1]
        for link in network.links_at(node):
            if not _allowed(link, cargo):
                continue
            nxt = link.to_node if link.from_node == node else link.from_node
            if network.nodes[nxt].country in avoid and nxt != destination:
                continue
            step = _cost(network, link, cargo)
            if step is None:
                continue
            nk = k + 1 if k < goal and nxt in via[k] else k
            total = cost + step
            if total < best.get((nxt, nk), float("inf")):
                best[(nxt, nk)] = total
                back[(nxt, nk)] = ((node, k), Hop(link, node, nxt))
                counter += 1
                heapq.heappush(heap, (total, counter, nxt, nk))
    return None


def _rail_service(network: Network, src: str, dst: str) -> Service | None:
    for s in index(network).rail_services:
        stops = s.stops
        for a, b in itertools.pairwise(stops):
            if (a, b) == (src, dst) or (s.both_directions and (b, a) == (src, dst)):
                return s
    return None


def stages(network: Network, hops: list[Hop], cargo: str) -> list[Stage]:
    """Cut a path into land runs and sailings."""
    out: list[Stage] = []
    run: list[Hop] = []

    def close() -> None:
        if not run:
            return
        service = _rail_service(network, run[0].src, run[0].dst)
        wagons = service.capacity_wagons if service and service.capacity_wagons else None
        dwell = []
        for i, hop in enumerate(run):
            last = i == len(run) - 1
            dwell.append(
                service.stop_dwell_h if service and not last and hop.dst in service.stops else 0.0
            )
        out.append(LandStage(tuple(run), service, wagons or DEFAULT_TRAIN_WAGONS, tuple(dwell)))
        run.clear()

    for hop in hops:
        if hop.link.mode in (Mode.FERRY, Mode.SEA):
            close()
            out.append(SeaStage(hop, tuple(vessel_services(network, hop.link, cargo))))
        else:
            run.append(hop)
    close()
    return out


def corridor_constraints(
    network: Network, corridor: str | None, via: list[str]
) -> tuple[tuple[tuple[str, ...], ...], tuple[str, ...]]:
    """The ``via`` groups and avoided countries of a named corridor or of explicit via nodes."""
    if corridor:
        c = network.corridors[corridor]
        return c.via, c.avoid_countries
    return tuple((v,) for v in via), ()


def plan_path(
    network: Network,
    origin: str,
    destination: str,
    cargo: str,
    corridor: str | None = None,
    via: list[str] | None = None,
) -> list[Hop] | None:
    """The path of a flow: its corridor's ``via`` groups in either direction, without loops.

    Corridors are written west-bound; an east-bound flow passes the same groups in reverse order.
    A path that visits a node twice (forced back and forth by the via order) is not a route.
    """
    groups, avoid = corridor_constraints(network, corridor, via or [])
    orders = [groups] if len(groups) < 2 else [groups, tuple(reversed(groups))]
    best: tuple[float, list[Hop]] | None = None
    for order in orders:
        hops = find_path(network, origin, destination, cargo, order, avoid)
        if hops is None:
            continue
        nodes = [origin, *(h.dst for h in hops)]
        if len(nodes) != len(set(nodes)):
            continue
        cost = sum(_cost(network, h.link, cargo) or 0.0 for h in hops)
        if best is None or cost < best[0]:
            best = (cost, hops)
    return best[1] if best else None
