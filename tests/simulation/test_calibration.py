"""base-2024 against the published 2024 Middle Corridor figures (one full simulated year).

Volume: 4.5 Mt with 358 container trains and 27,000 trucks in 2024 (The Astana Times, Feb 2024 /
Interfax, source id astanatimes2024-titr). Tolerance 10 %: the demand is set to the published total,
so what is tested is that the modelled network carries it within the year (no queue that grows
without bound) and that the random arrival process reproduces the counts.

Transit times, median of simulated consignments (source ids in sources.csv):
- Xi'an - Baku (Alat): 11 days for the first train of 2024 (trend2024-xian-alat) and 15-21 days as
  the market figure (argus-china-baku): the median must lie in 11-21 days.
- Xi'an - Poti: 12-14 days (ADY; caspiannews2024-poti), 19-23 days China to the Black Sea ports
  (nca2023-blacksea): the median must lie in 12-23 days.
"""

import pytest

from corridor.simulation import prepare, simulate


@pytest.fixture(scope="module")
def year():
    return simulate(prepare("base-2024"), replications=1, seed=2024)


def test_volume_reproduces_2024(year):
    v = year["volume"]
    assert v["delivered_t"] == pytest.approx(4.5e6, rel=0.10)
    assert v["container_trains"] == pytest.approx(358, rel=0.10)
    assert v["trucks"] == pytest.approx(27_000, rel=0.10)
    # nothing piles up: less than a week of traffic is left in the yards at the end
    assert v["waiting_end_t"] < 4.5e6 / 52


def test_transit_times_in_published_ranges(year):
    od = {row["flow"]: row for row in year["od"]}
    assert 11 <= od["xian-alat-containers"]["p50_d"] <= 21
    assert 12 <= od["xian-poti-containers"]["p50_d"] <= 23


def test_caspian_crossing_is_the_tightest_resource(year):
    # "Crossing the Caspian Sea is the main limiting factor" (report2025-aktau)
    assert year["bottlenecks"][0]["kind"] == "vessels"
