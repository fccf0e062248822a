"""What a run tells people: transit-time percentiles, throughput, utilisation, stock, bottlenecks.

``collect`` turns one finished :class:`~corridor.simulation.model.Model` into a JSON-ready dict;
``summarise`` folds replications into means with 95 % confidence half-widths; ``diff`` sets two
summaries side by side. Everything is plain data, rounded, in a fixed order, so the same scenario
and seed give the same bytes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from corridor.simulation.model import HOURS_PER_YEAR, Model

Row = dict[str, Any]
TOP_BOTTLENECKS = 10


def _r(x: float, digits: int = 3) -> float:
    return round(float(x), digits)


def weighted_quantile(values: Sequence[float], weights: Sequence[float], p: float) -> float:
    """The smallest value whose cumulative weight reaches ``p`` of the total (a step quantile)."""
    pairs = sorted(zip(values, weights, strict=True))
    total = sum(w for _, w in pairs)
    if not pairs or total <= 0:
        return math.nan
    goal = p * total
    acc = 0.0
    for value, weight in pairs:
        acc += weight
        if acc >= goal - 1e-12:
            return value
    return pairs[-1][0]


def collect(model: Model) -> dict[str, Any]:
    """The results of one replication (measured window only)."""
    per_year = HOURS_PER_YEAR / model.horizon
    od: list[Row] = []
    delivered_t = 0.0
    for plan, rows in zip(model.plans, model.delivered, strict=True):
        f = plan.flow
        transit = [t / 24.0 for t, _, _ in rows]
        units = [u for _, u, _ in rows]
        tonnes = sum(t for _, _, t in rows)
        delivered_t += tonnes
        od.append(
            {
                "flow": f.id,
                "origin": f.origin,
                "destination": f.destination,
                "cargo": f.cargo,
                "lots": len(rows),
                "delivered_t": _r(tonnes * per_year, 1),
                "p10_d": _r(weighted_quantile(transit, units, 0.1)) if rows else None,
                "p50_d": _r(weighted_quantile(transit, units, 0.5)) if rows else None,
                "p90_d": _r(weighted_quantile(transit, units, 0.9)) if rows else None,
            }
        )
    resources: list[Row] = []
    for st in model.stations.values():
        ident = st.name.partition(":")[2]
        util = st.utilisation(model.horizon)
        tonnes_year = st.tonnes * per_year
        resources.append(
            {
                "resource": st.name,
                "kind": st.kind,
                "id": ident,
                "servers": st.servers,
                "served": st.served,
                "tonnes": _r(tonnes_year, 1),
                "utilisation": _r(util, 4),
                "mean_wait_h": _r(st.mean_wait_h()),
            }
        )
    for sid, line in model.lines.items():
        peak_port = max(line.slots, key=lambda p: line.slots[p], default="")
        peak_slots = line.slots.get(peak_port, 0.0)
        possible = line.vessels * model.horizon / line.min_cycle_h * line.capacity_slots
        util = peak_slots / possible if possible else 0.0
        resources.append(
            {
                "resource": f"vessels:{sid}",
                "kind": "vessels",
                "id": sid,
                "servers": line.vessels,
                "served": line.sailings,
                "tonnes": _r(line.tonnes.get(peak_port, 0.0) * per_year, 1),
                "utilisation": _r(util, 4),
                "mean_wait_h": _r(line.yard_wait_h / line.yard_units if line.yard_units else 0.0),
                "mean_load_factor": _r(
                    line.load_factor_sum / line.sailings if line.sailings else 0
                ),
                "peak_from": peak_port,
            }
        )
    resources.sort(key=lambda r: r["resource"])
    ports = [
        {
            "port": port,
            "lots": int(c[0]),
            "units": _r(c[1] * per_year, 1),
            "tonnes": _r(c[2] * per_year, 1),
        }
        for port, c in sorted(model.port_flow.items())
    ]
    links = [
        {"link": link, "trains": _r(c[0] * per_year, 2), "tonnes": _r(c[1] * per_year, 1)}
        for link, c in sorted(model.link_flow.items())
    ]
    stock = {
        "days": [_r(d, 2) for d in model.stock_days],
        "ports": {p: [_r(v, 1) for v in vals] for p, vals in sorted(model.stock.items())},
    }
    volume = {
        "demand_t": _r(model.scenario.total_tonnes(), 1),
        "delivered_t": _r(delivered_t * per_year, 1),
        "container_trains": _r(model.created_trains["container"] * per_year, 2),
        "wagon_trains": _r(model.created_trains["wagon"] * per_year, 2),
        "teu": _r(model.created_units["container"] * per_year, 1),
        "wagons": _r(model.created_units["wagon"] * per_year, 1),
        "trucks": _r(model.created_units["truck"] * per_year, 1),
        "waiting_end_t": _r(model.waiting_tonnes(), 1),
    }
    return {
        "scenario": model.scenario.name,
        "horizon_days": _r(model.horizon / 24.0, 2),
        "events": int(next(model.env._eid)),  # SimPy's event counter: events scheduled in the run
        "volume": volume,
        "od": od,
        "ports": ports,
        "links": links,
        "resources": resources,
        "bottlenecks": rank_bottlenecks(resources),
        "stock": stock,
    }


def rank_bottlenecks(resources: list[Row], top: int = TOP_BOTTLENECKS) -> list[Row]:
    """Resources by utilisation: the first caps throughput; ``capacity_t`` is where it would saturate.

    ``capacity_t = tonnes / utilisation`` (what the resource passes at 100 % busy with today's mix),
    ``headroom = capacity_t / tonnes - 1``: a resource at 95 % has 5 % more to give, and the
    corridor's throughput cannot grow past its tightest resource's capacity.
    """
    ranked = sorted(
        (r for r in resources if r["utilisation"] > 0 and r["tonnes"] > 0),
        key=lambda r: (-r["utilisation"], r["resource"]),
    )[:top]
    out = []
    for r in ranked:
        capacity = r["tonnes"] / r["utilisation"]
        out.append(
            {
                "resource": r["resource"],
                "kind": r["kind"],
                "utilisation": r["utilisation"],
                "tonnes": r["tonnes"],
                "capacity_t": _r(capacity, 1),
                "headroom": _r(1 / r["utilisation"] - 1, 4),
                "mean_wait_h": r["mean_wait_h"],
            }
        )
    return out


# ---------------------------------------------------------------- replications
def _mean_ci(values: list[float]) -> tuple[float, float | None]:
    n = len(values)
    mean = sum(values) / n
    if n < 2:
        return mean, None
    var = sum((v - mean) ** 2 for v in values) / (n - 1)
    return mean, 1.96 * math.sqrt(var / n)


def _fold_rows(tables: list[list[Row]], key: str) -> list[Row]:
    """Average numeric fields of rows matched by ``key`` across replications, with CI fields."""
    order: list[Any] = []
    groups: dict[Any, list[Row]] = {}
    for table in tables:
        for row in table:
            k = row[key]
            if k not in groups:
                groups[k] = []
                order.append(k)
            groups[k].append(row)
    out = []
    for k in order:
        rows = groups[k]
        merged: Row = {}
        for field, value in rows[0].items():
            if isinstance(value, bool) or not isinstance(value, int | float) or field == key:
                merged[field] = value
                continue
            values = [float(r[field]) for r in rows if r.get(field) is not None]
            if not values:
                merged[field] = None
                continue
            mean, ci = _mean_ci(values)
            merged[field] = _r(mean, 4)
            if field in CI_FIELDS:
                merged[f"{field}_ci"] = None if ci is None else _r(ci, 4)
        out.append(merged)
    return out


CI_FIELDS = frozenset(
    {"p10_d", "p50_d", "p90_d", "delivered_t", "utilisation", "mean_wait_h", "tonnes"}
)


def summarise(results: list[dict[str, Any]], seeds: list[int]) -> dict[str, Any]:
    """Replications folded into one result of the same shape, with 95 % CI half-widths."""
    first = results[0]
    volume: dict[str, Any] = {}
    for k in first["volume"]:
        mean, ci = _mean_ci([float(r["volume"][k]) for r in results])
        volume[k] = _r(mean, 2)
        volume[f"{k}_ci"] = None if ci is None else _r(ci, 2)
    resources = _fold_rows([r["resources"] for r in results], "resource")
    days = first["stock"]["days"]
    ports = sorted({p for r in results for p in r["stock"]["ports"]})
    stock_ports = {}
    for p in ports:
        series = [r["stock"]["ports"].get(p, [0.0] * len(days)) for r in results]
        stock_ports[p] = [_r(sum(col) / len(col), 1) for col in zip(*series, strict=False)]
    return {
        "scenario": first["scenario"],
        "replications": len(results),
        "seeds": seeds,
        "horizon_days": first["horizon_days"],
        "events": sum(int(r["events"]) for r in results),
        "volume": volume,
        "od": _fold_rows([r["od"] for r in results], "flow"),
        "ports": _fold_rows([r["ports"] for r in results], "port"),
        "links": _fold_rows([r["links"] for r in results], "link"),
        "resources": resources,
        "bottlenecks": rank_bottlenecks(resources),
        "stock": {"days": days, "ports": stock_ports},
    }


def diff(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """Scenario ``b`` against ``a``: volumes, transit medians and utilisation that moved most."""

    def delta(x: float | None, y: float | None) -> Row:
        if x is None or y is None:
            return {"a": x, "b": y, "delta": None, "pct": None}
        pct = None if x == 0 else _r((y - x) / abs(x) * 100, 2)
        return {"a": x, "b": y, "delta": _r(y - x, 3), "pct": pct}

    volume = {
        k: delta(a["volume"][k], b["volume"].get(k))
        for k in ("demand_t", "delivered_t", "container_trains", "trucks", "waiting_end_t")
    }
    b_od = {row["flow"]: row for row in b["od"]}
    od = [
        {"flow": row["flow"], **delta(row["p50_d"], b_od[row["flow"]]["p50_d"])}
        for row in a["od"]
        if row["flow"] in b_od
    ]
    b_res = {r["resource"]: r for r in b["resources"]}
    res = [
        {"resource": r["resource"], **delta(r["utilisation"], b_res[r["resource"]]["utilisation"])}
        for r in a["resources"]
        if r["resource"] in b_res
    ]
    res.sort(key=lambda r: (-abs(r["delta"] or 0.0), r["resource"]))
    return {
        "a": a["scenario"],
        "b": b["scenario"],
        "volume": volume,
        "od_p50_d": od,
        "utilisation": res[:15],
        "bottleneck_a": a["bottlenecks"][0] if a["bottlenecks"] else None,
        "bottleneck_b": b["bottlenecks"][0] if b["bottlenecks"] else None,
    }
