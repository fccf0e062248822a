from __future__ import annotations

from datetime import UTC, datetime

import pytest

from corridor.network import load_network
from corridor.routing import Planner, Timetable
from tests.routing import mini

#: A Monday.
MONDAY = datetime(2026, 3, 2, tzinfo=UTC)


@pytest.fixture
def mini_net(tmp_path):
    return load_network(mini.build(tmp_path / "mini"))


@pytest.fixture
def mini_planner(mini_net):
    return Planner(Timetable(mini_net, MONDAY, days=30))
