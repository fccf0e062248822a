"""The report people read: one self-contained HTML page with plots, plus JSON and Parquet.

Plots are drawn with matplotlib (Agg, no display) and embedded as base64 PNG, so the page can be
mailed or archived without its assets. The same summary is written as JSON (everything) and as
Parquet tables (per-OD transit, resources, port throughput, stock over time) for notebooks.
"""

from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path
from typing import Any

Summary = dict[str, Any]


def _png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def transit_plot(summaries: list[Summary]) -> str:
    """p10-p90 range and median transit days per origin-destination, one colour per scenario."""
    plt = _plt()
    flows = [row["flow"] for row in summaries[0]["od"]]
    fig, ax = plt.subplots(figsize=(9, 0.45 * len(flows) + 1.2))
    height = 0.8 / len(summaries)
    for k, summary in enumerate(summaries):
        by_flow = {row["flow"]: row for row in summary["od"]}
        for i, flow in enumerate(flows):
            row = by_flow.get(flow)
            if not row or row["p50_d"] is None:
                continue
            y = i + k * height
            ax.plot([row["p10_d"], row["p90_d"]], [y, y], color=f"C{k}", linewidth=4, alpha=0.5)
            ax.plot(
                [row["p50_d"]],
                [y],
                "o",
                color=f"C{k}",
                label=summary["scenario"] if i == 0 else None,
            )
    ax.set_yticks([i + 0.4 - height / 2 for i in range(len(flows))])
    ax.set_yticklabels(flows, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("transit time, days (bar p10-p90, dot median)")
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    return _png(fig)


def utilisation_plot(summaries: list[Summary], top: int = 12) -> str:
    plt = _plt()
    names = [r["resource"] for r in summaries[0]["bottlenecks"]][:top]
    for s in summaries[1:]:
        names += [r["resource"] for r in s["bottlenecks"][:top] if r["resource"] not in names]
    fig, ax = plt.subplots(figsize=(9, 0.35 * len(names) + 1.2))
    height = 0.8 / len(summaries)
    for k, summary in enumerate(summaries):
        by_name = {r["resource"]: r for r in summary["resources"]}
        values = [by_name[n]["utilisation"] if n in by_name else 0.0 for n in names]
        errors = [(by_name[n].get("utilisation_ci") or 0.0) if n in by_name else 0.0 for n in names]
        ax.barh(
            [i + k * height for i in range(len(names))],
            values,
            height=height,
            xerr=errors,
            color=f"C{k}",
            label=summary["scenario"],
        )
    ax.axvline(1.0, color="red", linewidth=1)
    ax.set_yticks([i + 0.4 - height / 2 for i in range(len(names))])
    ax.set_yticklabels(names, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("utilisation (busy share of capacity; 95 % CI)")
    ax.legend(loc="lower right", fontsize=8)
    return _png(fig)


def stock_plot(summary: Summary) -> str:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(9, 3.5))
    days = summary["stock"]["days"]
    for port, series in summary["stock"]["ports"].items():
        if any(series):
            ax.plot(days[: len(series)], [v / 1000 for v in series], label=port)
    ax.set_xlabel("day of the simulated year")
    ax.set_ylabel("kt waiting in port yards")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return _png(fig)


def ports_plot(summaries: list[Summary]) -> str:
    plt = _plt()
    ports = [row["port"] for row in summaries[0]["ports"]]
    fig, ax = plt.subplots(figsize=(9, 3.2))
    width = 0.8 / len(summaries)
    for k, summary in enumerate(summaries):
        by_port = {row["port"]: row for row in summary["ports"]}
        values = [by_port[p]["tonnes"] / 1e6 if p in by_port else 0.0 for p in ports]
        ax.bar([i + k * width for i in range(len(ports))], values, width, label=summary["scenario"])
    ax.set_xticks([i + 0.4 - width / 2 for i in range(len(ports))])
    ax.set_xticklabels(ports, rotation=30, ha="right", fontsize=8)
    ax.set_ylabel("Mt a year transferred")
    ax.legend(fontsize=8)
    return _png(fig)


def _table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_fmt(r.get(c)))}</td>" for c in columns) + "</tr>"
        for r in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 100 else f"{value:,.0f}"
    return str(value)


def _volume_rows(summary: Summary) -> list[dict[str, Any]]:
    v = summary["volume"]
    return [
        {"figure": k, "value": v[k], "ci95": v.get(f"{k}_ci")} for k in v if not k.endswith("_ci")
    ]


