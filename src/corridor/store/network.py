"""The network dataset inside the database: imported once, read back as a validated Network."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from corridor.network import Network, load_network
from corridor.network.dataset import dataset_fingerprint
from corridor.store.models import Meta, NetworkRecord

KINDS = ("sources", "nodes", "links", "services", "crossings", "corridors", "emission_factors")


def import_network(session: Session, directory: Path) -> bool:
    """Store the dataset of ``directory`` (validated first) unless that exact dataset is stored.

    Returns True when it (re)imported. A dataset with problems raises DatasetError and the
    stored network stays as it was.
    """
    fingerprint = dataset_fingerprint(directory)
    stored = session.get(Meta, "network_fingerprint")
    if stored is not None and stored.value == fingerprint:
        return False
    network = load_network(directory)
    session.execute(delete(NetworkRecord))
    for kind in KINDS:
        for record_id, record in getattr(network, kind).items():
            session.add(
                NetworkRecord(kind=kind, record_id=record_id, data=record.model_dump(mode="json"))
            )
    if stored is None:
        session.add(Meta(key="network_fingerprint", value=fingerprint))
    else:
        stored.value = fingerprint
    session.flush()
    return True


def stored_records(session: Session, kind: str) -> dict[str, dict[str, Any]]:
    rows = session.scalars(
        select(NetworkRecord).where(NetworkRecord.kind == kind).order_by(NetworkRecord.id)
    )
    return {row.record_id: row.data for row in rows}


#: Networks already read back in this process, by the fingerprint stored with the records and
#: the directory: several apps over one database in a process (a test run builds hundreds) each
#: read and validated the same 2,400 records again, about 21 ms of CPU (benchmarks/overheads.py). The records change only
#: through `import_network`, which stores the new fingerprint in the same transaction, and a
#: loaded network is a frozen value that callers share.
_LOADED: dict[tuple[str, str], Network] = {}
_LOADED_MAX = 4


def load_stored_network(session: Session, directory: Path) -> Network:
    """The stored network, rebuilt and validated through the same models as the files."""
    from corridor.network import model
    from corridor.network.dataset import Network as NetworkClass

    stored = session.get(Meta, "network_fingerprint")
    key = (stored.value, str(directory)) if stored is not None else None
    if key is not None and (known := _LOADED.get(key)) is not None:
        return known
    classes: dict[str, Any] = {
        "sources": model.Source,
        "nodes": model.Node,
        "links": model.Link,
        "services": model.Service,
        "crossings": model.Crossing,
        "corridors": model.Corridor,
        "emission_factors": model.EmissionFactor,
    }
    parts = {
        kind: {
            rid: classes[kind].model_validate(data)
            for rid, data in stored_records(session, kind).items()
        }
        for kind in KINDS
    }
    if not parts["nodes"]:
        raise LookupError("no network stored: import one first")
    network = NetworkClass(directory=directory, **parts)
    if key is not None:
        while len(_LOADED) >= _LOADED_MAX:
            _LOADED.pop(next(iter(_LOADED)), None)
        _LOADED[key] = network
    return network
