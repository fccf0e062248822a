"""Compute the distance and line of every link from open network data, and write them as data.

    pip install -e '.[geodata]' && python scripts/build_network_geometry.py

Rail and road links are routed on the OpenStreetMap graphs that ``scgraph_data`` 2.0.0 ships (ODbL);
ferry and sea links on the ``searoute`` maritime graph. The result, ``link_geometry.geojson`` in the
dataset directory, is committed: the platform itself never needs these packages nor the internet.

Where the open data is incomplete the script says so in each feature's properties:
- terminals are snapped to the nearest graph node within ``SNAP_KM`` (``snap_from_km``/``snap_to_km``);
- gaps of up to ``AUTO_BRIDGE_KM`` between graph pieces are joined everywhere;
- a link whose ends still lie in separate pieces is bridged by the shortest straight gap between the
  two pieces (``bridges``: where and how long);
- a link the graph cannot route plausibly (no node near a terminal, or a detour above
  ``MAX_CIRCUITY``) gets the great-circle distance times the median circuity of the routed links of
  its mode (``method: estimate-gc``) and a ``note`` saying why.
- sea routes through the Volga-Don canal (which the searoute graph offers between the Caspian and the
  Black Sea) are refused: sea-going ferries and feeders cannot use it.
"""

from __future__ import annotations

import heapq
import json
import math
import statistics
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from corridor.network.files import GEOMETRY_FILE, read_dataset
from corridor.network.geo import great_circle_km, path_length_km
from corridor.network.model import Link, Mode, Node
from corridor.settings import PACKAGE_DATA_DIR

SNAP_KM = 25.0
AUTO_BRIDGE_KM = 0.5
MAX_BRIDGE_KM = 250.0
#: Beyond this detour over the great circle, the open data is taken to miss the line.
MAX_CIRCUITY = {Mode.RAIL: 2.0, Mode.ROAD: 2.0, Mode.FERRY: 2.0, Mode.SEA: 3.0}
#: Only graph nodes inside this box (lat, lon) are used: the corridor and its rivals.
BBOX = (20.0, 62.0, -10.0, 125.0)
#: The Volga-Don canal region: a sea route through it is refused.
VOLGA_DON = (46.8, 49.8, 38.0, 46.6)
SIMPLIFY_DEG = 0.01

ATTRIBUTION = (
    "Rail and road geometry: (c) OpenStreetMap contributors, ODbL 1.0, via scgraph_data 2.0.0. "
    "Sea geometry: searoute 1.6.0 (Eurostat SeaRoute MARNET)."
)

Point = tuple[float, float]  # (lat, lon)


