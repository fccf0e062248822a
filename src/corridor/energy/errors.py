"""The energy domain's one error shape: a code, the field (or file place) and the reason.

The CLI prints it and the API maps it to ``{"error": {"code", "field", "reason"}}`` with a 4xx status,
so bad input never becomes a traceback or a 500.
"""

from __future__ import annotations

from corridor.network.problems import Problem


class EnergyError(ValueError):
    """Bad input to the energy model: an unknown asset, scenario or bus, a bad window or value."""

    def __init__(self, code: str, field: str | None, reason: str) -> None:
        self.code, self.field, self.reason = code, field, reason
        super().__init__(f"{field}: {reason}" if field else reason)


class EnergyDataError(EnergyError):
    """The energy data files (or a scenario file) have problems; ``problems`` lists every one."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems)
        first = self.problems[0]
        field = f"{first.file}:{first.line}" if first.line else first.file
        lines = "\n".join(f"  {p}" for p in self.problems[:20])
        super().__init__("invalid_data", field, f"{len(self.problems)} problem(s):\n{lines}")
