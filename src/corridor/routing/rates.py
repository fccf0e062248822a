"""Charges on top of the line-haul tariffs: port handling, gauge change, border and port dues.

They live in a rate table (``rates.csv`` in the dataset, or a file the user loads for this month's
rates) rather than in code, each row with its validity dates and its source, because these charges
change every few months and a forwarder must be able to replace them without a release. A row names
what it applies to (``at``: a crossing id or a node id) and what it is (``kind``); the planner adds
it each time a consignment passes there.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from pathlib import Path

from corridor.network.problems import Problem


class ChargeKind(StrEnum):
    HANDLING = "handling"  # lifting boxes between vehicles at a terminal or port
    GAUGE_CHANGE = "gauge_change"  # moving boxes (or bogies) between gauges
    BORDER = "border"  # border, customs-transit and inspection fees
    PORT = "port"  # port dues and terminal charges for a sea or ferry call


class ChargeUnit(StrEnum):
    TEU = "teu"
    CONTAINER = "container"
    WAGON = "wagon"
    CONSIGNMENT = "consignment"


#: Currencies the planner can add up; all its costs are in US dollars.
CURRENCIES = frozenset({"USD"})
REQUIRED = ("id", "kind", "at", "amount", "currency", "unit", "valid_from", "valid_to", "source")


@dataclass(frozen=True, slots=True)
class Charge:
    id: str
    kind: ChargeKind
    at: str
    amount: float
    unit: ChargeUnit
    valid_from: date
    valid_to: date
    source: tuple[str, ...]


class RateTableError(ValueError):
    """A rate table that cannot be used; ``problems`` name file, line, field and reason."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        first = problems[0]
        self.field = first.field or "rates"
        self.reason = str(first)
        super().__init__("; ".join(str(p) for p in problems))


@dataclass(frozen=True)
class RateTable:
    """Charges by the crossing or node they apply to; only rows valid on the planning date count."""

    charges: tuple[Charge, ...]
    name: str = "rates.csv"

    def at(self, place: str, on: date) -> list[Charge]:
        return [c for c in self.charges if c.at == place and c.valid_from <= on <= c.valid_to]


def _date(text: str, name: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{name}: {text!r} is not a date (YYYY-MM-DD)") from None


def read_rates(
    path: Path, *, today: date | None = None, places: set[str] | None = None
) -> RateTable:
    """Read and check a rate table; raise :class:`RateTableError` listing every bad row.

    With ``today``, a row whose validity ended before that day is refused (a user loading this
    month's rates must not plan on last year's by mistake). With ``places``, ``at`` must name one.
    """
    name = path.name
    if not path.is_file():
        raise RateTableError([Problem(name, None, None, None, f"file not found: {path}")])
    problems: list[Problem] = []
    charges: list[Charge] = []
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
        if missing:
            raise RateTableError(
                [Problem(name, 1, None, None, f"missing column(s): {', '.join(missing)}")]
            )
        seen: set[str] = set()
        for row in reader:
            line = reader.line_num
            cells = {k: (v or "").strip() for k, v in row.items() if k is not None}
            if not any(cells.values()):
                continue
            rid = cells["id"] or None

            def bad(fld: str, reason: str, rid: str | None = rid, line: int = line) -> None:
                problems.append(Problem(name, line, rid, fld, reason))

            try:
                charge = _row(cells, today)
            except ValueError as exc:
                fld, _, reason = str(exc).partition(": ")
                bad(fld, reason)
                continue
            if charge.id in seen:
                bad("id", "duplicate id")
                continue
            seen.add(charge.id)
            if places is not None and charge.at not in places:
                bad("at", f"unknown crossing or node {charge.at!r}")
                continue
            charges.append(charge)
    if problems:
        raise RateTableError(problems)
    return RateTable(tuple(charges), name)


def _row(cells: dict[str, str], today: date | None) -> Charge:
    for fld in REQUIRED:
        if not cells.get(fld):
            what = "currency (e.g. USD)" if fld == "currency" else fld
            raise ValueError(f"{fld}: missing {what}")
    try:
        kind = ChargeKind(cells["kind"])
    except ValueError:
        raise ValueError(
            f"kind: {cells['kind']!r} is not one of {', '.join(k.value for k in ChargeKind)}"
        ) from None
    try:
        unit = ChargeUnit(cells["unit"])
    except ValueError:
        raise ValueError(
            f"unit: {cells['unit']!r} is not one of {', '.join(u.value for u in ChargeUnit)}"
        ) from None
    try:
        amount = float(cells["amount"])
    except ValueError:
        raise ValueError(f"amount: {cells['amount']!r} is not a number") from None
    if amount < 0:
        raise ValueError(f"amount: a charge cannot be negative ({amount:g})")
    currency = cells["currency"].upper()
    if currency not in CURRENCIES:
        raise ValueError(
            f"currency: {currency} cannot be added to the planner's costs; give amounts in USD"
        )
    start = _date(cells["valid_from"], "valid_from")
    end = _date(cells["valid_to"], "valid_to")
    if end < start:
        raise ValueError("valid_to: the validity ends before it starts")
    if today is not None and end < today:
        raise ValueError(f"valid_to: the rate expired on {end.isoformat()}")
    source = tuple(s.strip() for s in cells["source"].split(";") if s.strip())
    return Charge(cells["id"], kind, cells["at"], amount, unit, start, end, source)


def shipped_rates(directory: Path) -> RateTable:
    """The dataset's own rate table (empty when the dataset has none)."""
    path = directory / "rates.csv"
    if not path.is_file():
        return RateTable(())
    return read_rates(path)