@dataclass
class LandGraph:
    """An scgraph_data graph restricted to the corridor box, with a grid index for snapping."""

    adj: dict[int, dict[int, float]]
    pos: dict[int, Point]
    comp: dict[int, int] = field(default_factory=dict)
    #: Grid indexes for finding nodes near a point: (cell size in degrees) -> cell -> nodes.
    grids: dict[float, dict[tuple[int, int], list[int]]] = field(default_factory=dict)

    @classmethod
    def load(cls, module_name: str) -> LandGraph:
        module = __import__(f"scgraph_data.{module_name}", fromlist=["graph", "nodes"])
        lat0, lat1, lon0, lon1 = BBOX
        keep = {
            i
            for i, (la, lo) in enumerate(module.nodes)
            if lat0 <= la <= lat1 and lon0 <= lo <= lon1
        }
        adj = {
            i: {j: float(d) for j, d in module.graph[i].items() if j in keep and j != i}
            for i in keep
        }
        pos = {i: (float(module.nodes[i][0]), float(module.nodes[i][1])) for i in keep}
        graph = cls(adj, pos)
        for cell in (0.01, 0.25):
            grid: dict[tuple[int, int], list[int]] = defaultdict(list)
            for i, (la, lo) in pos.items():
                grid[(math.floor(la / cell), math.floor(lo / cell))].append(i)
            graph.grids[cell] = grid
        graph._components()
        graph._auto_bridge()
        return graph

    def _components(self) -> None:
        self.comp = {}
        for start in self.adj:
            if start in self.comp:
                continue
            stack = [start]
            self.comp[start] = start
            while stack:
                u = stack.pop()
                for v in self.adj[u]:
                    if v not in self.comp:
                        self.comp[v] = start
                        stack.append(v)

    def _auto_bridge(self) -> None:
        """Join dead ends to other graph pieces within AUTO_BRIDGE_KM: digitising gaps, not real ones."""
        added = 0
        dead_ends = [i for i, nbrs in self.adj.items() if len(nbrs) <= 1]
        for i in dead_ends:
            la, lo = self.pos[i]
            for j in self.near(la, lo, AUTO_BRIDGE_KM):
                if self.comp[i] != self.comp[j] and j not in self.adj[i]:
                    d = great_circle_km(la, lo, *self.pos[j])
                    self.adj[i][j] = d
                    self.adj[j][i] = d
                    added += 1
        self._components()
        print(f"  auto-bridged {added} gaps of <= {AUTO_BRIDGE_KM} km", file=sys.stderr)

    def near(self, lat: float, lon: float, radius_km: float) -> list[int]:
        cell = 0.01 if radius_km <= 2 else 0.25
        grid = self.grids[cell]
        rings = max(1, math.ceil(radius_km / (cell * 111 * max(0.2, math.cos(math.radians(lat))))))
        ki, kj = math.floor(lat / cell), math.floor(lon / cell)
        found = []
        for di in range(-rings, rings + 1):
            for dj in range(-rings, rings + 1):
                for n in grid.get((ki + di, kj + dj), ()):
                    if great_circle_km(lat, lon, *self.pos[n]) <= radius_km:
                        found.append(n)
        return found

    def snap(self, lat: float, lon: float) -> tuple[int, float] | None:
        candidates = self.near(lat, lon, SNAP_KM)
        if not candidates:
            return None
        best = min(candidates, key=lambda n: great_circle_km(lat, lon, *self.pos[n]))
        return best, great_circle_km(lat, lon, *self.pos[best])

    def shortest(self, a: int, b: int) -> tuple[float, list[int]] | None:
        dist = {a: 0.0}
        prev: dict[int, int] = {}
        heap = [(0.0, a)]
        while heap:
            d, u = heapq.heappop(heap)
            if u == b:
                path = [b]
                while path[-1] != a:
                    path.append(prev[path[-1]])
                return d, path[::-1]
            if d > dist[u]:
                continue
            for v, w in self.adj[u].items():
                nd = d + w
                if nd < dist.get(v, math.inf):
                    dist[v] = nd
                    prev[v] = u
                    heapq.heappush(heap, (nd, v))
        return None

    def bridge(self, a: int, b: int) -> dict[str, Any] | None:
        """Join the pieces of ``a`` and ``b`` at their closest pair of nodes (within MAX_BRIDGE_KM)."""
        ca, cb = self.comp[a], self.comp[b]
        members_a = [n for n, c in self.comp.items() if c == ca]
        members_b = [n for n, c in self.comp.items() if c == cb]
        small, other = (members_a, cb) if len(members_a) <= len(members_b) else (members_b, ca)
        best: tuple[float, int, int] | None = None
        for n in small:
            for m in self.near(*self.pos[n], MAX_BRIDGE_KM if best is None else best[0]):
                if self.comp[m] == other:
                    d = great_circle_km(*self.pos[n], *self.pos[m])
                    if best is None or d < best[0]:
                        best = (d, n, m)
        if best is None:
            return None
        d, n, m = best
        self.adj[n][m] = d
        self.adj[m][n] = d
        self._components()
        (la1, lo1), (la2, lo2) = self.pos[n], self.pos[m]
        return {"from": [lo1, la1], "to": [lo2, la2], "km": round(d, 1)}


def route_land(graph: LandGraph, a: Node, b: Node) -> dict[str, Any]:
    sa, sb = graph.snap(a.lat, a.lon), graph.snap(b.lat, b.lon)
    if sa is None or sb is None:
        missing = a.id if sa is None else b.id
        return {"note": f"no OSM graph node within {SNAP_KM} km of {missing}"}
    bridges = []
    for _ in range(3):
        if graph.comp[sa[0]] == graph.comp[sb[0]]:
            break
        bridge = graph.bridge(sa[0], sb[0])
        if bridge is None:
            return {"note": f"terminals lie in OSM graph pieces more than {MAX_BRIDGE_KM} km apart"}
        bridges.append(bridge)
    found = graph.shortest(sa[0], sb[0])
    if found is None:
        return {"note": "no OSM path between the terminals"}
    _, path = found
    coords = (
        [(a.lon, a.lat)] + [(graph.pos[n][1], graph.pos[n][0]) for n in path] + [(b.lon, b.lat)]
    )
    return {
        "coords": coords,
        "snap_from_km": round(sa[1], 1),
        "snap_to_km": round(sb[1], 1),
        "bridges": bridges,
    }


def _in_box(lon: float, lat: float, box: tuple[float, float, float, float]) -> bool:
    return box[0] <= lat <= box[1] and box[2] <= lon <= box[3]


