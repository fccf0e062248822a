"""The customs rules around the state machine: who acts where, the guarantee, checks, holds, incidents.

:func:`decide` is the one place that says whether an action on a declaration is allowed and what
it changes. The store reads a declaration, asks :func:`decide`, and writes the :class:`Decision`
back with the log record; it holds no rule of its own. The same functions replay the log in
``verify`` (:func:`replay`), so what the log says and what the table says can be compared.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

from corridor.customs.declaration import DeclarationBody
from corridor.customs.lifecycle import (
    TRANSITIONS,
    Action,
    Party,
    Progress,
    State,
    TransitionError,
    advance,
    check_action,
)
from corridor.customs.offices import OfficeStop
from corridor.customs.risk import Channel, Profile, assess_countries


class CustomsError(ValueError):
    """A customs request that cannot be done: ``code`` (not_found, forbidden, conflict, invalid),
    the ``field`` at fault and the ``reason``, the shape every Corridor error has."""

    def __init__(self, code: str, field: str, reason: str) -> None:
        self.code, self.field, self.reason = code, field, reason
        super().__init__(f"{field}: {reason}")


class GuaranteeState(StrEnum):
    """The transit guarantee: registered with the declaration, held from acceptance, released at
    discharge or cancellation (eTIR and NCTS release the guarantee when the transit ends)."""

    REGISTERED = "registered"
    HELD = "held"
    RELEASED = "released"


class CheckResult(StrEnum):
    CONFORM = "conform"
    NOT_CONFORM = "not_conform"


class IncidentKind(StrEnum):
    SEAL_BROKEN = "seal_broken"
    TRANSSHIPMENT = "transshipment"
    ACCIDENT = "accident"


#: Actions that move the goods on: refused at the office where a check found them not conform.
MOVES_ON = (Action.RELEASE, Action.PASS, Action.DISCHARGE)


@dataclass(frozen=True)
class DutyRate:
    """Duties and taxes at risk in one country, as shares of the declared value."""

    country: str
    vat_share: float
    import_duty_share: float
    source: str

    @property
    def share(self) -> float:
        return self.vat_share + self.import_duty_share


def load_duty_rates(path: Path) -> dict[str, DutyRate]:
    """``customs_duty_rates.csv``: one row per country; a bad row names its line and column."""
    rates: dict[str, DutyRate] = {}
    with path.open(newline="", encoding="utf-8") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            country = row["country"].strip().upper()
            try:
                rate = DutyRate(
                    country,
                    float(row["vat_share"]),
                    float(row["import_duty_share"]),
                    row["source"].strip(),
                )
            except (TypeError, ValueError) as exc:
                raise ValueError(f"{path.name} line {line}: {exc}") from None
            for name in ("vat_share", "import_duty_share"):
                if not 0 <= getattr(rate, name) < 1:
                    raise ValueError(f"{path.name} line {line}: {name} must be a share in [0, 1)")
            if country in rates:
                raise ValueError(f"{path.name} line {line}: country {country} is listed twice")
            rates[country] = rate
    return rates


def check_guarantee(body: DeclarationBody, rate: DutyRate | None) -> None:
    """The guarantee must cover the duties and taxes at risk in the accepting authority's country."""
    if rate is None:
        raise CustomsError(
            "invalid",
            "office_id",
            "no duty rate is configured for this office's country; the guarantee cannot be checked",
        )
    at_risk = body.value * rate.share
    if body.guarantee.amount < at_risk:
        raise CustomsError(
            "invalid",
            "guarantee.amount",
            f"guarantee {body.guarantee.amount:,.2f} {body.guarantee.currency} is below the "
            f"duties at risk {at_risk:,.2f} ({rate.share:.0%} of the declared value in "
            f"{rate.country})",
        )


def assess_all(
    body: DeclarationBody, stops: list[OfficeStop], profiles: list[Profile], incidents: int
) -> dict[str, Any]:
    """The channel, score and reasons at every office of the itinerary (pre-arrival risk)."""
    found = assess_countries(body, profiles, {s.office.country for s in stops}, incidents)
    by_country = {
        country: {"channel": a.channel.value, "score": a.score, "reasons": list(a.reasons)}
        for country, a in found.items()
    }
    return {str(i): by_country[stop.office.country] for i, stop in enumerate(stops)}


