"""The loaded corridor network: records indexed for the code that plans and books on it."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from corridor.network import validate
from corridor.network.files import read_dataset
from corridor.network.model import (
    Corridor,
    Crossing,
    CrossingKind,
    EmissionFactor,
    Link,
    Node,
    Service,
    Source,
)
from corridor.network.problems import DatasetError, Problem


@dataclass(frozen=True)
class Network:
    """A validated dataset. Build it with :func:`load_network`."""

    directory: Path
    sources: dict[str, Source]
    nodes: dict[str, Node]
    links: dict[str, Link]
    services: dict[str, Service]
    crossings: dict[str, Crossing]
    corridors: dict[str, Corridor]
    emission_factors: dict[str, EmissionFactor]
    _adjacent: dict[str, list[Link]] = field(repr=False, compare=False)

    def links_at(self, node_id: str) -> list[Link]:
        """Links that touch ``node_id`` (links are usable in both directions)."""
        return self._adjacent.get(node_id, [])

    def border_on(self, link_id: str) -> Crossing | None:
        """The border crossing on a link, if the link crosses a customs border."""
        return next(
            (
                c
                for c in self.crossings.values()
                if c.kind is CrossingKind.BORDER and c.at == link_id
            ),
            None,
        )

    def transshipment_at(self, node_id: str) -> Crossing | None:
        """The transshipment point at a node, if freight changes vehicle or gauge there."""
        return next(
            (
                c
                for c in self.crossings.values()
                if c.kind is CrossingKind.TRANSSHIPMENT and c.at == node_id
            ),
            None,
        )

    def countries(self) -> set[str]:
        return {node.country for node in self.nodes.values()}


def check_dataset(directory: Path) -> list[Problem]:
    """Every problem of the dataset in ``directory``; an empty list means it is clean."""
    raw = read_dataset(directory)
    validate.check(raw)
    return sorted(raw.problems)


def load_network(directory: Path | None = None) -> Network:
    """Load and validate a dataset (the shipped one by default).

    Raises :class:`DatasetError` listing every problem, so a broken file is never half-used.
    """
    if directory is None:
        from corridor.settings import get_settings

        directory = get_settings().network_dir
    raw = read_dataset(directory)
    validate.check(raw)
    if raw.problems:
        raise DatasetError(raw.problems)
    adjacent: dict[str, list[Link]] = defaultdict(list)
    for link in raw.links:
        adjacent[link.from_node].append(link)
        adjacent[link.to_node].append(link)
    return Network(
        directory=directory,
        sources={s.id: s for s in raw.sources},
        nodes={n.id: n for n in raw.nodes},
        links={link.id: link for link in raw.links},
        services={s.id: s for s in raw.services},
        crossings={c.id: c for c in raw.crossings},
        corridors={c.id: c for c in raw.corridors},
        emission_factors={f.vehicle: f for f in raw.emission_factors},
        _adjacent=dict(adjacent),
    )
