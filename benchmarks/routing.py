"""Route-planner benchmark: latency, batch throughput, and a networkx baseline.

    .venv/bin/python benchmarks/routing.py [--queries 1000] [--pareto 300] [--batch 10000]
                                          [--workers 2] [--baseline 30] [--seed 7]

It builds the shipped network with a year of sailings and trains, draws random origin-destination
pairs and ready times, and prints p50/p95 latency of the best-arrival search and of the full Pareto
search, the wall time of a batch of best-arrival queries over ``--workers`` processes, and the same
queries on the obvious baseline: networkx Dijkstra on a time-expanded graph.
"""

from __future__ import annotations

import argparse
import itertools
import random
import statistics
import sys
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta

import networkx as nx

from corridor.network import Mode, Network, load_network
from corridor.routing import PARETO, Planner, Query, Timetable
from corridor.routing.search import Criterion

START = datetime(2026, 1, 1, tzinfo=UTC)
DAYS = 365
TIME = (Criterion.TIME,)


def random_queries(network: Network, count: int, seed: int) -> list[Query]:
    rng = random.Random(seed)
    places = [n.id for n in network.nodes.values() if n.kind != "border_crossing"]
    queries = []
    for _ in range(count):
        a, b = rng.sample(places, 2)
        ready = START + timedelta(hours=rng.uniform(0, 24 * (DAYS - 95)))
        queries.append(Query(origin=a, destination=b, ready=ready))
    return queries


def percentiles(samples_ms: list[float]) -> tuple[float, float]:
    ordered = sorted(samples_ms)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


def timed(planner: Planner, queries: list[Query], criteria: tuple[Criterion, ...]) -> list[float]:
    samples = []
    for query in queries:
        t0 = time.perf_counter()
        planner.search(query, criteria)
        samples.append((time.perf_counter() - t0) * 1000)
    return samples


_worker: Planner | None = None


def _init_worker() -> None:
    global _worker
    _worker = Planner(Timetable(load_network(), START, days=DAYS))


def _solve(chunk: list[Query]) -> int:
    assert _worker is not None
    return sum(1 for q in chunk if _worker.search(q, TIME))


def batch(queries: list[Query], workers: int) -> tuple[float, int]:
    chunks = [queries[i :: workers * 8] for i in range(workers * 8)]
    t0 = time.perf_counter()
    with ProcessPoolExecutor(workers, initializer=_init_worker) as pool:
        found = sum(pool.map(_solve, chunks))
    return time.perf_counter() - t0, found


