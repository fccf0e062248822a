"""Scenario files: shipped ones load; bad ones are refused with file, line, field and reason."""

import pytest

from corridor.network import load_network
from corridor.simulation import ScenarioError, prepare, scenario_names
from corridor.simulation.scenario import SCENARIO_DIR, load_scenario, load_text, locate
from corridor.simulation.validate import checker

SHIPPED = ["aktau-storm", "base-2024", "digital-borders", "more-ferries", "wb-2030"]


@pytest.fixture(scope="module")
def check():
    return checker(load_network())


def test_shipped_scenarios_load_and_validate():
    assert scenario_names() == SHIPPED
    for name in SHIPPED:
        assert prepare(name).name == name


def test_base_2024_totals_the_published_volume():
    # 4.5 Mt in 2024 (astanatimes2024-titr)
    assert prepare("base-2024").total_tonnes() == pytest.approx(4.5e6)


def test_wb_2030_scales_to_about_11_mt_and_inherits():
    sc = prepare("wb-2030")
    assert sc.chain == ("base-2024.toml", "wb-2030.toml")
    assert sc.total_tonnes() == pytest.approx(11.0e6, rel=0.001)  # wb2023: about 11 Mt
    kinds = [(c.kind, c.id) for c in sc.capacity]
    assert ("container_terminal", "aktau_port") in kinds
    assert len(sc.disruptions) == 2  # the January storm of the base


def test_child_adds_fleet_on_top_of_its_base():
    sc = prepare("more-ferries")
    assert sc.chain[-1] == "more-ferries.toml"
    assert {f.service for f in sc.fleet} >= {"asco-aktau-alat-feeder"}
    assert sc.total_tonnes() == pytest.approx(prepare("wb-2030").total_tonnes())


def test_an_edited_scenario_file_is_read_again(tmp_path):
    # prepare() keeps validated scenarios per process; an edit of the file or of its base, or its
    # removal, must show at once.
    base = tmp_path / "base-2024.toml"
    base.write_text((SCENARIO_DIR / "base-2024.toml").read_text())
    child = tmp_path / "child.toml"
    head = '[scenario]\nname = "child"\nbase = "base-2024"\nyear = 2025\n'
    child.write_text(head + 'description = "first"\n')
    first = prepare("child", directory=tmp_path)
    assert (first.description, first.seasonality[0]) == ("first", 0.85)
    assert prepare("child", directory=tmp_path) is first  # kept, not validated again
    child.write_text(head + 'description = "second"\n')
    assert prepare("child", directory=tmp_path).description == "second"
    base.write_text(base.read_text().replace("seasonality = [0.85,", "seasonality = [0.8,", 1))
    assert prepare("child", directory=tmp_path).seasonality[0] == 0.8
    child.unlink()
    with pytest.raises(ScenarioError):
        prepare("child", directory=tmp_path)


def _write(tmp_path, text, name="bad.toml"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


HEAD = """[scenario]
name = "t"
base = "base-2024"
year = 2024
"""


def _error(tmp_path, body, check) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        load_scenario(_write(tmp_path, HEAD + body), check=check)
    return info.value


def test_unknown_node_names_file_line_and_field(tmp_path, check):
    err = _error(
        tmp_path,
        """
[[flow]]
id = "x"
origin = "xian"
destination = "atlantis"
cargo = "container"
tonnes_per_year = 10
source = "est-sim-demand"
""",
        check,
    )
    assert (err.file, err.line, err.field, err.code) == (
        "bad.toml",
        9,
        "flow.0.destination",
        "invalid",
    )
    assert "unknown node 'atlantis'" in err.reason
    assert str(err).startswith("bad.toml:9: field 'flow.0.destination'")


def test_negative_capacity(tmp_path, check):
    err = _error(
        tmp_path,
        """
[[capacity]]
kind = "link"
id = "dostyk-aktogay"
factor = -2
""",
        check,
    )
    assert (err.line, err.field) == (9, "capacity.0.factor")
    assert "greater than 0" in err.reason


def test_unknown_link_service_and_crossing(tmp_path, check):
    err = _error(tmp_path, '\n[[capacity]]\nkind = "link"\nid = "nowhere"\nfactor = 2\n', check)
    assert (err.line, err.reason) == (8, "unknown link 'nowhere'")
    err = _error(tmp_path, '\n[[fleet]]\nservice = "noah-ark"\nvessels = 2\n', check)
    assert (err.line, err.field) == (7, "fleet.0.service")
    err = _error(
        tmp_path,
        '\n[[disruption]]\nkind = "border_closed"\ntarget = "x-nowhere"\nstart_day = 1\ndays = 2\n',
        check,
    )
    assert (err.line, err.field) == (8, "disruption.0.target")


def test_demand_without_route(tmp_path, check):
    # trucks only move by road and ro-ro: there is no road from Xi'an
    err = _error(
        tmp_path,
        """
[[flow]]
id = "x"
origin = "xian"
destination = "alat_port"
cargo = "truck"
tonnes_per_year = 10
source = "est-sim-demand"
""",
        check,
    )
    assert err.code == "no_route"
    assert err.field == "flow.0.destination"


def test_malformed_toml_gives_the_line(tmp_path, check):
    err = _error(tmp_path, "\n[[flow]\nid = 1\n", check)
    assert err.code == "malformed"
    assert err.line == 6


def test_unknown_and_missing_fields(tmp_path, check):
    err = _error(tmp_path, "\n[demand]\nscael = 2\n", check)
    assert (err.field, err.reason, err.line) == ("demand.scael", "unknown field", 7)
    with pytest.raises(ScenarioError) as info:
        load_scenario(_write(tmp_path, '[scenario]\nname = "t"\n'), check=check)
    assert info.value.field == "scenario.year"
    assert info.value.reason == "required field is missing"
    assert info.value.line == 1


def test_unknown_base_and_loops(tmp_path, check):
    text = '[scenario]\nname = "a"\nbase = "nothing"\nyear = 2024\n'
    with pytest.raises(ScenarioError) as info:
        load_scenario(_write(tmp_path, text), check=check)
    assert (info.value.field, info.value.line) == ("scenario.base", 3)
    (tmp_path / "a.toml").write_text('[scenario]\nname = "a"\nbase = "b"\nyear = 2024\n')
    (tmp_path / "b.toml").write_text('[scenario]\nname = "b"\nbase = "a"\nyear = 2024\n')
    with pytest.raises(ScenarioError, match="loops"):
        load_scenario("a", directory=tmp_path)


def test_unknown_source_id(tmp_path, check):
    err = _error(tmp_path, '\n[demand]\nscale = 2\nscale_source = "my-uncle"\n', check)
    assert err.reason == "source 'my-uncle' is not in sources.csv"


def test_unknown_scenario_name():
    with pytest.raises(ScenarioError, match="unknown scenario 'nope'"):
        prepare("nope")


def test_text_upload_path(check):
    sc = load_text(HEAD + "\n[demand]\nscale = 2\n", check=check)
    assert sc.total_tonnes() == pytest.approx(9.0e6)


def test_locate_hand_cases():
    text = '[scenario]\nname = "x"\n\n[[flow]]\nid = "a"\n[[flow]]\nid = "b"\norigin = "c"\n'
    assert locate(text, ("scenario", "name")) == 2
    assert locate(text, ("flow", 1, "origin")) == 8
    assert locate(text, ("flow", 1, "cargo")) == 6  # missing key: the table's header
    assert locate(text, ("fleet", 0)) is None
