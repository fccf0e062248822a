"""Checks that need the whole dataset: references, plausibility, schedules, gauges, borders.

Every check adds :class:`~corridor.network.problems.Problem` entries; nothing here raises. The goal
is that a typo in a hand-edited file can never become a silent wrong route.
"""

from __future__ import annotations

from collections import defaultdict

from corridor.network.files import RawDataset
from corridor.network.geo import great_circle_km
from corridor.network.model import CrossingKind, Link
from corridor.network.modes import capability
from corridor.network.problems import Problem

#: EU member states form one customs union: trains cross their internal borders without customs.
EU_CUSTOMS_UNION = frozenset(
    [
        "AT",
        "BE",
        "BG",
        "HR",
        "CY",
        "CZ",
        "DK",
        "EE",
        "FI",
        "FR",
        "DE",
        "GR",
        "HU",
        "IE",
        "IT",
        "LV",
        "LT",
        "LU",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SK",
        "SI",
        "ES",
        "SE",
    ]
)
#: Slack for short links, where a curve or a station throat doubles the great-circle distance.
SHORT_LINK_SLACK_KM = 30.0


def check(ds: RawDataset) -> None:
    """Run every cross-record check on ``ds``, appending to ``ds.problems``."""
    _check_sources(ds)
    _check_links(ds)
    _check_reachability(ds)
    _check_services(ds)
    _check_crossings(ds)
    _check_gauges(ds)
    _check_corridors(ds)
    _check_vehicles(ds)


def _check_sources(ds: RawDataset) -> None:
    known = {s.id for s in ds.sources}

    def refs(file: str, record: str, fld: str, ids: tuple[str, ...]) -> None:
        for ref in ids:
            if ref not in known:
                ds.problem(file, record, fld, f"unknown source {ref!r} (not in sources.csv)")

    for node in ds.nodes:
        refs("nodes.csv", node.id, "source", node.source)
    for link in ds.links:
        for fld in (
            "vehicle_source",
            "speed_source",
            "headway_source",
            "capacity_source",
            "tariff_source",
        ):
            refs("links.csv", link.id, fld, getattr(link, fld))
    for service in ds.services:
        refs("services.csv", service.id, "source", service.source)
        for sailing in service.sailings:
            refs("sailings.csv", service.id, "source", sailing.source)
    for crossing in ds.crossings:
        refs("crossings.csv", crossing.id, "source", crossing.source)
    for corridor in ds.corridors:
        refs("corridors.csv", corridor.id, "source", corridor.source)
    for factor in ds.emission_factors:
        refs("emission_factors.csv", factor.vehicle, "source", factor.source)
        refs(
            "emission_factors.csv",
            factor.vehicle,
            "distance_factor_source",
            factor.distance_factor_source,
        )


def _check_links(ds: RawDataset) -> None:
    nodes = {n.id: n for n in ds.nodes}
    known = ds.ids("nodes.csv", ds.nodes)
    for link in ds.links:
        ends = []
        for fld, node_id in (("from", link.from_node), ("to", link.to_node)):
            if node_id not in known:
                ds.problem("links.csv", link.id, fld, f"unknown node {node_id!r}")
            elif node_id in nodes:
                ends.append(nodes[node_id])
        if len(ends) != 2 or not link.geometry:
            continue
        if link.distance_km <= 0:
            ds.problem(
                "links.csv",
                link.id,
                "distance_km",
                f"distance {link.distance_km} km is not positive",
            )
            continue
        gc = great_circle_km(ends[0].lat, ends[0].lon, ends[1].lat, ends[1].lon)
        low = gc * 0.97 - 2.0
        high = gc * capability(link.mode).max_detour + SHORT_LINK_SLACK_KM
        if not low <= link.distance_km <= high:
            ds.problem(
                "links.csv",
                link.id,
                "distance_km",
                f"implausible distance {link.distance_km:.0f} km for a great-circle distance of "
                f"{gc:.0f} km (expected {max(low, 0):.0f}-{high:.0f} km for {link.mode})",
            )


def _check_reachability(ds: RawDataset) -> None:
    linked = {link.from_node for link in ds.links} | {link.to_node for link in ds.links}
    linked |= ds.broken.get("links.csv", set())  # a broken link row already has its own problem
    for node in ds.nodes:
        if node.id not in linked:
            ds.problem("nodes.csv", node.id, "id", "no link reaches this node")


def _link_index(links: list[Link]) -> dict[frozenset[str], list[Link]]:
    index: dict[frozenset[str], list[Link]] = defaultdict(list)
    for link in links:
        index[frozenset((link.from_node, link.to_node))].append(link)
    return index


