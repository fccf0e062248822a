"""The one error type of Corridor: a request that cannot be done, as (code, field, reason).

Domains raise it (or a subclass) without knowing about HTTP; ``api/errors.py`` turns it into
``{"error": {"code", "field", "reason"}}`` with the status that ``STATUS`` gives the code, in one
handler. The codes are a closed vocabulary so that clients can branch on them: a new code is added
here with its status. A domain may use a finer code of its own (a scenario file that is
``malformed``); a code missing from the table answers 422, the status of a request that cannot be
done as sent.
"""

from __future__ import annotations

#: HTTP status of each error code. Domains never see the numbers; only the API layer uses them.
STATUS: dict[str, int] = {
    "malformed_json": 400,
    "too_deep": 400,
    "unauthorized": 401,
    "forbidden": 403,
    "not_found": 404,
    "method_not_allowed": 405,
    "conflict": 409,
    "full": 409,  # no room left (a sailing, an hour at a checkpoint); the body lists what has room
    "expired": 409,  # a hold confirmed after its time ran out
    "too_large": 413,
    "unsupported_media_type": 415,
    "invalid": 422,
    "no_route": 422,
    "rate_limited": 429,
    "unavailable": 503,
}


class CorridorError(ValueError):
    """A request that cannot be done: ``code`` says what kind, ``field`` where, ``reason`` why.

    ``retry_after_s`` is set when trying again later may succeed (rate limits, saturation).
    ``validation`` is set for a request-validation error: the validator's error type and its
    parameters, so that the reason can be worded in the caller's language from a catalogue.
    It subclasses ValueError so that code written against the older per-domain errors, which were
    ValueErrors, keeps working.
    """

    def __init__(
        self,
        code: str,
        field: str | None,
        reason: str,
        *,
        retry_after_s: float | None = None,
    ) -> None:
        self.code = code
        self.field = field
        self.reason = reason
        self.retry_after_s = retry_after_s
        self.validation: tuple[str, dict[str, object]] | None = None
        super().__init__(f"{field}: {reason}" if field else reason)

    @property
    def status(self) -> int:
        """The HTTP status the API answers with (the API layer is its only reader)."""
        return STATUS.get(self.code, 422)
