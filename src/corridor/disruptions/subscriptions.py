"""Which notices a subscriber asked for."""

from __future__ import annotations

from collections.abc import Mapping

from corridor.disruptions.effects import affected_legs
from corridor.disruptions.model import ElementRef, Notice, Severity, SubscriptionFilter
from corridor.disruptions.rules import element_countries
from corridor.network import Network
from corridor.routing import Itinerary

_RANK = {s: i for i, s in enumerate(Severity)}


def element_nodes(element: ElementRef, network: Network) -> set[str]:
    if element.kind == "node":
        return {element.id}
    if element.kind == "link":
        link = network.links[element.id]
        return {link.from_node, link.to_node}
    if element.kind == "crossing":
        at = network.crossings[element.id].at
        return element_nodes(
            ElementRef(kind="link" if at in network.links else "node", id=at), network
        )
    return set(network.services[element.id].stops)


def corridors_of(notice: Notice, network: Network) -> set[str]:
    """The named corridors whose gateways (``via`` nodes) a notice touches."""
    nodes = set().union(*(element_nodes(e, network) for e in notice.elements))
    return {
        c.id for c in network.corridors.values() if nodes & {n for group in c.via for n in group}
    }


def matches(
    wanted: SubscriptionFilter,
    notice: Notice,
    network: Network,
    itineraries: Mapping[str, Itinerary] | None = None,
) -> bool:
    """Whether ``notice`` passes every non-empty part of the filter."""
    if _RANK[notice.severity] < _RANK[wanted.min_severity]:
        return False
    if wanted.elements and not set(wanted.elements) & set(notice.elements):
        return False
    if wanted.countries:
        countries = set().union(*(element_countries(e, network) for e in notice.elements))
        if not countries & wanted.countries:
            return False
    if wanted.corridors and not corridors_of(notice, network) & wanted.corridors:
        return False
    if wanted.shipments:
        plans = itineraries or {}
        hit = any(
            affected_legs(plans[s], [notice], network) for s in wanted.shipments if s in plans
        )
        if not hit:
            return False
    return True
