from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from corridor.network import Network, load_network
from corridor.settings import PACKAGE_DATA_DIR


@pytest.fixture(scope="session")
def network() -> Network:
    """The shipped corridor network, loaded once."""
    return load_network(PACKAGE_DATA_DIR)


@pytest.fixture
def dataset_dir(tmp_path: Path) -> Path:
    """A private, editable copy of the shipped dataset."""
    target = tmp_path / "data"
    shutil.copytree(PACKAGE_DATA_DIR, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target