def party_for(kind: str, is_holder: bool) -> Party:
    """The party an organisation acts as: a customs authority, or the holder's forwarder."""
    if kind == "customs":
        return Party.CUSTOMS
    if kind == "forwarder" and is_holder:
        return Party.HOLDER
    raise CustomsError(
        "forbidden", "organisation", "only the holder or a customs authority on the route acts"
    )


def office_index(stops: list[OfficeStop], office_id: str | None, country: str | None) -> int:
    """Where a customs officer acts: an office of this itinerary, in the officer's country."""
    if office_id is None:
        raise CustomsError("invalid", "office_id", "a customs action names the office acting")
    index = next((i for i, s in enumerate(stops) if s.office.id == office_id), None)
    if index is None:
        raise CustomsError(
            "invalid", "office_id", f"office {office_id!r} is not on this declaration's itinerary"
        )
    office = stops[index].office
    if office.country != country:
        raise CustomsError(
            "forbidden",
            "office_id",
            f"{office.name} is in {office.country}; your authority acts only at offices in {country}",
        )
    return index


@dataclass(frozen=True)
class Facts:
    """What a decision needs to know about a declaration as stored."""

    state: State
    progress: Progress
    stops: list[OfficeStop]
    channels: dict[int, Channel]
    held: int | None
    guarantee: GuaranteeState
    incidents: int
    body: DeclarationBody


@dataclass(frozen=True)
class Decision:
    """What an allowed action changes, and what its log record says."""

    state: State
    progress: Progress
    held: int | None
    guarantee: GuaranteeState
    incidents: int
    office_index: int | None
    details: dict[str, Any]
    amended: DeclarationBody | None = None
    channels: dict[str, Any] | None = field(default=None)


def decide(
    facts: Facts,
    action: Action,
    party: Party,
    index: int | None,
    details: Mapping[str, Any],
    duty_rates: Mapping[str, DutyRate],
    profiles: list[Profile],
    past_incidents: int = 0,
) -> Decision:
    """Whether ``action`` is allowed now and its effect; CustomsError/TransitionError otherwise."""
    move = check_action(
        facts.state, action, party, index, facts.stops, facts.progress, facts.channels
    )
    if facts.held is not None and action in MOVES_ON and facts.held == index:
        raise CustomsError(
            "conflict",
            "action",
            f"the check at {facts.stops[facts.held].office.name} found the goods not conform: "
            "they are held there and cannot move on",
        )
    logged = dict(details)
    decision = Decision(
        move.state,
        move.progress,
        facts.held,
        facts.guarantee,
        facts.incidents,
        index,
        logged,
    )
    if action is Action.ACCEPT:
        assert index is not None
        check_guarantee(facts.body, duty_rates.get(facts.stops[index].office.country))
    if action is Action.AMEND:
        try:
            amended = DeclarationBody.model_validate(details.get("body", {}))
        except ValueError as exc:
            raise CustomsError("invalid", "details.body", str(exc).splitlines()[-1]) from None
        check_amendment(facts, amended, duty_rates)
        decision = replace(
            decision,
            amended=amended,
            channels=assess_all(amended, facts.stops, profiles, past_incidents),
            details={"body": amended.model_dump(mode="json")},
        )
    if action is Action.CHECK:
        result = str(details.get("result", "")).strip()
        if result not in set(CheckResult):
            raise CustomsError(
                "invalid", "details.result", "a check records result 'conform' or 'not_conform'"
            )
    if action is Action.INCIDENT and details.get("kind") not in set(IncidentKind):
        raise CustomsError(
            "invalid", "details.kind", "an incident is seal_broken, transshipment or accident"
        )
    return effect(decision, facts.state, action, index)