def route_sea(a: Node, b: Node) -> dict[str, Any]:
    import searoute

    feature = searoute.searoute([a.lon, a.lat], [b.lon, b.lat], units="km", append_orig_dest=True)
    coords = [(float(x), float(y)) for x, y in feature["geometry"]["coordinates"]]
    if any(_in_box(lon, lat, VOLGA_DON) for lon, lat in coords):
        return {
            "note": "searoute goes through the Volga-Don canal, which sea-going vessels cannot use"
        }
    # A water body the maritime graph lacks (Lake Van) shows as a long first or last hop.
    first_hop = great_circle_km(a.lat, a.lon, coords[1][1], coords[1][0]) if len(coords) > 2 else 0
    last_hop = great_circle_km(b.lat, b.lon, coords[-2][1], coords[-2][0]) if len(coords) > 2 else 0
    if max(first_hop, last_hop) > 100:
        return {"note": "water body not in the searoute graph (terminal over 100 km from it)"}
    return {
        "coords": coords,
        "snap_from_km": round(first_hop, 1),
        "snap_to_km": round(last_hop, 1),
        "bridges": [],
    }


def simplify(coords: list[tuple[float, float]]) -> list[list[float]]:
    from shapely.geometry import LineString

    line = LineString(coords).simplify(SIMPLIFY_DEG, preserve_topology=False)
    return [[round(x, 4), round(y, 4)] for x, y in line.coords]


def build(directory: Path) -> dict[str, Any]:
    ds = read_dataset(directory)
    nodes = {n.id: n for n in ds.nodes}
    graphs: dict[Mode, LandGraph] = {}
    results: dict[str, dict[str, Any]] = {}
    for link in ds.links:
        a, b = nodes[link.from_node], nodes[link.to_node]
        gc = great_circle_km(a.lat, a.lon, b.lat, b.lon)
        if link.mode in (Mode.RAIL, Mode.ROAD):
            name = "world_railways" if link.mode is Mode.RAIL else "world_highways"
            if link.mode not in graphs:
                print(f"loading {name} ...", file=sys.stderr)
                graphs[link.mode] = LandGraph.load(name)
            result = route_land(graphs[link.mode], a, b)
            method = f"osm-{link.mode}"
        else:
            result = route_sea(a, b)
            method = "searoute"
        if "coords" in result:
            length = path_length_km(result["coords"])
            if length > gc * MAX_CIRCUITY[link.mode] + 30:
                result = {
                    "note": f"{method} path of {length:.0f} km is a detour of {length / gc:.1f}x "
                    "the great circle: the line is missing from the open data"
                }
            else:
                result.update(method=method, distance_km=length)
        result["gc_km"] = gc
        results[link.id] = result
        status = f"{result['distance_km']:.0f} km" if "distance_km" in result else result["note"]
        print(f"  {link.id}: {status}", file=sys.stderr)
    return _collection(ds.links, nodes, results)


def _collection(
    links: list[Link], nodes: dict[str, Node], results: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    circuity: dict[Mode, list[float]] = defaultdict(list)
    for link in links:
        r = results[link.id]
        if "distance_km" in r and r["gc_km"] > 50:
            circuity[link.mode].append(r["distance_km"] / r["gc_km"])
    median = {mode: statistics.median(values) for mode, values in circuity.items()}
    features = []
    for link in links:
        r = results[link.id]
        a, b = nodes[link.from_node], nodes[link.to_node]
        props: dict[str, Any] = {"link": link.id, "mode": str(link.mode)}
        if "distance_km" in r:
            coords = simplify(r["coords"])
            props.update(
                method=r["method"],
                distance_km=round(r["distance_km"], 1),
                snap_from_km=r["snap_from_km"],
                snap_to_km=r["snap_to_km"],
                bridges=r["bridges"],
            )
        else:
            factor = median.get(link.mode, 1.2)
            coords = [[round(a.lon, 4), round(a.lat, 4)], [round(b.lon, 4), round(b.lat, 4)]]
            props.update(
                method="estimate-gc",
                distance_km=round(r["gc_km"] * factor, 1),
                note=f"{r['note']}; distance = great circle x {factor:.2f} "
                f"(median circuity of the routed {link.mode} links)",
            )
        features.append(
            {
                "type": "Feature",
                "properties": props,
                "geometry": {"type": "LineString", "coordinates": coords},
            }
        )
    return {"type": "FeatureCollection", "attribution": ATTRIBUTION, "features": features}


def main() -> None:
    directory = Path(sys.argv[1]) if len(sys.argv) > 1 else PACKAGE_DATA_DIR
    collection = build(directory)
    out = directory / GEOMETRY_FILE
    out.write_text(json.dumps(collection, separators=(",", ":")) + "\n", encoding="utf-8")
    estimated = [
        f["properties"]["link"]
        for f in collection["features"]
        if f["properties"]["method"] == "estimate-gc"
    ]
    print(
        f"wrote {out} ({len(collection['features'])} links, {len(estimated)} estimated: "
        f"{', '.join(estimated)})",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
