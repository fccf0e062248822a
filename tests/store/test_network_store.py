"""The stored network read back: validated once per process while the stored dataset is unchanged."""

from __future__ import annotations

import shutil

from corridor.settings import PACKAGE_DATA_DIR
from corridor.store.db import Database
from corridor.store.migrate import upgrade
from corridor.store.network import import_network, load_stored_network


def test_the_same_stored_dataset_is_read_once_and_a_new_import_is_read_again(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(PACKAGE_DATA_DIR, data, ignore=shutil.ignore_patterns("__pycache__"))
    one, two = (Database(f"sqlite:///{tmp_path / name}.db") for name in ("one", "two"))
    for db in (one, two):
        upgrade(db)
        with db.session() as s:
            assert import_network(s, data)
    with one.session() as s:
        first = load_stored_network(s, data)
    with two.session() as s:  # another database holding the same dataset
        assert load_stored_network(s, data) is first
    # a changed dataset is imported with its own fingerprint, and read back as itself
    nodes = data / "nodes.csv"
    rows = nodes.read_text(encoding="utf-8").splitlines()
    header, row = rows[0].split(","), rows[1].split(",")
    column = header.index("name")
    old_name, row[column] = row[column], "Renamed node"
    nodes.write_text("\n".join([rows[0], ",".join(row), *rows[2:]]) + "\n", encoding="utf-8")
    with two.session() as s:
        assert import_network(s, data)
    with two.session() as s:
        changed = load_stored_network(s, data)
    assert changed is not first
    assert changed.nodes[row[0]].name == "Renamed node"
    assert first.nodes[row[0]].name == old_name
    with one.session() as s:  # the first database still holds the first dataset
        assert load_stored_network(s, data) is first
    for db in (one, two):
        db.dispose()
