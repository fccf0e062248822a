"""The registry of job kinds: a name and the function that does the work.

Kinds are registered by dotted path ("package.module:function") so that the web process never
imports a heavy domain (PyPSA, Dask) just to queue its work: the consumer imports it when it runs.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

Progress = Callable[[float, str], None]
JobFunction = Callable[[dict[str, Any], Progress], dict[str, Any]]

#: The platform's own kinds, by path: known to every process (API workers and ``corridor worker``)
#: without importing the domains that do the work.
_KINDS: dict[str, str | JobFunction] = {
    "simulation": "corridor.simulation.runner:run",
    "energy.run": "corridor.energy.run:run",
    "energy.n1": "corridor.energy.run:n1_job",
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


def known(kind: str) -> bool:
    return kind in _KINDS


def resolve(kind: str) -> JobFunction:
    """The function behind ``kind``, imported on first use."""
    try:
        target = _KINDS[kind]
    except KeyError:
        raise JobError("unknown_kind", "kind", f"no job kind {kind!r}") from None
    if isinstance(target, str):
        module, _, name = target.partition(":")
        function: JobFunction = getattr(importlib.import_module(module), name)
        _KINDS[kind] = function
        return function
    return target
