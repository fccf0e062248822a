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

#: Networks with at least this many nodes get their bounds from the compiled search. Below it
#: (the shipped network has about 100) both ways take about as long per query, and the lazy one
#: spares the command line SciPy's import; at 1,000 nodes the compiled one is 2-3 times faster.
COMPILED_FROM_NODES = 500


class HopGraph:
    """A reversed graph of hops in compressed form, searched backwards from a destination.

    ``states`` are what a bound is looked up by (a node, or a node and the mode the consignment
    arrived by); ``hops`` are unique (from, to) pairs of state indexes with their least hours on
    the median and on the p90 clock.
    ``options`` lists, per way of making a hop, the hop's index and the per-unit amounts (tariffs
    and emissions) of that way, so a query can price every hop for its cargo at once.
    """

    def __init__(
        self,
        states: Sequence[Hashable],
        hops: Sequence[tuple[int, int, float, float]],
        options: Sequence[tuple[int, tuple[float, ...]]] = (),
    ) -> None:
        import numpy as np
        from scipy.sparse import csr_matrix

        self.states = tuple(states)
        self.index: dict[Hashable, int] = {state: i for i, state in enumerate(self.states)}
        source = np.array([hop[0] for hop in hops], dtype=np.int32)
        target = np.array([hop[1] for hop in hops], dtype=np.int32)
        self.hours = np.array([hop[2] for hop in hops], dtype=np.float64)
        self.hours90 = np.array([hop[3] for hop in hops], dtype=np.float64)
        # The reversed graph's structure is fixed; a query only fills in its weights. Numbering
        # the hops 1.. (no zero, which a sparse matrix might drop) tells where each one lands.
        size = len(self.states)
        order = np.arange(1, len(hops) + 1, dtype=np.float64)
        shape = csr_matrix((order, (target, source)), shape=(size, size))
        self._indptr, self._indices = shape.indptr, shape.indices
        self._place = shape.data.astype(np.int64) - 1
        # Options sorted by hop, so the least per hop is one ``minimum.reduceat``.
        ranked = sorted(range(len(options)), key=lambda i: options[i][0])
        width = len(options[0][1]) if options else 0
        self.option_amounts = np.array([options[i][1] for i in ranked], dtype=np.float64).reshape(
            len(options), width
        )
        hop_of = np.array([options[i][0] for i in ranked], dtype=np.int64)
        self._first_option = np.flatnonzero(np.r_[True, hop_of[1:] != hop_of[:-1]])
        if len(options) and not np.array_equal(hop_of[self._first_option], np.arange(len(hops))):
            raise ValueError("every hop needs at least one option")

    def distances(self, targets: Sequence[int], weights: npt.NDArray[np.float64]) -> list[float]:
        """Least total weight from every state to any of ``targets`` (inf: it cannot get there),
        in the order of ``states``."""
        import numpy as np
        from scipy.sparse import csr_matrix
        from scipy.sparse.csgraph import dijkstra

        size = len(self.states)
        graph = csr_matrix((weights[self._place], self._indices, self._indptr), shape=(size, size))
        found = dijkstra(graph, directed=True, indices=list(targets), min_only=True)
        values: list[float] = np.asarray(found).tolist()
        return values

    def hop_minimum(
        self, per_unit: Sequence[float], extra: npt.NDArray[np.float64] | None = None
    ) -> npt.NDArray[np.float64]:
        """Per hop, the least of ``amounts . per_unit`` over the ways of making it (``extra``:
        amounts to add per option, such as the charges at the border it crosses)."""
        import numpy as np

        # Column by column rather than a matrix product: BLAS would start threads for this.
        value = np.zeros(len(self.option_amounts))
        for column, weight in enumerate(per_unit):
            if weight:
                value += self.option_amounts[:, column] * weight
                if extra is not None:
                    value += extra[:, column] * weight
        least: npt.NDArray[np.float64] = np.minimum.reduceat(value, self._first_option)
        return least


class StaticBound:
    """A bound known at every node: ``bound`` is two look-ups (the node's index, its value)."""

    __slots__ = ("index", "values")

    def __init__(self, index: dict[Hashable, int], values: list[float]) -> None:
        self.index = index
        self.values = values

    def bound(self, node: str, vmode: str = "") -> float:
        i = self.index.get(node)
        return math.inf if i is None else self.values[i]

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
        i = self.index.get((node, vmode))
        if i is None:
            i = self.index.get((node, ""))
            if i is None:
                return math.inf
        return self.values[i]
