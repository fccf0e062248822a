"""Customs offices and the itinerary of offices a planned route passes.

Border offices come from the network's crossing records (``office_a`` stands at the link's
``from`` node, ``office_b`` at its ``to`` node). Departure and destination are the inland office of
the origin and destination terminals.
"""

from __future__ import annotations

import itertools
import re
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from corridor.network import CrossingKind, Network
from corridor.routing import Itinerary
from corridor.routing.plan import node_sequence


class OfficeRole(StrEnum):
    DEPARTURE = "departure"
    EXIT = "exit"
    ENTRY = "entry"
    DESTINATION = "destination"


class Office(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    country: str
    node: str


class OfficeStop(BaseModel):
    model_config = ConfigDict(frozen=True)

    office: Office
    role: OfficeRole


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def inland_office(network: Network, node_id: str) -> Office:
    node = network.nodes[node_id]
    return Office(
        id=f"co-{node.id}", name=f"{node.name} customs office", country=node.country, node=node.id
    )


_BORDER_CACHE: dict[int, tuple[Network, dict[str, tuple[Office, Office]]]] = {}


def border_offices(network: Network) -> dict[str, tuple[Office, Office]]:
    """For each border link: (office at its from node, office at its to node); computed once per network."""
    cached = _BORDER_CACHE.get(id(network))
    if cached is not None and cached[0] is network:
        return cached[1]
    found = {}
    for crossing in network.crossings.values():
        if crossing.kind is not CrossingKind.BORDER:
            continue
        link = network.links[crossing.at]
        a, b = network.nodes[link.from_node], network.nodes[link.to_node]
        found[link.id] = (
            Office(
                id=_slug(crossing.office_a), name=crossing.office_a, country=a.country, node=a.id
            ),
            Office(
                id=_slug(crossing.office_b), name=crossing.office_b, country=b.country, node=b.id
            ),
        )
    return found


def all_offices(network: Network) -> dict[str, Office]:
    offices = {o.id: o for pair in border_offices(network).values() for o in pair}
    for node_id in network.nodes:
        office = inland_office(network, node_id)
        offices[office.id] = office
    return offices


def office_itinerary(network: Network, itinerary: Itinerary) -> list[OfficeStop]:
    """Departure office, then exit and entry offices of each customs border in order, then destination."""
    borders = border_offices(network)
    sequence = node_sequence(network, itinerary)
    stops = [OfficeStop(office=inland_office(network, itinerary.origin), role=OfficeRole.DEPARTURE)]
    for here, there in itertools.pairwise(sequence):
        link = next(
            (lk for lk in network.links_at(here) if {lk.from_node, lk.to_node} == {here, there}),
            None,
        )
        if link is None or link.id not in borders:
            continue
        at_from, at_to = borders[link.id]
        leave, enter = (at_from, at_to) if link.from_node == here else (at_to, at_from)
        stops.append(OfficeStop(office=leave, role=OfficeRole.EXIT))
        stops.append(OfficeStop(office=enter, role=OfficeRole.ENTRY))
    stops.append(
        OfficeStop(
            office=inland_office(network, itinerary.destination), role=OfficeRole.DESTINATION
        )
    )
    return stops
