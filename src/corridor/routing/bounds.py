"""Lower bounds to a destination for every node at once, by one Dijkstra search in compiled code.

The A* search needs, for each node it reaches, a lower bound of the hours (and for the Pareto search
the dollars and kg CO2e) still to go. On the shipped network a lazy Python Dijkstra search backwards
from the destination is cheap. On a network of thousands of nodes it is not: it settles most of the
graph, and settling a node in Python costs microseconds, which made the bound the largest part of a
typical query. SciPy's ``csgraph.dijkstra`` settles the whole reversed graph in a millisecond or two,
and an exact bound at every node is also sharper than the lazy search's frontier, so the forward
search expands fewer labels. The two give the same numbers (tests/routing/test_bounds.py).

SciPy is imported only when a bound is first built this way, so the command line, which plans on
the small shipped network, never pays for the import.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

#: Networks with at least this many nodes get their bounds from the compiled search.
COMPILED_FROM_NODES = 1500


class HopGraph:
    """A reversed graph of hops in compressed form, searched backwards from a destination.

    ``states`` are what a bound is looked up by (a node, or a node and the mode the consignment
    arrived by); ``hops`` are unique (from, to) pairs of state indexes with their least hours.
    ``options`` lists, per way of making a hop, the hop's index and the per-unit amounts (tariffs
    and emissions) of that way, so a query can price every hop for its cargo at once.
    """

    def __init__(
        self,
        states: Sequence[Hashable],
        hops: Sequence[tuple[int, int, float]],
        options: Sequence[tuple[int, tuple[float, ...]]] = (),
    ) -> None:
        import numpy as np

        self.states = tuple(states)
        self.source = np.array([a for a, _, _ in hops], dtype=np.int32)
        self.target = np.array([b for _, b, _ in hops], dtype=np.int32)
        self.hours = np.array([h for _, _, h in hops], dtype=np.float64)
        self.option_hop = np.array([i for i, _ in options], dtype=np.int64)
        width = len(options[0][1]) if options else 0
        self.option_amounts = np.array([a for _, a in options], dtype=np.float64).reshape(
            len(options), width
        )

    def distances(
        self, targets: Sequence[int], weights: npt.NDArray[np.float64]
    ) -> dict[Hashable, float]:
        """Least total weight from every state to any of ``targets`` (inf: it cannot get there)."""
        import numpy as np
        from scipy.sparse import csr_matrix
        from scipy.sparse.csgraph import dijkstra

        size = len(self.states)
        # Reversed: an edge b -> a for every hop a -> b, searched from the destination.
        graph = csr_matrix((weights, (self.target, self.source)), shape=(size, size))
        found = dijkstra(graph, directed=True, indices=list(targets), min_only=True)
        return dict(zip(self.states, np.asarray(found).tolist(), strict=True))

    def hop_minimum(self, per_unit: Sequence[float]) -> npt.NDArray[np.float64]:
        """Per hop, the least of ``amounts . per_unit`` over the ways of making it."""
        import numpy as np

        value = self.option_amounts @ np.asarray(per_unit, dtype=np.float64)
        least = np.full(len(self.hours), math.inf)
        np.minimum.at(least, self.option_hop, value)
        return least


class StaticBound:
    """A bound known at every node: ``bound`` is a dictionary look-up."""

    __slots__ = ("values",)

    def __init__(self, values: dict[Hashable, float]) -> None:
        self.values = values

    def bound(self, node: str, vmode: str = "") -> float:
        return self.values.get(node, math.inf)

    def prepare(self, origin: str) -> None:
        """Nothing to grow: every node is settled already."""


class StateBound(StaticBound):
    """Hours by node and the mode the consignment arrived by.

    Arriving by one mode and leaving by another costs at least the transfer's median dwell (port
    dwell by direction, or the default transfer), which a bound by node alone must leave out. A
    state the graph does not hold falls back to the node's bound with no transfer (the origin's
    state, which is the least of all).
    """

    __slots__ = ()

    def bound(self, node: str, vmode: str = "") -> float:
        value = self.values.get((node, vmode))
        if value is None:
            value = self.values.get((node, ""), math.inf)
        return value