CSS = """body{font-family:system-ui,sans-serif;margin:2em;max-width:1000px;color:#222}
table{border-collapse:collapse;font-size:13px;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;
padding:3px 6px;text-align:right}th{background:#f0f0f0}td:first-child{text-align:left}
img{max-width:100%}h2{margin-top:1.6em}.note{color:#666;font-size:13px}"""


def render_html(summaries: list[Summary], changes: list[list[str]] | None = None) -> str:
    """One page for one scenario, or several side by side (the first is the reference)."""
    names = " vs ".join(s["scenario"] for s in summaries)
    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>Corridor simulation: "
        f"{html.escape(names)}</title><style>{CSS}</style></head><body>",
        f"<h1>Corridor simulation: {html.escape(names)}</h1>",
    ]
    for k, s in enumerate(summaries):
        parts.append(
            f"<p class='note'>{html.escape(s['scenario'])}: {s['replications']} replication(s), "
            f"{s['horizon_days']:.0f} days measured, {s['events']:,} events.</p>"
        )
        if changes and k < len(changes) and changes[k]:
            items = "".join(f"<li>{html.escape(c)}</li>" for c in changes[k])
            parts.append(f"<ul class='note'>{items}</ul>")
    parts.append("<h2>Volume</h2>")
    for s in summaries:
        parts.append(f"<h3>{html.escape(s['scenario'])}</h3>")
        parts.append(_table(_volume_rows(s), ["figure", "value", "ci95"]))
    parts.append("<h2>Where the corridor jams: bottlenecks</h2>")
    parts.append(
        "<p class='note'>Ranked by utilisation. capacity_t: tonnes a year the resource passes at "
        "100 % busy with this traffic mix; headroom: how much more it can take.</p>"
    )
    for s in summaries:
        parts.append(f"<h3>{html.escape(s['scenario'])}</h3>")
        parts.append(
            _table(
                s["bottlenecks"],
                ["resource", "utilisation", "tonnes", "capacity_t", "headroom", "mean_wait_h"],
            )
        )
    parts.append(f"<img alt='utilisation' src='{utilisation_plot(summaries)}'>")
    parts.append("<h2>Transit time per origin-destination</h2>")
    parts.append(f"<img alt='transit' src='{transit_plot(summaries)}'>")
    for s in summaries:
        parts.append(f"<h3>{html.escape(s['scenario'])}</h3>")
        parts.append(
            _table(
                s["od"],
                ["flow", "cargo", "delivered_t", "p10_d", "p50_d", "p50_d_ci", "p90_d"],
            )
        )
    parts.append("<h2>Throughput per port</h2>")
    parts.append(f"<img alt='ports' src='{ports_plot(summaries)}'>")
    parts.append("<h2>Waiting stock over time</h2>")
    for s in summaries:
        parts.append(f"<h3>{html.escape(s['scenario'])}</h3>")
        parts.append(f"<img alt='stock' src='{stock_plot(s)}'>")
    parts.append("<h2>Throughput per link (trains and tonnes a year)</h2>")
    for s in summaries:
        parts.append(f"<h3>{html.escape(s['scenario'])}</h3>")
        parts.append(_table(s["links"], ["link", "trains", "tonnes"]))
    parts.append("<h2>Crossings and line sections (queues)</h2>")
    for s in summaries:
        rows = [r for r in s["resources"] if r["kind"] in ("crossing", "line", "gauge_change")]
        parts.append(f"<h3>{html.escape(s['scenario'])}</h3>")
        parts.append(
            _table(rows, ["resource", "served", "tonnes", "utilisation", "mean_wait_h", "servers"])
        )
    parts.append("</body></html>")
    return "\n".join(parts)


def write_json(data: Any, path: Path) -> None:
    path.write_text(json.dumps(data, indent=1, sort_keys=False), encoding="utf-8")


def write_parquet(summary: Summary, stem: Path) -> list[Path]:
    """Tables as ``<stem>.<table>.parquet``: od, resources, ports and stock (long format)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    tables: dict[str, list[dict[str, Any]]] = {
        "od": summary["od"],
        "resources": [
            {k: v for k, v in r.items() if k != "peak_from"} for r in summary["resources"]
        ],
        "ports": summary["ports"],
        "links": summary["links"],
        "stock": [
            {"port": port, "day": day, "tonnes": value}
            for port, series in summary["stock"]["ports"].items()
            for day, value in zip(summary["stock"]["days"], series, strict=False)
        ],
    }
    written = []
    for name, rows in tables.items():
        if not rows:
            continue
        path = stem.with_name(f"{stem.name}.{name}.parquet")
        pq.write_table(pa.Table.from_pylist(rows), path)
        written.append(path)
    return written
