"""The HTML report: one self-contained file (plots embedded as base64 PNG) people can mail around.

Flow duration curves show how many hours a pipeline or cable runs near its limit; utilisation bars
compare scenarios; price maps show where energy is dear. Built with matplotlib's Agg backend, so it
runs on a server without a display.
"""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from corridor.energy.assets import cable_link, gas_link
from corridor.energy.data import EnergyData
from corridor.energy.results import Results


def _png(fig: Figure) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def duration_curves(res: Results, data: EnergyData, carrier: str) -> str:
    """Sorted hourly flows of every asset of one carrier, as a share of its capacity."""
    fig, ax = plt.subplots(figsize=(8, 4))
    hours = len(res.flows_mw)
    x = np.arange(hours) / max(hours - 1, 1) * 100
    for seg in res.summary["segments"]:
        if seg["carrier"] != carrier or not seg["entry"]:
            continue
        col = gas_link(seg["id"]) if carrier == "gas" else cable_link(seg["id"])
        if col not in res.flows_mw:
            continue
        cap = (
            seg["capacity"] * data.assumptions.mw_per_bcm_per_yr()
            if carrier == "gas"
            else seg["capacity"]
        )
        if cap <= 0:
            continue
        y = np.sort(np.abs(res.flows_mw[col].to_numpy()))[::-1] / cap * 100
        ax.plot(x, y, label=seg["asset"], linewidth=1.2)
    ax.set_xlabel("share of hours (%)")
    ax.set_ylabel("flow (% of capacity)")
    ax.set_ylim(0, 105)
    ax.set_title(
        f"{res.summary['scenario']['name']}: {'gas pipelines' if carrier == 'gas' else 'power links'}"
    )
    ax.legend(fontsize=7, ncol=3, loc="lower left")
    ax.grid(alpha=0.3)
    return _png(fig)


def utilisation_bars(runs: list[Results]) -> str:
    """Mean utilisation of each asset, one bar per scenario."""
    assets = sorted({s["asset"] for r in runs for s in r.summary["segments"] if s["entry"]})
    fig, ax = plt.subplots(figsize=(10, 4))
    width = 0.8 / max(len(runs), 1)
    for i, r in enumerate(runs):
        by_asset = {s["asset"]: s["utilisation"] for s in r.summary["segments"] if s["entry"]}
        ax.bar(
            np.arange(len(assets)) + i * width,
            [by_asset.get(a, 0.0) * 100 for a in assets],
            width,
            label=r.summary["scenario"]["name"],
        )
    ax.set_xticks(np.arange(len(assets)) + width * (len(runs) - 1) / 2)
    ax.set_xticklabels(assets, rotation=60, ha="right", fontsize=8)
    ax.set_ylabel("mean utilisation (%)")
    ax.legend()
    ax.grid(axis="y", alpha=0.3)
    return _png(fig)


def price_map(res: Results, data: EnergyData, carrier: str) -> str:
    """Buses at their coordinates coloured by mean price; links drawn with width by flow."""
    fig, ax = plt.subplots(figsize=(10, 4.5))
    flows = [s for s in res.summary["segments"] if s["carrier"] == carrier and abs(s["flow"]) > 0]
    peak = max((abs(s["flow"]) for s in flows), default=1.0) or 1.0
    for s in res.summary["segments"]:
        if s["carrier"] != carrier:
            continue
        (x0, y0), (x1, y1) = s["coordinates"]
        ax.plot(
            [x0, x1],
            [y0, y1],
            color="#888",
            alpha=0.7,
            linewidth=0.5 + 6 * abs(s["flow"]) / peak,
            zorder=1,
        )
    buses = [b for b in data.buses.values() if b.carrier == carrier and b.bus_id in res.prices]
    values = [res.summary["prices"][b.bus_id]["load_weighted"] for b in buses]
    sc = ax.scatter(
        [b.lon_deg for b in buses],
        [b.lat_deg for b in buses],
        c=values,
        cmap="viridis",
        s=120,
        zorder=2,
        edgecolors="black",
    )
    for b, v in zip(buses, values, strict=True):
        ax.annotate(
            f"{b.bus_id.removesuffix('-el').removesuffix('-gas')} {v:.0f}",
            (b.lon_deg, b.lat_deg),
            textcoords="offset points",
            xytext=(5, 5),
            fontsize=7,
        )
    fig.colorbar(sc, ax=ax, label="EUR/MWh (load-weighted)")
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")
    ax.set_title(f"{res.summary['scenario']['name']}: {carrier} prices; line width = annual flow")
    ax.set_aspect(1.3)
    return _png(fig)


def _table(headers: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render(runs: list[Results], data: EnergyData) -> str:
    """The report as one HTML string."""
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        "<title>Corridor energy report</title><style>body{font-family:sans-serif;margin:2em;"
        "max-width:1100px}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;"
        "padding:3px 8px;text-align:right}th{background:#eee}img{max-width:100%}</style></head><body>",
        "<h1>Energy corridor: Central Asia - Caspian - South Caucasus - Europe</h1>",
        "<p>Linear optimal dispatch of gas (transport model) and power, 8,760 hourly snapshots, "
        "PyPSA + HiGHS. Figures are model results from sourced data; see docs/energy.md.</p>",
        "<h2>Utilisation by asset</h2>",
        f"<img alt='utilisation' src='{utilisation_bars(runs)}'>",
    ]
    for r in runs:
        s = r.summary
        name = html.escape(s["scenario"]["name"])
        parts.append(
            f"<h2>Scenario {name}</h2><p>{html.escape(s['scenario']['description'])}; "
            f"{s['hours']} hours from {html.escape(s['start'])}. CO2 {s['co2_total_mt']:.1f} "
            f"Mt; unserved energy {s['unserved_total_mwh']:,.0f} MWh.</p>"
        )
        parts.append(
            _table(
                [
                    "pipeline",
                    "throughput bcm",
                    "capacity bcm/yr",
                    "utilisation",
                    "hours at capacity",
                ],
                [
                    [
                        p["asset"],
                        f"{p['throughput_bcm']:.2f}",
                        f"{p['capacity_bcm_per_yr']:.1f}",
                        f"{p['utilisation']:.0%}",
                        str(p["hours_at_capacity"]),
                    ]
                    for p in s["pipelines"]
                ],
            )
        )
        parts.append(
            _table(
                ["cable", "forward TWh", "backward TWh", "capacity MW", "utilisation"],
                [
                    [
                        x["asset"],
                        f"{x['forward']:.2f}",
                        f"{x['backward']:.2f}",
                        f"{x['capacity']:,.0f}",
                        f"{x['utilisation']:.0%}",
                    ]
                    for x in s["segments"]
                    if x["carrier"] == "electricity"
                ],
            )
        )
        parts.append(f"<img alt='gas flow duration' src='{duration_curves(r, data, 'gas')}'>")
        parts.append(
            f"<img alt='power flow duration' src='{duration_curves(r, data, 'electricity')}'>"
        )
        parts.append(f"<img alt='power prices' src='{price_map(r, data, 'electricity')}'>")
        parts.append(f"<img alt='gas prices' src='{price_map(r, data, 'gas')}'>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write(runs: list[Results], data: EnergyData, path: Path) -> Path:
    """Write the report to ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(runs, data), encoding="utf-8")
    return path
