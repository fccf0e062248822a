"""The registry of job kinds: a name and the function that does the work.

Kinds are registered by dotted path ("package.module:function") so that the web process never
imports a heavy domain (PyPSA, Dask) just to queue its work: the consumer imports it when it runs.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from corridor.settings import Settings
    from corridor.store.db import Database

Progress = Callable[[float, str], None]
JobFunction = Callable[[dict[str, Any], Progress], dict[str, Any]]
#: A kind that works on stored data (an EPCIS capture) also gets the consumer's database and
#: settings: a ``corridor worker`` on another machine has its own connection to the same database.
StoredJobFunction = Callable[[dict[str, Any], Progress, "Database", "Settings"], dict[str, Any]]

#: The platform's own kinds, by path: known to every process (API workers and ``corridor worker``)
#: without importing the domains that do the work.
_KINDS: dict[str, str | JobFunction] = {
    "simulation": "corridor.simulation.runner:run",
    "energy.run": "corridor.energy.run:run",
    "energy.n1": "corridor.energy.run:n1_job",
}
_STORED_KINDS: dict[str, str | StoredJobFunction] = {
    "epcis.capture": "corridor.store.tracking_jobs:run_job",
}


class JobError(Exception):
    """A job that failed for a reason its user can act on (stored as code, field, reason)."""

    def __init__(self, code: str, field: str | None, reason: str) -> None:
        self.code, self.field, self.reason = code, field, reason
        super().__init__(reason)


def register(kind: str, target: str | JobFunction) -> None:
    """Make ``kind`` runnable; ``target`` is a function or its "module:function" path."""
    if not kind or len(kind) > 40:
        raise ValueError(f"job kind must be 1-40 characters: {kind!r}")
    _KINDS[kind] = target


def register_stored(kind: str, target: str | StoredJobFunction) -> None:
    """Make ``kind`` runnable by a function that also takes the database and the settings."""
    if not kind or len(kind) > 40:
        raise ValueError(f"job kind must be 1-40 characters: {kind!r}")
    _STORED_KINDS[kind] = target


#: Kinds a client waits for (seconds, not hours): they run on the interactive lane.
_INTERACTIVE = {"epcis.capture"}


def interactive(kind: str) -> bool:
    """True for kinds that run on the interactive lane (see ``JobQueue``)."""
    return kind in _INTERACTIVE


def known(kind: str) -> bool:
    return kind in _KINDS or kind in _STORED_KINDS


def _load(target: str) -> Any:
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


def resolve_stored(kind: str) -> StoredJobFunction | None:
    """The function behind a stored-data ``kind`` (imported on first use), or None."""
    target = _STORED_KINDS.get(kind)
    if isinstance(target, str):
        function: StoredJobFunction = _load(target)
        _STORED_KINDS[kind] = function
        return function
    return target


def resolve(kind: str) -> JobFunction:
    """The function behind ``kind``, imported on first use."""
    try:
        target = _KINDS[kind]
    except KeyError:
        raise JobError("unknown_kind", "kind", f"no job kind {kind!r}") from None
    if isinstance(target, str):
        function: JobFunction = _load(target)
        _KINDS[kind] = function
        return function
    return target
