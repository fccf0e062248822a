"""The one error of the capacity domain: a code, the field at fault and the reason, for 4xx answers."""

from __future__ import annotations

from typing import Any

from corridor.errors import CorridorError


class CapacityError(CorridorError):
    """Raised for every refused capacity request; nothing has been written when it is raised.

    ``code`` maps to an HTTP status in the API (``invalid`` 422, ``not_found`` 404, ``forbidden``
    403, ``conflict``/``full``/``expired`` 409, ``departed`` 422 like other invalid requests) and to
    exit code 1 or 2 in the CLI.
    ``detail`` carries extra data the client can act on, such as the next sailings with room.
    """

    def __init__(
        self, code: str, field: str | None, reason: str, detail: dict[str, Any] | None = None
    ) -> None:
        super().__init__(code, field, reason)
        self.detail = detail or {}
