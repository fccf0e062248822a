"""The mode capability table: every mode has a row, and the rows drive validation."""

import pytest
from pydantic import ValidationError

from corridor.network import CAPABILITIES, Mode, capability
from corridor.network.model import Link, Service
from corridor.network.summary import by_mode


def test_every_mode_has_a_capability_row():
    assert set(CAPABILITIES) == set(Mode)
    for mode, cap in CAPABILITIES.items():
        assert cap.mode is mode
        assert cap.style.color.startswith("#")
        assert cap.max_detour >= 1.0


def test_a_gauge_bound_mode_needs_a_gauge_and_a_scheduled_one_a_vehicle_on_its_service():
    base = {"id": "a-b", "from_node": "a", "to_node": "b"}
    gauged = [m for m in Mode if capability(m).gauge]
    assert gauged == [Mode.RAIL]
    with pytest.raises(ValidationError, match="gauge_mm"):
        Link.model_validate({**base, "mode": "rail", "speed_kmh": 40, "speed_source": ("s",)})
    for mode in Mode:
        if capability(mode).scheduled:
            Link.model_validate({**base, "mode": mode.value})  # runs only on services
            with pytest.raises(ValidationError, match="vehicle"):
                Service.model_validate(
                    {
                        "id": "s",
                        "name": "S",
                        "mode": mode.value,
                        "stops": ("a", "b"),
                        "source": ("s",),
                    }
                )
        else:
            with pytest.raises(ValidationError, match="speed_kmh"):
                Link.model_validate({**base, "mode": mode.value, "gauge_mm": 1520})


def test_summary_rows_follow_the_table(network):
    rows = by_mode(network)
    assert [r.mode for r in rows] == [m.value for m in CAPABILITIES if m in {r.mode for r in rows}]
    ferry = next(r for r in rows if r.mode == "ferry")
    assert ferry.scheduled
    assert not ferry.runs_on
    assert ferry.services > 0