def check_amendment(
    facts: Facts, amended: DeclarationBody, duty_rates: Mapping[str, DutyRate]
) -> None:
    """Whether the holder may still amend: the rules of a customs declaration's amendment.

    As in the Union Customs Code (art. 173) and the common transit convention, a declaration may
    be amended until the office of departure has released the goods, except once customs has
    announced that it will examine them or has found particulars wrong: here, once the departure
    office's channel is yellow or red (the control is announced to the holder at acceptance) or
    it recorded a check. The LRN identifies the declaration in the holder's own system and cannot
    change once lodged. After acceptance the guarantee is already held against the departure
    country's duties, so an amended declaration must still be covered by it.
    """
    if facts.state is State.ACCEPTED:
        departure = facts.channels.get(0)
        if facts.progress.checked or departure in (Channel.YELLOW, Channel.RED):
            channel = departure.value if departure is not None else "green"
            raise TransitionError(
                facts.state,
                Action.AMEND,
                f"the office of departure has announced a control ({channel} channel); "
                "a declaration under control cannot be amended",
            )
    if facts.state is not State.DRAFT and amended.lrn != facts.body.lrn:
        raise CustomsError(
            "invalid", "lrn", f"the LRN {facts.body.lrn!r} cannot change once lodged"
        )
    if facts.state is State.ACCEPTED:
        check_guarantee(amended, duty_rates.get(facts.stops[0].office.country))


def effect(decision: Decision, before: State, action: Action, index: int | None) -> Decision:
    """The guarantee, hold and incident count after an action (used live and in replay)."""
    guarantee, held, incidents = decision.guarantee, decision.held, decision.incidents
    if action is Action.ACCEPT:
        guarantee = GuaranteeState.HELD
    if action in (Action.DISCHARGE, Action.CANCEL) and guarantee is not GuaranteeState.RELEASED:
        guarantee = GuaranteeState.RELEASED
    if action is Action.CHECK and decision.details.get("result") == CheckResult.NOT_CONFORM:
        held = index
    if action is Action.INCIDENT:
        incidents += 1
    return replace(decision, guarantee=guarantee, held=held, incidents=incidents)


class ReplayError(ValueError):
    """A log record that the state machine never allows where it stands."""

    def __init__(self, seq: int, reason: str) -> None:
        self.seq, self.reason = seq, reason
        super().__init__(f"record {seq}: {reason}")


@dataclass(frozen=True)
class Derived:
    """A declaration as its log records say it must be."""

    state: State
    position: int
    arrived: bool
    checked: bool
    guarantee: GuaranteeState
    incidents: int
    held: int | None
    last_seq: int


def replay(
    records: Iterable[tuple[int, str, int | None, dict[str, Any]]], destination: int
) -> Derived:
    """Re-derive a declaration from its log records ``(seq, action, office index, details)``.

    The first record is the draft; every later one is applied with the live rules' effects
    (:func:`corridor.customs.lifecycle.advance` and :func:`effect`). Raises ReplayError naming the
    record when the log holds a move the state machine never allows.
    """
    state, progress = State.DRAFT, Progress(0, False, False)
    decision = Decision(state, progress, None, GuaranteeState.REGISTERED, 0, None, {})
    last = 0
    for seq, name, index, details in records:
        last = seq
        if name == "draft":
            continue
        try:
            action = Action(name)
        except ValueError:
            raise ReplayError(seq, f"unknown action {name!r}") from None
        if (state, action) not in TRANSITIONS:
            raise ReplayError(seq, f"{action.value} is never allowed in state {state.value}")
        move = advance(state, action, index, progress, destination)
        decision = effect(
            replace(decision, state=move.state, progress=move.progress, details=details),
            state,
            action,
            index,
        )
        state, progress = move.state, move.progress
    return Derived(
        state,
        progress.position,
        progress.arrived,
        progress.checked,
        decision.guarantee,
        decision.incidents,
        decision.held,
        last,
    )


__all__ = [
    "CheckResult",
    "CustomsError",
    "Decision",
    "Derived",
    "DutyRate",
    "Facts",
    "GuaranteeState",
    "IncidentKind",
    "ReplayError",
    "TransitionError",
    "assess_all",
    "check_amendment",
    "check_guarantee",
    "decide",
    "load_duty_rates",
    "office_index",
    "party_for",
    "replay",
]
