"""One rule for every text a user sends: no control characters.

NUL in particular is silently stored by SQLite and refused by PostgreSQL; neither belongs in a
customs record or a shipment reference.
"""

from __future__ import annotations

import re
from typing import Any

#: The control characters (below U+0020) other than tab, line feed and carriage return.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def reject_control_characters(data: Any, path: str = "") -> Any:
    """``data`` unchanged, or ValueError naming the first field that holds a control character."""
    if isinstance(data, str):
        if _CONTROL.search(data):  # (one regular expression: a loop per character cost more)
            raise ValueError(f"{path or 'text'}: control characters are not allowed")
    elif isinstance(data, dict):
        for key, value in data.items():
            reject_control_characters(value, f"{path}.{key}" if path else str(key))
    elif isinstance(data, list | tuple):
        for i, value in enumerate(data):
            reject_control_characters(value, f"{path}[{i}]")
    return data
