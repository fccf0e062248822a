"""The planner kept on disk between command-line runs.

Building the timetable and the planner's indexes is most of the work of a `corridor route`; the CLI
starts a new process every time, so it keeps the built planner in a pickle named after the dataset's
fingerprint and the timetable window. Any change to a dataset file changes the fingerprint, so a
stale planner is never used; old files are removed when a new one is written.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from datetime import datetime
from pathlib import Path

from corridor.network import Network, load_network
from corridor.network.dataset import dataset_fingerprint
from corridor.routing.plan import build_planner, window_start
from corridor.routing.search import Planner
from corridor.settings import get_settings


def _code_stamp() -> str:
    """Size and modification time of the planner's own modules: a pickle of an older planner
    class is never loaded into newer code."""
    parts = []
    for package in (Path(__file__).parent, Path(__file__).parent.parent / "network"):
        for module in sorted(package.glob("*.py")):
            stat = module.stat()
            parts.append(f"{module.name}:{stat.st_size}:{stat.st_mtime_ns}")
    return ";".join(parts)


def cache_dir() -> Path:
    settings = get_settings()
    return settings.plan_cache_dir or settings.var_dir / "plan-cache"


def cached_planner(network: Network, ready: datetime, directory: Path | None = None) -> Planner:
    """The planner for ``ready``'s window, loaded from ``directory`` or built and saved there."""
    return planner_for_dataset(network.directory, ready, directory, network)


def planner_for_dataset(
    dataset: Path,
    ready: datetime,
    directory: Path | None = None,
    network: Network | None = None,
) -> Planner:
    """The planner (with its network) for the dataset in ``dataset`` and ``ready``'s window.

    A cached planner is used only when its file name carries the fingerprint of the dataset's
    files as they are now, so the CLI neither re-reads and re-validates the CSV files nor rebuilds
    the timetable unless something changed. Raises DatasetError when the dataset must be loaded
    and has problems.
    """
    directory = directory or cache_dir()
    key = hashlib.sha256((dataset_fingerprint(dataset) + _code_stamp()).encode()).hexdigest()
    name = f"{key[:16]}-{window_start(ready):%Y%m%d}.pickle"
    path = directory / name
    if path.is_file():
        try:
            with path.open("rb") as handle:
                cached = pickle.load(handle)
            if isinstance(cached, Planner):
                return cached
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
            pass  # a broken or outdated cache file is rebuilt below
    if network is None:
        network = load_network(dataset)
    planner = build_planner(network, ready)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("wb", dir=directory, delete=False) as out:
            pickle.dump(planner, out, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(out.name, path)
        for old in directory.glob("*.pickle"):
            if not old.name.startswith(name[:16]):
                old.unlink(missing_ok=True)  # built from a dataset that has changed since
    except OSError:
        pass  # a read-only disk only costs the rebuild next time
    return planner
