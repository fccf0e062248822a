"""Planned transit times on the shipped network against the ranges published for each corridor.

The published figures (with their sources) are in published_transit_times.csv next to this file.
"""

import csv
from datetime import UTC, datetime
from pathlib import Path

import pytest

from corridor.routing import best, compare, make_query, planner_for

READY = datetime(2026, 3, 3, 8, 0, tzinfo=UTC)
with (Path(__file__).parent / "published_transit_times.csv").open() as _handle:
    ROWS = list(csv.DictReader(_handle))


@pytest.mark.parametrize(
    "row", ROWS, ids=[f"{r['origin']}-{r['destination']}-{r['corridor']}" for r in ROWS]
)
def test_transit_time_within_published_range(network, row):
    via = network.corridors[row["corridor"]].via if row["corridor"] else ()
    avoid = (
        frozenset(network.corridors[row["corridor"]].avoid_countries)
        if row["corridor"]
        else frozenset()
    )
    q = make_query(
        network,
        origin=row["origin"],
        destination=row["destination"],
        ready=READY,
        via=via,
        avoid_countries=avoid,
        cargo={"containers": 20},
    )
    it = best(planner_for(network, q), q)
    assert float(row["min_days"]) <= it.transit_days <= float(row["max_days"]), (
        f"{it.transit_days:.1f} days; published: {row['published']} ({row['source']})"
    )


def test_corridors_compare_in_the_published_order(network):
    # World Bank 2023: the Middle Corridor takes longer than the Northern route and is in the
    # range of the sea route; the sea route is the slowest and the cheapest.
    q = make_query(network, origin="xian", destination="duisburg", ready=READY)
    rows = {c.id: it for c, it in compare(planner_for(network, q), q)}
    assert all(it is not None for it in rows.values()), [k for k, v in rows.items() if v is None]
    northern, middle, sea = rows["northern"], rows["middle-aktau-btk"], rows["sea-suez"]
    assert northern.transit_days < middle.transit_days < sea.transit_days
    assert sea.cost_usd < northern.cost_usd < middle.cost_usd
    assert "RU" not in {network.nodes[n].country for n in middle.nodes}
    assert "aktau_port" in middle.nodes
    assert "kars" in middle.nodes
