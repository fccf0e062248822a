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


def _has_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def check(value: Any, max_depth: int = MAX_DEPTH) -> None:
    """Refuse deep nesting, non-finite numbers and lone surrogates, naming the first place."""
    stack: list[tuple[Any, str, int]] = [(value, "$", 0)]
    while stack:
        item, path, depth = stack.pop()
        if isinstance(item, dict):
            if depth >= max_depth:
                raise TrackingError("invalid", path, f"nested deeper than {max_depth} levels")
            for key, child in item.items():
                if _has_surrogate(key):
                    raise TrackingError("invalid", path, "a key holds a lone surrogate")
                if isinstance(child, dict | list):
                    stack.append((child, f"{path}.{key}", depth + 1))
                else:
                    _scalar(child, f"{path}.{key}")
        elif isinstance(item, list):
            if depth >= max_depth:
                raise TrackingError("invalid", path, f"nested deeper than {max_depth} levels")
            for i, child in enumerate(item):
                if isinstance(child, dict | list):
                    stack.append((child, f"{path}[{i}]", depth + 1))
                else:
                    _scalar(child, f"{path}[{i}]")
        else:
            _scalar(item, path)


def _scalar(value: Any, path: str) -> None:
    if isinstance(value, float) and not math.isfinite(value):
        raise TrackingError("invalid", path, "numbers must be finite (no NaN, Infinity or 1e309)")
    if isinstance(value, str) and _has_surrogate(value):
        raise TrackingError("invalid", path, "text holds a lone surrogate (not valid Unicode)")