def _check_services(ds: RawDataset) -> None:
    nodes = ds.ids("nodes.csv", ds.nodes)
    index = _link_index(ds.links)
    served: set[str] = set()
    for service in ds.services:
        if service.capacity_teu is None and service.capacity_wagons is None:
            ds.problem(
                "services.csv",
                service.id,
                "capacity_teu",
                "a schedule without capacity: give capacity_teu or capacity_wagons",
            )
        if not service.weekdays and not service.sailings:
            ds.problem(
                "services.csv",
                service.id,
                "weekdays",
                "a schedule without departures: give weekdays or dated sailings",
            )
        for stop in service.stops:
            if stop not in nodes:
                ds.problem("services.csv", service.id, "stops", f"unknown node {stop!r}")
        for a, b in zip(service.stops, service.stops[1:], strict=False):
            candidates = [lk for lk in index.get(frozenset((a, b)), []) if lk.mode is service.mode]
            if not candidates and a in nodes and b in nodes:
                ds.problem(
                    "services.csv",
                    service.id,
                    "stops",
                    f"no {service.mode} link between consecutive stops {a!r} and {b!r}",
                )
            served.update(lk.id for lk in candidates)
        ends = {service.stops[0], service.stops[-1]}
        for sailing in service.sailings:
            if sailing.from_node not in ends:
                ds.problem(
                    "sailings.csv",
                    service.id,
                    "from",
                    f"sailing from {sailing.from_node!r}, which is not an end of the service",
                )
            elif sailing.from_node != service.stops[0] and not service.both_directions:
                ds.problem(
                    "sailings.csv",
                    service.id,
                    "from",
                    "sailing in the return direction of a one-way service",
                )
    for link in ds.links:
        if capability(link.mode).scheduled and link.id not in served:
            ds.problem(
                "links.csv",
                link.id,
                "mode",
                f"{link.mode} link without any scheduled service in services.csv",
            )


def _check_crossings(ds: RawDataset) -> None:
    nodes = {n.id: n for n in ds.nodes}
    links = {link.id: link for link in ds.links}
    known_nodes = ds.ids("nodes.csv", ds.nodes)
    known_links = ds.ids("links.csv", ds.links)
    borders: set[str] = set()
    for crossing in ds.crossings:
        if crossing.kind is CrossingKind.BORDER:
            if crossing.at not in known_links:
                ds.problem(
                    "crossings.csv",
                    crossing.id,
                    "at",
                    f"a border crossing is on a link: unknown link {crossing.at!r}",
                )
            else:
                borders.add(crossing.at)
        elif crossing.at not in known_nodes:
            ds.problem(
                "crossings.csv",
                crossing.id,
                "at",
                f"a transshipment point is a node: unknown node {crossing.at!r}",
            )
    for crossing in ds.crossings:
        link = links.get(crossing.at)
        if crossing.kind is CrossingKind.BORDER and link is not None:
            sides = {nodes[n].country for n in (link.from_node, link.to_node) if n in nodes}
        else:
            sides = {nodes[crossing.at].country} if crossing.at in nodes else set()
        for part in crossing.dwell:
            if part.side and sides and part.side not in sides:
                ds.problems.append(
                    Problem(
                        "dwell.csv",
                        None,
                        crossing.id,
                        "side",
                        f"side {part.side} is not a country of this crossing "
                        f"({', '.join(sorted(sides))})",
                    )
                )
    for link in ds.links:
        a, b = nodes.get(link.from_node), nodes.get(link.to_node)
        if a is None or b is None or a.country == b.country:
            continue
        if {a.country, b.country} <= EU_CUSTOMS_UNION:
            continue
        if link.id not in borders:
            ds.problem(
                "links.csv",
                link.id,
                "to",
                f"link crosses the {a.country}-{b.country} border but crossings.csv has "
                "no border record for it (dwell time and customs offices)",
            )


def _check_gauges(ds: RawDataset) -> None:
    """A node where rail gauges meet must say where the gauge is changed."""
    gauges: dict[str, set[int]] = defaultdict(set)
    for link in ds.links:
        if capability(link.mode).gauge and link.gauge_mm is not None:
            gauges[link.from_node].add(link.gauge_mm)
            gauges[link.to_node].add(link.gauge_mm)
    links = {link.id: link for link in ds.links}
    changes: dict[str, set[int]] = defaultdict(set)
    for crossing in ds.crossings:
        if crossing.gauge_change is None:
            continue
        if crossing.kind is CrossingKind.TRANSSHIPMENT:
            changes[crossing.at].update(crossing.gauge_change)
        elif crossing.at in links:
            link = links[crossing.at]
            changes[link.from_node].update(crossing.gauge_change)
            changes[link.to_node].update(crossing.gauge_change)
    for node_id, found in gauges.items():
        if len(found) > 1 and not found <= changes.get(node_id, set()):
            listed = "/".join(str(g) for g in sorted(found))
            ds.problem(
                "nodes.csv",
                node_id,
                "gauge_mm",
                f"rail gauges {listed} meet here but no crossing records a gauge change",
            )


def _check_corridors(ds: RawDataset) -> None:
    nodes = ds.ids("nodes.csv", ds.nodes)
    for corridor in ds.corridors:
        for group in corridor.via:
            for node_id in group:
                if node_id not in nodes:
                    ds.problem("corridors.csv", corridor.id, "via", f"unknown node {node_id!r}")


def _check_vehicles(ds: RawDataset) -> None:
    """Every vehicle named by a link or service needs an emission factor of the same mode."""
    factors = {f.vehicle: f for f in ds.emission_factors}
    known = ds.ids("emission_factors.csv", ds.emission_factors)
    named = [("links.csv", lk.id, lk.vehicle, lk.mode) for lk in ds.links]
    named += [("services.csv", s.id, s.vehicle, s.mode) for s in ds.services]
    for file, record, vehicle, mode in named:
        if vehicle is None:
            continue
        if vehicle not in known:
            ds.problem(
                file,
                record,
                "vehicle",
                f"unknown vehicle {vehicle!r} (not in emission_factors.csv)",
            )
        elif vehicle in factors and factors[vehicle].mode is not mode:
            ds.problem(
                file,
                record,
                "vehicle",
                f"vehicle {vehicle!r} is for {factors[vehicle].mode}, not {mode}",
            )
