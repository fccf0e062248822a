"""Errors of route planning: each names the field of the query and the reason."""

from __future__ import annotations


class RoutingError(ValueError):
    """A query that cannot be answered as asked; ``field`` and ``reason`` say why."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


class NoRouteError(RoutingError):
    """The query is well formed but no itinerary meets its constraints."""
