"""Who may publish what, and what a valid notice or amendment is.

Ownership follows who runs the element in reality: a railway or ferry line (a carrier organisation)
its own lines and services, a port operator its port, a customs authority the border crossings and
stations of its country, and the corridor's coordination office anything. Carriers are linked to the
operator names the dataset uses (``links.csv``/``services.csv`` ``operator``, ``port_operators.csv``).
"""

from __future__ import annotations

import csv
import difflib
from pathlib import Path

from corridor.disruptions.model import (
    DisruptionError,
    ElementRef,
    Notice,
    NoticeDraft,
    NoticeStatus,
    Publisher,
)
from corridor.network import CrossingKind, Network

PORT_OPERATORS_FILE = (
    Path(__file__).resolve().parent.parent / "data" / "disruptions" / "port_operators.csv"
)


def port_operators(path: Path = PORT_OPERATORS_FILE) -> dict[str, str]:
    """Node id -> the operator name of the port or terminal (from ``port_operators.csv``)."""
    with path.open(newline="", encoding="utf-8") as handle:
        return {row["node"]: row["operator"] for row in csv.DictReader(handle)}


def _table(network: Network, kind: str) -> dict[str, object]:
    tables: dict[str, dict[str, object]] = {
        "node": dict(network.nodes),
        "link": dict(network.links),
        "crossing": dict(network.crossings),
        "service": dict(network.services),
    }
    return tables[kind]


def check_draft(draft: NoticeDraft, network: Network) -> None:
    """Every element must exist in the network; an unknown one is named with a suggestion."""
    for i, element in enumerate(draft.elements):
        table = _table(network, element.kind)
        if element.id not in table:
            near = difflib.get_close_matches(element.id, list(table), n=1)
            hint = f"; did you mean {element.kind}:{near[0]}?" if near else ""
            raise DisruptionError(
                "invalid", f"elements.{i}", f"unknown {element.kind} {element.id!r}{hint}"
            )


def check_amendment(notice: Notice, draft: NoticeDraft) -> None:
    """A closed notice is history: it cannot be amended (publish a new one instead)."""
    if notice.status is NoticeStatus.CLOSED:
        raise DisruptionError(
            "conflict", "status", f"notice {notice.id} is closed; publish a new notice instead"
        )
    if draft.kind is not notice.kind:
        raise DisruptionError(
            "invalid", "kind", f"a {notice.kind} notice stays one; close it and publish a new one"
        )


def element_countries(element: ElementRef, network: Network) -> set[str]:
    """The countries an element lies in (a border crossing or a cross-border link: both)."""
    if element.kind == "node":
        return {network.nodes[element.id].country}
    if element.kind == "link":
        link = network.links[element.id]
        return {network.nodes[link.from_node].country, network.nodes[link.to_node].country}
    if element.kind == "crossing":
        crossing = network.crossings[element.id]
        if crossing.at in network.links:
            return element_countries(ElementRef(kind="link", id=crossing.at), network)
        return {network.nodes[crossing.at].country}
    service = network.services[element.id]
    return {network.nodes[stop].country for stop in service.stops}


def _operator(element: ElementRef, network: Network, ports: dict[str, str]) -> str | None:
    if element.kind == "link":
        return network.links[element.id].operator or None
    if element.kind == "service":
        return network.services[element.id].operator or None
    if element.kind == "node":
        return ports.get(element.id)
    return None


def may_publish(
    publisher: Publisher, element: ElementRef, network: Network, ports: dict[str, str]
) -> bool:
    """Whether ``publisher`` owns ``element`` (see the module docstring for the rule)."""
    if publisher.kind == "admin":
        return True
    if publisher.kind == "customs":
        if publisher.country is None:
            return False
        if element.kind == "crossing":
            crossing = network.crossings[element.id]
            return crossing.kind is CrossingKind.BORDER and publisher.country in element_countries(
                element, network
            )
        return element.kind == "node" and element_countries(element, network) == {publisher.country}
    if publisher.kind == "carrier":
        operator = _operator(element, network, ports)
        return operator is not None and operator in publisher.operators
    return False


def check_ownership(
    publisher: Publisher, draft: NoticeDraft, network: Network, ports: dict[str, str]
) -> None:
    for i, element in enumerate(draft.elements):
        if not may_publish(publisher, element, network, ports):
            raise DisruptionError(
                "forbidden",
                f"elements.{i}",
                f"your organisation does not operate {element}; only its owner may publish on it",
            )
