"""The corridor network as data: nodes, links, schedules, crossings and named corridors.

``load_network()`` gives a validated :class:`Network`; ``check_dataset()`` lists every problem of a
dataset directory without raising, for editors of the files.
"""

from corridor.network.dataset import Network, check_dataset, load_network
from corridor.network.model import (
    Corridor,
    CorridorFamily,
    Crossing,
    CrossingKind,
    Dwell,
    DwellDirection,
    EmissionFactor,
    Link,
    Node,
    NodeKind,
    Sailing,
    Service,
    Source,
    StormClosure,
)
from corridor.network.modes import CAPABILITIES, MapStyle, Mode, ModeCapability, capability
from corridor.network.problems import DatasetError, Problem

__all__ = [
    "CAPABILITIES",
    "Corridor",
    "CorridorFamily",
    "Crossing",
    "CrossingKind",
    "DatasetError",
    "Dwell",
    "DwellDirection",
    "EmissionFactor",
    "Link",
    "MapStyle",
    "Mode",
    "ModeCapability",
    "Network",
    "Node",
    "NodeKind",
    "Problem",
    "Sailing",
    "Service",
    "Source",
    "StormClosure",
    "capability",
    "check_dataset",
    "load_network",
]
