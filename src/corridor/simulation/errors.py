"""The one error the simulation raises for bad input: where it is (file, line), which field, why."""

from __future__ import annotations


class ScenarioError(ValueError):
    """A scenario cannot be run. ``code`` is machine-readable; ``field`` and ``reason`` are for people.

    The shape ``(code, field, reason)`` is the project's domain-error shape, so the API maps it to
    ``{"error": {...}}`` with a 4xx status and the CLI prints it with the file and line.
    """

    def __init__(
        self,
        code: str,
        field: str | None,
        reason: str,
        file: str | None = None,
        line: int | None = None,
    ) -> None:
        self.code, self.field, self.reason, self.file, self.line = code, field, reason, file, line
        super().__init__(str(self))

    def __str__(self) -> str:
        where = ""
        if self.file:
            where = self.file if self.line is None else f"{self.file}:{self.line}"
            where += ": "
        field = f"field {self.field!r}: " if self.field else ""
        return f"{where}{field}{self.reason}"
