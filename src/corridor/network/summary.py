"""Figures that describe a network at a glance: what ``corridor network show`` prints."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

from corridor.network.dataset import Network
from corridor.network.modes import CAPABILITIES, capability


@dataclass(frozen=True)
class CountryRow:
    country: str
    nodes: int
    rail_km: float
    border_crossings: int


@dataclass(frozen=True)
class ModeRow:
    mode: str
    links: int
    km: float
    services: int
    estimated_km: float
    scheduled: bool
    gauge: bool
    runs_on: bool


def by_country(network: Network) -> list[CountryRow]:
    """Nodes, track kilometres (a cross-border link counts half to each side) and border crossings."""
    nodes = Counter(n.country for n in network.nodes.values())
    rail: dict[str, float] = defaultdict(float)
    for link in network.links.values():
        if capability(link.mode).gauge:
            for end in (link.from_node, link.to_node):
                rail[network.nodes[end].country] += link.distance_km / 2
    borders: Counter[str] = Counter()
    for crossing in network.crossings.values():
        if crossing.kind == "border" and crossing.at in network.links:
            link = network.links[crossing.at]
            for country in {
                network.nodes[link.from_node].country,
                network.nodes[link.to_node].country,
            }:
                borders[country] += 1
    return [CountryRow(c, nodes[c], round(rail[c]), borders[c]) for c in sorted(nodes)]


def by_mode(network: Network) -> list[ModeRow]:
    """One row per mode of the capability table that the network uses, in table order."""
    rows = []
    used = {link.mode for link in network.links.values()}
    for mode in (m for m in CAPABILITIES if m in used):
        cap = capability(mode)
        links = [link for link in network.links.values() if link.mode == mode]
        rows.append(
            ModeRow(
                mode=str(mode),
                links=len(links),
                km=round(sum(link.distance_km for link in links)),
                services=sum(1 for s in network.services.values() if s.mode == mode),
                estimated_km=round(
                    sum(lk.distance_km for lk in links if lk.distance_method.startswith("estimate"))
                ),
                scheduled=cap.scheduled,
                gauge=cap.gauge,
                runs_on=cap.runs_on,
            )
        )
    return rows