class TimeExpanded:
    """The baseline: every departure as a trip in a networkx DiGraph, waiting arcs at stations.

    It models transfers at ports as a fixed dwell on alighting and ignores vehicle state (a train
    always stops at every junction and waits for the next departure), as a first version would.
    """

    def __init__(self, planner: Planner) -> None:
        self.graph = nx.DiGraph()
        self.events: dict[str, list[float]] = defaultdict(list)
        self.arrivals: dict[str, list[tuple[tuple[str, int, int], float]]] = defaultdict(list)
        tt, _net = planner.tt, planner.net
        dwell = {node: c.dwell_h for node, c in planner.transship.items()}
        trip_no = 0

        def add_trip(stops: list[str], times: list[tuple[float, float]]) -> None:
            nonlocal trip_no
            trip_no += 1
            for k, (stop, (arrive, depart)) in enumerate(zip(stops, times, strict=True)):
                node = ("trip", trip_no, k)
                if k < len(stops) - 1:
                    self.graph.add_edge(("st", stop, depart), node, weight=0.0)
                    self.events[stop].append(depart)
                    nxt_arrive = times[k + 1][0]
                    self.graph.add_edge(
                        node,
                        ("trip", trip_no, k + 1),
                        weight=nxt_arrive - (arrive if k else depart),
                    )
                if k > 0:
                    out = arrive + dwell.get(stop, 0.0)
                    self.graph.add_edge(node, ("st", stop, out), weight=out - arrive)
                    self.events[stop].append(out)
                    self.arrivals[stop].append((node, arrive))

        for pattern in tt.patterns:
            for base in pattern.departures:
                add_trip(
                    list(pattern.stops),
                    [
                        (base + a, base + d)
                        for a, d in zip(pattern.arrive, pattern.depart, strict=True)
                    ],
                )
        for node, ways in planner.ways.items():
            for way in ways:
                if way.link.mode is not Mode.RAIL:
                    continue
                headway = way.link.headway_h or 24.0
                t = 6.0
                while t < tt.horizon_h:
                    add_trip([node, way.target], [(t, t), (t + way.run_h, t + way.run_h)])
                    t += headway
        for stop, times in self.events.items():
            ordered = sorted(set(times))
            for a, b in itertools.pairwise(ordered):
                self.graph.add_edge(("st", stop, a), ("st", stop, b), weight=b - a)
            self.events[stop] = ordered

    def earliest(self, planner: Planner, query: Query) -> float | None:
        ready = planner.tt.hours(query.ready)
        times = self.events.get(query.origin, [])
        first = next((t for t in times if t >= ready), None)
        if first is None:
            return None
        sink = ("sink",)
        for node, _arrive in self.arrivals.get(query.destination, []):
            self.graph.add_edge(node, sink, weight=0.0)
        try:
            length = nx.dijkstra_path_length(self.graph, ("st", query.origin, first), sink)
            return first + float(length)
        except nx.NetworkXNoPath:
            return None
        finally:
            self.graph.remove_node(sink)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--pareto", type=int, default=300)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--baseline", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    network = load_network()
    t0 = time.perf_counter()
    planner = Planner(Timetable(network, START, days=DAYS))
    departures = sum(len(p.departures) for p in planner.tt.patterns)
    print(
        f"network: {len(network.nodes)} nodes, {len(network.links)} links, "
        f"{len(planner.tt.patterns)} service patterns, {departures:,} scheduled departures in "
        f"{DAYS} days (+ daily trains on every rail link); timetable and planner built in "
        f"{time.perf_counter() - t0:.2f} s"
    )

    queries = random_queries(network, max(args.queries, args.pareto, args.baseline), args.seed)
    timed(planner, queries[:50], TIME)  # warm-up
    p50, p95 = percentiles(timed(planner, queries[: args.queries], TIME))
    print(f"best arrival: p50 {p50:.2f} ms, p95 {p95:.2f} ms over {args.queries} random queries")
    p50p, p95p = percentiles(timed(planner, queries[: args.pareto], PARETO))
    print(
        f"Pareto (time, p90 time, cost, CO2e): p50 {p50p:.2f} ms, p95 {p95p:.2f} ms over {args.pareto} queries"
    )
    sizes = [len(planner.search(q, PARETO)) for q in queries[:100]]
    print(
        f"Pareto set size: mean {statistics.mean(sizes):.1f}, max {max(sizes)} (first 100 queries)"
    )

    big = random_queries(network, args.batch, args.seed + 1)
    seconds, found = batch(big, args.workers)
    print(
        f"batch: {args.batch:,} best-arrival queries in {seconds:.2f} s on {args.workers} processes "
        f"({args.batch / seconds:,.0f} queries/s, {found:,} with a route; includes worker start-up)"
    )

    if args.baseline:
        t0 = time.perf_counter()
        baseline = TimeExpanded(planner)
        print(
            f"baseline: time-expanded networkx graph of {baseline.graph.number_of_nodes():,} nodes and "
            f"{baseline.graph.number_of_edges():,} edges built in {time.perf_counter() - t0:.1f} s"
        )
        ours, theirs, agree, both, later = [], [], 0, 0, []
        for query in queries[: args.baseline]:
            t0 = time.perf_counter()
            labels = planner.search(query, TIME)
            ours.append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            arrival = baseline.earliest(planner, query)
            theirs.append((time.perf_counter() - t0) * 1000)
            if labels and arrival is not None:
                both += 1
                agree += abs(labels[0].t - arrival) <= 24.0
                later.append((arrival - labels[0].t) / 24)
        b50, _ = percentiles(theirs)
        o50, _ = percentiles(ours)
        print(
            f"baseline best arrival: p50 {b50:.1f} ms vs ours {o50:.2f} ms over {args.baseline} queries: "
            f"ours is {b50 / o50:,.0f}x faster; arrivals within 24 h of each other in {agree}/{both} "
            f"(median {statistics.median(later) if later else 0:.1f} days later: the baseline stops "
            "every train at every junction to wait for the next departure)"
        )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
