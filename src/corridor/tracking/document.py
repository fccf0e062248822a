"""Reading a document from bytes with limits, so bad input is a 4xx and never a 500 or a stall.

``orjson`` parses (it refuses NaN, Infinity and invalid UTF-8 itself); a single iterative walk then
refuses what it lets through and what would break later: nesting deeper than ``max_depth`` (the
schema validator and the JSON column recurse), numbers that are not finite (``1e309``), and lone
surrogates (PostgreSQL's JSON and every UTF-8 encoder refuse them, so a stored one would fail
every later read).
"""

from __future__ import annotations

import math
from typing import Any

import orjson

from corridor.tracking.errors import TrackingError

#: Deepest nesting accepted; real EPCIS documents stay under 15 (sensor reports are the deepest).
MAX_DEPTH = 64
_CONTAINERS = (dict, list)


def parse(raw: bytes, max_depth: int = MAX_DEPTH) -> Any:
    """The JSON value of ``raw``, checked by :func:`check`."""
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        reason = str(exc)
        if "recursion" in reason.lower():
            reason = f"nested deeper than {max_depth} levels"
        raise TrackingError("invalid", "$", f"not JSON: {reason}"[:300]) from None
    check(value, max_depth)
    return value


def check(value: Any, max_depth: int = MAX_DEPTH) -> None:
    """Refuse nesting deeper than ``max_depth``, naming the first place.

    (orjson has already refused NaN, Infinity, 1e309 and lone surrogates, so only containers are
    walked; :func:`check_scalars` does the rest for values that did not come through orjson.)
    """
    # Level by level: one list per level, no tuple per container (a third of the time of a
    # depth-first walk on a document of 1,000 events).
    level = [value] if isinstance(value, _CONTAINERS) else []
    depth = 0
    while level:
        if depth >= max_depth:
            raise TrackingError(
                "invalid", _path_to(value, level[0]), f"nested deeper than {max_depth} levels"
            )
        below: list[Any] = []
        for item in level:
            for child in item.values() if isinstance(item, dict) else item:
                if isinstance(child, _CONTAINERS):
                    below.append(child)
        level = below
        depth += 1


def _path_to(root: Any, target: Any) -> str:
    """The JSON path of ``target`` inside ``root`` (only walked once, on the way to an error)."""
    stack: list[tuple[Any, str]] = [(root, "$")]
    while stack:
        item, path = stack.pop()
        if item is target:
            return path
        if isinstance(item, dict):
            stack += [(v, f"{path}.{k}") for k, v in item.items() if isinstance(v, dict | list)]
        elif isinstance(item, list):
            stack += [(v, f"{path}[{i}]") for i, v in enumerate(item) if isinstance(v, dict | list)]
    return "$"


def check_scalars(value: Any) -> None:
    """Refuse non-finite numbers and lone surrogates in a value not parsed by orjson."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack += list(item.keys()) + list(item.values())
        elif isinstance(item, list):
            stack += item
        elif isinstance(item, float) and not math.isfinite(item):
            raise TrackingError(
                "invalid", "$", "numbers must be finite (no NaN, Infinity or 1e309)"
            )
        elif isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                raise TrackingError("invalid", "$", "text holds a lone surrogate") from None
