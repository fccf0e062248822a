"""The loaded corridor network: records indexed for the code that plans and books on it."""

from __future__ import annotations

import gc
import hashlib
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
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
    """A validated dataset. Build it with :func:`load_network` (or from stored records).

    The indexes (links at a node, the border on a link, the transshipment point at a node) are
    built here and only here, once, so every caller and the planner share them and a lookup is a
    dictionary access rather than a scan of every crossing.
    """

    directory: Path
    sources: dict[str, Source]
    nodes: dict[str, Node]
    links: dict[str, Link]
    services: dict[str, Service]
    crossings: dict[str, Crossing]
    corridors: dict[str, Corridor]
    emission_factors: dict[str, EmissionFactor]
    _adjacent: dict[str, list[Link]] = field(init=False, repr=False, compare=False)
    _borders: dict[str, Crossing] = field(init=False, repr=False, compare=False)
    _transship: dict[str, Crossing] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        adjacent: dict[str, list[Link]] = defaultdict(list)
        for link in self.links.values():
            adjacent[link.from_node].append(link)
            adjacent[link.to_node].append(link)
        borders = {c.at: c for c in self.crossings.values() if c.kind is CrossingKind.BORDER}
        transship = {
            c.at: c for c in self.crossings.values() if c.kind is CrossingKind.TRANSSHIPMENT
        }
        object.__setattr__(self, "_adjacent", dict(adjacent))
        object.__setattr__(self, "_borders", borders)
        object.__setattr__(self, "_transship", transship)

    def links_at(self, node_id: str) -> list[Link]:
        """Links that touch ``node_id`` (links are usable in both directions)."""
        return self._adjacent.get(node_id, [])

    def border_on(self, link_id: str) -> Crossing | None:
        """The border crossing on a link, if the link crosses a customs border."""
        return self._borders.get(link_id)

    def transshipment_at(self, node_id: str) -> Crossing | None:
        """The transshipment point at a node, if freight changes vehicle or gauge there."""
        return self._transship.get(node_id)

    def countries(self) -> set[str]:
        return {node.country for node in self.nodes.values()}

    def fingerprint(self) -> str:
        """A digest of the dataset files, for caches that must be dropped when the data changes."""
        return dataset_fingerprint(self.directory)


def dataset_fingerprint(directory: Path) -> str:
    """SHA-256 over the names and bytes of the dataset's CSV and GeoJSON files."""
    digest = hashlib.sha256()
    for path in sorted(directory.glob("*")):
        if path.suffix in (".csv", ".geojson"):
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while building many long-lived objects (loading a
    dataset, building a timetable): nothing built is garbage, and rescanning it is slow."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


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
    with gc_paused():
        raw = read_dataset(directory)
        validate.check(raw)
    if raw.problems:
        raise DatasetError(raw.problems)
    return Network(
        directory=directory,
        sources={s.id: s for s in raw.sources},
        nodes={n.id: n for n in raw.nodes},
        links={link.id: link for link in raw.links},
        services={s.id: s for s in raw.services},
        crossings={c.id: c for c in raw.crossings},
        corridors={c.id: c for c in raw.corridors},
        emission_factors={f.vehicle: f for f in raw.emission_factors},
    )
