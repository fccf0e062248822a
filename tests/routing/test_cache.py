"""The planner cached on disk for the command line: reused while the data is unchanged."""

from corridor.routing.cache import planner_for_dataset
from tests.routing import mini
from tests.routing.conftest import MONDAY


def test_cached_planner_is_reused_until_a_dataset_file_changes(tmp_path):
    data = mini.build(tmp_path / "data")
    cache = tmp_path / "cache"
    first = planner_for_dataset(data, MONDAY, cache)
    (saved,) = cache.glob("*.pickle")
    again = planner_for_dataset(data, MONDAY, cache)
    assert again is not first  # read back from the file, not rebuilt in memory
    assert [p.key for p in again.tt.patterns] == [p.key for p in first.tt.patterns]
    assert list(cache.glob("*.pickle")) == [saved]
    with (data / "sailings.csv").open("a") as handle:
        handle.write("fer,2026-03-21T09:00,p,,test\n")
    changed = planner_for_dataset(data, MONDAY, cache)
    (replaced,) = cache.glob("*.pickle")
    assert replaced != saved
    fwd = next(p for p in changed.tt.patterns if p.key == "fer:fwd")
    assert changed.tt.hours(MONDAY.replace(day=21, hour=9)) in fwd.departures
