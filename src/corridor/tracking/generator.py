"""Realistic EPCIS event streams for shipments along their planned itineraries (demo and benchmark).

Each leg yields a ``departing`` event at its origin and an ``arriving`` event at its end for every
container, plus ``inspecting`` at border crossings, with a random deviation from the plan and an
optional delay injected at one leg.
"""

from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta
from typing import Any

from corridor.customs.identifiers import iso6346_check_digit
from corridor.routing import Itinerary
from corridor.tracking.events import CONTAINER_PREFIX, NODE_PREFIX, SHIPMENT_PREFIX

CONTEXT = ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"]


def container_numbers(seed: int, count: int, owner: str = "CRDU") -> list[str]:
    """``count`` valid ISO 6346 numbers (owner code, category U, serial, check digit)."""
    rng = random.Random(seed)
    numbers = []
    for _ in range(count):
        prefix = f"{owner}{rng.randrange(10**6):06d}"
        numbers.append(f"{prefix}{iso6346_check_digit(prefix)}")
    return numbers


def _event(
    when: datetime,
    step: str,
    disposition: str,
    node: str,
    shipment: str,
    epcs: list[str],
    serial: str,
) -> dict[str, Any]:
    return {
        "type": "ObjectEvent",
        "eventID": f"urn:uuid:{serial}",
        "eventTime": when.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "eventTimeZoneOffset": "+00:00",
        "epcList": [CONTAINER_PREFIX + n for n in epcs],
        "action": "OBSERVE",
        "bizStep": step,
        "disposition": disposition,
        "readPoint": {"id": NODE_PREFIX + node},
        "bizLocation": {"id": NODE_PREFIX + node},
        "bizTransactionList": [{"type": "bol", "bizTransaction": SHIPMENT_PREFIX + shipment}],
    }


def events_for(
    itinerary: Itinerary,
    shipment_id: str,
    containers: list[str],
    *,
    until: datetime | None = None,
    delay_leg: int | None = None,
    delay_h: float = 0.0,
    noise_h: float = 2.0,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """The events of a shipment up to ``until`` (all of them when None)."""
    rng = random.Random(seed)
    events: list[dict[str, Any]] = []
    late = 0.0
    for index, leg in enumerate(itinerary.legs):
        if index == delay_leg:
            late += delay_h
        depart = leg.departure + timedelta(hours=late + rng.uniform(0, noise_h))
        arrive = leg.arrival + timedelta(hours=late + rng.uniform(0, noise_h))
        for when, step, disposition, node in (
            (depart, "departing", "in_transit", leg.from_node),
            (arrive, "arriving", "in_progress", leg.to_node),
        ):
            if until is not None and when > until:
                return events
            serial = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            events.append(_event(when, step, disposition, node, shipment_id, containers, serial))
    return events


def document(events: list[dict[str, Any]], created: datetime) -> dict[str, Any]:
    return {
        "@context": CONTEXT,
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": created.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "epcisBody": {"eventList": events},
    }
