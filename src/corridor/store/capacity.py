"""Capacity bookings in the database: holds that cannot overbook, carriers' decisions, waitlists.

Every change of a slot's counters is one conditional UPDATE (``... WHERE held + confirmed + n <=
capacity AND departed_at IS NULL``) backed by the CHECK constraint of ``cap_slots``: two bookers racing for the last wagon
cannot both win, on SQLite (one writer at a time) or PostgreSQL (the row lock the UPDATE takes).
A sailing the carrier reported departed (early or not) takes nothing more, decided by the same
statement: the departure sets ``departed_at`` under the slot's row lock.
Every change of a booking's state is conditional on the state it was read in, so two carriers'
clerks acting at once get one winner and one 409. An itinerary's legs are taken in one
transaction, in slot-id order (no deadlock between two multi-leg bookings): all legs or none.
"""

from __future__ import annotations

import copy
import itertools
import threading
import uuid
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import (
    Engine,
    Integer,
    bindparam,
    exists,
    func,
    insert,
    inspect,
    literal,
    null,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from corridor.capacity import CapacityData, CapacityError, CargoKind, load_capacity
from corridor.capacity.crossings import (
    PATHS_PER_BOOKING,
    CrossingPass,
    crossing_key,
    rail_crossings,
)
from corridor.capacity.crossings import UNIT as CROSSING_UNIT
from corridor.capacity.dispatch import Line
from corridor.capacity.ferry import DepartureEstimate, FerryRule, estimate_departure
from corridor.capacity.holds import (
    CARRIER_ACTIONS,
    OCCUPYING,
    Action,
    State,
    check_bookable,
    check_on_board,
    hold_expiry,
    promotable,
    transition,
)
from corridor.capacity.model import DepartureRule
from corridor.capacity.planning import Taken, blocked, mark_taken
from corridor.capacity.schedule import Departure, departures, minute, slot_key
from corridor.disruptions import ElementRef, Notice, NoticeStatus, capacity_factor, in_effect
from corridor.network import Network
from corridor.routing import Criterion, Itinerary, Query, best, planner_for
from corridor.routing.plan import plan as plan_itineraries
from corridor.store import disruptions as notices_store
from corridor.store.accounts import Principal
from corridor.store.accounts import now as clock
from corridor.store.capacity_moments_tables import CapDeparture, CapLoading
from corridor.store.capacity_tables import (
    CapBooking,
    CapEvent,
    CapNotice,
    CapSlot,
)
from corridor.store.db import RETRYABLE_SQLSTATES, CommitUncertain
from corridor.store.disruptions import operators_of
from corridor.store.disruptions_tables import NoticeElementRow, NoticeRow
from corridor.store.models import OrgKind

#: Alternatives offered with a 409 when a sailing is full.
ALTERNATIVES = 3
#: How far ahead alternatives are looked for.
ALTERNATIVE_DAYS = 21
#: Hold lifetime when the caller passes none (Settings.capacity_hold_ttl_min in the API).
DEFAULT_TTL_MIN = 120.0


_sqlite_writers: dict[str, threading.Lock] = {}
_guard = threading.Lock()


@contextmanager
def committing(session: Session) -> Iterator[Session]:
    """Run a capacity write on ``session`` and commit it before leaving (rollback on error).

    On SQLite the writers of this process queue on a lock until their commit. SQLite admits one
    writer at a time anyway, but its busy-retry loop is not a queue: under a burst of bookers an
    unlucky one can sleep past the busy timeout and fail with "database is locked". The lock turns
    the burst into an orderly queue. PostgreSQL needs none (the UPDATE's row lock queues them).
    """
    with _writers(session.get_bind()):
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def _writers(bind: Engine | Connection) -> AbstractContextManager[object]:
    """The queue of the process's writers to the database of ``bind`` (SQLite; none otherwise)."""
    if bind.dialect.name != "sqlite":
        return nullcontext()
    with _guard:
        return _sqlite_writers.setdefault(str(bind.engine.url), threading.Lock())


@dataclass(frozen=True)
class Context:
    """What every capacity operation needs: the network, its capacity data and the hold TTL.

    ``found`` remembers the departures already looked up by (service, node, minute): a booking
    names its departure, and expanding the timetable again for every booking was most of the
    CPU a hold cost. The timetable of a network never changes, so the memo never goes stale.
    """

    network: Network
    data: CapacityData
    ttl_min: float = DEFAULT_TTL_MIN
    found: dict[tuple[str, str, datetime], Departure | None] = field(
        default_factory=dict, compare=False, repr=False
    )
    #: The departures after a departure (the alternatives offered when it is full), remembered
    #: by (service, from node, to node, departure) for the same reason.
    later: dict[tuple[str, str, str, datetime], list[Departure]] = field(
        default_factory=dict, compare=False, repr=False
    )


#: One context per (network, TTL), so the memo of departures serves every request of a process.
_contexts: dict[tuple[int, float], Context] = {}
#: Departures remembered per context before the memo starts afresh.
FOUND_MAX = 20_000


def context_for(network: Network, ttl_min: float = DEFAULT_TTL_MIN) -> Context:
    """The capacity context of ``network`` (shared by the requests of a process)."""
    key = (id(network), ttl_min)
    ctx = _contexts.get(key)
    if ctx is None or ctx.network is not network:
        if len(_contexts) >= 16:
            _contexts.clear()
        ctx = _contexts[key] = Context(network, load_capacity(network.directory), ttl_min)
    return ctx


@dataclass(frozen=True)
class LegRequest:
    """One sailing or train to hold: the departure of ``service`` from ``from_node`` at ``departure``."""

    service: str
    from_node: str
    departure: datetime
    cargo: CargoKind
    items: int


# -- slots --------------------------------------------------------------------------------------


#: Departures further than this from now are not scheduled (and not computed).
WINDOW_DAYS = 400


def check_window(moment: datetime, field: str) -> datetime:
    """``moment`` to the minute, if it lies within a year or so of now; else CapacityError."""
    now = clock()
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if not now - timedelta(days=WINDOW_DAYS) < moment < now + timedelta(days=WINDOW_DAYS):
        raise CapacityError(
            "not_found", field, f"no departures are scheduled more than {WINDOW_DAYS} days away"
        )
    return minute(moment)


def find_departure(ctx: Context, service: str, from_node: str, departure: datetime) -> Departure:
    """The scheduled departure named, or CapacityError saying which part does not exist."""
    if service not in ctx.network.services:
        raise CapacityError("not_found", "service", f"no service {service!r}")
    if service not in ctx.data.services:
        raise CapacityError("invalid", "service", f"capacity of {service!r} is not managed")
    if from_node not in ctx.network.services[service].stops:
        raise CapacityError("invalid", "from_node", f"{service} does not call at {from_node!r}")
    when = check_window(departure, "departure")
    key = (service, from_node, when)
    if key in ctx.found:
        dep = ctx.found[key]
    else:
        found = departures(
            ctx.network,
            when,
            when + timedelta(minutes=1),
            from_node=from_node,
            services=frozenset({service}),
        )
        dep = found[0] if found else None
        if len(ctx.found) >= FOUND_MAX:
            ctx.found.clear()
        ctx.found[key] = dep
    if dep is None:
        raise CapacityError(
            "not_found",
            "departure",
            f"{service} has no departure from {from_node} at {when.isoformat()}",
        )
    return dep


def _kind(dep: Departure) -> str:
    return "sailing" if dep.mode in ("ferry", "sea") else "train"


def _ensure_slot(session: Session, ctx: Context, dep: Departure, now: datetime) -> str:
    key = slot_key(dep.service, dep.from_node, dep.departure)
    capacity = ctx.data.capacity_of(dep.service, dep.from_node, dep.scheduled)
    unit = ctx.data.unit_of(dep.service)
    if capacity is None or unit is None:
        raise CapacityError("invalid", "service", f"capacity of {dep.service!r} is not managed")
    values = {
        "id": key,
        "kind": _kind(dep),
        "service": dep.service,
        "operator": dep.operator,
        "from_node": dep.from_node,
        "to_node": dep.to_node,
        "departure": dep.departure,
        "unit": unit.value,
        "capacity": capacity,
        "held": 0,
        "confirmed": 0,
        "created_at": now,
    }
    upsert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    session.execute(upsert(CapSlot).values(**values).on_conflict_do_nothing(index_elements=["id"]))
    return key


def _take(session: Session, slot_id: str, units: int, confirmed: bool = False) -> bool:
    """Add ``units`` to the slot if they fit: the one statement that decides who gets the space."""
    return _take_counts(session, slot_id, units, confirmed) is not None


def _take_counts(
    session: Session,
    slot_id: str,
    units: int,
    confirmed: bool = False,
    limit: int | None = None,
    unless_noticed: list[str] | None = None,
) -> tuple[int, int, int] | None:
    """Like :func:`_take`, returning the slot's new (capacity, held, confirmed), or None.

    ``limit`` lowers the usable capacity below the slot's own, for a notice that reduces it.
    ``unless_noticed``: take nothing (None) if an active disruption notice names any of these
    elements; the caller then reads the notices and decides (the fast path of :func:`hold_slots`).
    A departed slot (``departed_at`` set) takes nothing either: the caller asks :func:`_check_open`.
    """
    if unless_noticed and not confirmed and limit is None:  # the hot path: a prepared statement
        params: dict[str, Any] = {"slot_id": slot_id, "units": units}
        params.update({f"element_{i}": e for i, e in enumerate(unless_noticed)})
        found = session.connection().execute(_fast_take(len(unless_noticed)), params).first()
        return (int(found[0]), int(found[1]), int(found[2])) if found is not None else None
    column = CapSlot.confirmed if confirmed else CapSlot.held
    # A notice's limit is a share of the slot's own capacity, so it is never above it.
    ceiling: Any = CapSlot.capacity if limit is None else limit
    stmt = update(CapSlot).where(
        CapSlot.id == slot_id,
        CapSlot.held + CapSlot.confirmed + units <= ceiling,
        CapSlot.departed_at.is_(None),
    )
    if unless_noticed:
        stmt = stmt.where(~exists(_noticed(unless_noticed)))
    # A Core statement on the session's connection: the ORM's bulk-update path adds CPU and
    # nothing here (no objects to synchronise).
    row = (
        session.connection()
        .execute(
            stmt.values({column.key: column + units}).returning(
                CapSlot.capacity, CapSlot.held, CapSlot.confirmed
            )
        )
        .first()
    )
    return (int(row[0]), int(row[1]), int(row[2])) if row is not None else None


def _noticed_bound(elements: int) -> Any:
    """The active notice rows naming one of ``elements`` bound elements (``element_0``, ...):
    the one subquery the hold's UPDATE and the slot's state share."""
    return (
        select(NoticeElementRow.id)
        .join(NoticeRow, NoticeRow.id == NoticeElementRow.notice_id)
        .where(
            or_(*(NoticeElementRow.element == bindparam(f"element_{i}") for i in range(elements))),
            NoticeRow.status == NoticeStatus.ACTIVE.value,
        )
    )


_fast_takes: dict[int, Any] = {}


def _fast_take(elements: int) -> Any:
    """The hold's UPDATE with bound parameters, built once per number of notice elements: building
    and compiling the statement for every booking cost more CPU than running it."""
    stmt = _fast_takes.get(elements)
    if stmt is None:
        units = bindparam("units", type_=Integer)
        noticed = _noticed_bound(elements)
        stmt = _fast_takes[elements] = (
            update(CapSlot)
            .where(
                CapSlot.id == bindparam("slot_id"),
                CapSlot.held + CapSlot.confirmed + units <= CapSlot.capacity,
                CapSlot.departed_at.is_(None),
                ~exists(noticed),
            )
            .values(held=CapSlot.held + units)
            .returning(CapSlot.capacity, CapSlot.held, CapSlot.confirmed)
        )
    return stmt


_slot_states: dict[int, Any] = {}


def _slot_state(elements: int) -> Any:
    """(capacity, held, confirmed, departed_at, noticed) of a slot, built once per number of
    notice elements (parameters as :func:`_element_params`)."""
    stmt = _slot_states.get(elements)
    if stmt is None:
        noticed = _noticed_bound(elements)
        stmt = _slot_states[elements] = select(
            CapSlot.capacity,
            CapSlot.held,
            CapSlot.confirmed,
            CapSlot.departed_at,
            exists(noticed),
        ).where(CapSlot.id == bindparam("slot_id"))
    return stmt


def _element_params(slot_id: str, elements: list[str]) -> dict[str, Any]:
    params: dict[str, Any] = {"slot_id": slot_id}
    params.update({f"element_{i}": e for i, e in enumerate(elements)})
    return params


def _noticed(elements: list[str]) -> Any:
    """Active notices naming any of ``elements`` (for an EXISTS)."""
    return (
        select(NoticeElementRow.id)
        .join(NoticeRow, NoticeRow.id == NoticeElementRow.notice_id)
        .where(
            # one bound parameter per element (not an expanding IN): the statement's compiled
            # form is cached, not compiled again for every booking
            or_(*(NoticeElementRow.element == e for e in elements)),
            NoticeRow.status == NoticeStatus.ACTIVE.value,
        )
    )


def _release(session: Session, slot_id: str, units: int, confirmed: bool) -> None:
    column = CapSlot.confirmed if confirmed else CapSlot.held
    session.execute(
        update(CapSlot)
        .where(CapSlot.id == slot_id)
        .values({column: column - units})
        .execution_options(synchronize_session=False)
    )


def _set_state(
    session: Session,
    booking_id: str,
    before: Iterable[State],
    after: State,
    now: datetime,
    **values: Any,
) -> bool:
    """Move a booking to ``after`` only if it is still in one of ``before``: one winner per race."""
    result = session.execute(
        update(CapBooking)
        .where(CapBooking.id == booking_id, CapBooking.state.in_([s.value for s in before]))
        .values(state=after.value, updated_at=now, **values)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


# -- events and notices -------------------------------------------------------------------------


def _slot_event(
    session: Session,
    slot_id: str,
    kind: str,
    now: datetime,
    counts: tuple[int, int, int] | None = None,
) -> None:
    """A public event with the slot's new counters (free capacity is public, bookings are not)."""
    if counts is None:
        row = session.execute(
            select(CapSlot.capacity, CapSlot.held, CapSlot.confirmed).where(CapSlot.id == slot_id)
        ).one()
        counts = (int(row[0]), int(row[1]), int(row[2]))
    session.execute(insert(CapEvent).values(**_slot_event_values(slot_id, kind, now, counts)))


def _slot_event_values(
    slot_id: str, kind: str, now: datetime, counts: tuple[int, int, int]
) -> dict[str, Any]:
    return {
        "created_at": now,
        "kind": kind,
        "slot_id": slot_id,
        "organisation_id": None,
        "body": {"slot": slot_id, "capacity": counts[0], "held": counts[1], "confirmed": counts[2]},
    }


def _tell(session: Session, booking: CapBooking, kind: str, now: datetime, **extra: Any) -> None:
    """An event for the booking's forwarder (live) and a webhook notice (delivered later)."""
    body = {
        "event": kind,
        "booking_id": booking.id,
        "group_id": booking.group_id,
        "slot": booking.slot_id,
        "state": booking.state,
        **extra,
    }
    session.add(
        CapEvent(
            created_at=now,
            kind=kind,
            slot_id=booking.slot_id,
            organisation_id=booking.organisation_id,
            body=body,
        )
    )
    session.add(
        CapNotice(
            id=uuid.uuid4().hex,
            organisation_id=booking.organisation_id,
            body=body,
            status="pending",
            attempts=0,
            next_attempt_at=now,
            last_error=None,
        )
    )


# -- who may do what ----------------------------------------------------------------------------


def _forwarder(who: Principal) -> None:
    if who.kind is not OrgKind.FORWARDER:
        raise CapacityError("forbidden", "organisation", "only forwarders book capacity")


# -- holding ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Planned:
    dep: Departure
    units: int
    leg: LegRequest
    slot_id: str


def _plan(ctx: Context, legs: list[LegRequest], now: datetime) -> list[_Planned]:
    planned = []
    for i, leg in enumerate(legs):
        try:
            if leg.items <= 0:
                raise CapacityError("invalid", "items", "the number of items must be at least 1")
            if leg.service not in ctx.network.services:
                raise CapacityError("not_found", "service", f"no service {leg.service!r}")
            units = ctx.data.units(leg.service, leg.cargo, leg.items)  # before the departure:
            dep = find_departure(ctx, leg.service, leg.from_node, leg.departure)  # a truck is
            check_bookable(dep.departure, now)  # refused on a rail ferry whatever the date
            capacity = ctx.data.capacity_of(dep.service, dep.from_node, dep.scheduled) or 0
            if units > capacity:
                raise CapacityError(
                    "invalid",
                    "items",
                    f"{units} {ctx.data.unit_of(leg.service)} can never fit a departure of "
                    f"{capacity}",
                )
        except CapacityError as exc:
            if len(legs) == 1:
                raise
            field = f"legs.{i}.{exc.field}" if exc.field else f"legs.{i}"
            raise CapacityError(exc.code, field, exc.reason, exc.detail) from None
        key = slot_key(dep.service, dep.from_node, dep.departure)
        planned.append(_Planned(dep, units, leg, key))
    return planned


def alternatives(
    session: Session, ctx: Context, dep: Departure, units: int, now: datetime
) -> list[dict[str, Any]]:
    """The next departures of the same service from the same node with room for ``units``."""
    start = dep.departure + timedelta(minutes=1)
    memo = (dep.service, dep.from_node, dep.to_node, dep.departure)
    later = ctx.later.get(memo) if start >= now else None
    if later is None:
        later = departures(
            ctx.network,
            max(start, now),
            dep.departure + timedelta(days=ALTERNATIVE_DAYS),
            from_node=dep.from_node,
            to_node=dep.to_node,
            services=frozenset({dep.service}),
        )
        if start >= now:  # the timetable never changes: the same departures every time
            if len(ctx.later) >= FOUND_MAX:
                ctx.later.clear()
            ctx.later[memo] = later
    keys = [slot_key(d.service, d.from_node, d.departure) for d in later]
    taken: dict[str, int] = (
        {
            key: int(n)
            for key, n in session.execute(
                select(CapSlot.id, CapSlot.held + CapSlot.confirmed).where(CapSlot.id.in_(keys))
            )
        }
        if keys
        else {}
    )
    out: list[dict[str, Any]] = []
    for d, key in zip(later, keys, strict=True):
        capacity = ctx.data.capacity_of(d.service, d.from_node, d.scheduled) or 0
        free = capacity - taken.get(key, 0)
        if free >= units:
            out.append(
                {
                    "service": d.service,
                    "from_node": d.from_node,
                    "to_node": d.to_node,
                    "departure": d.departure.isoformat(),
                    "free": free,
                    "unit": ctx.data.unit_of(d.service),
                }
            )
        if len(out) >= ALTERNATIVES:
            break
    return out


def _elements(dep: Departure) -> list[ElementRef]:
    return [
        ElementRef(kind="service", id=dep.service),
        ElementRef(kind="node", id=dep.from_node),
        ElementRef(kind="node", id=dep.to_node),
    ]


def _notice_limit(ctx: Context, dep: Departure, notices: list[Notice]) -> int | None:
    """The units a departure may carry under the notices in force (None: its full capacity).

    A closure of its service or either port leaves nothing; a reduced capacity (a ferry limited
    by draught) leaves that share of the slot's capacity, rounded down.
    """
    factor = min(capacity_factor(notices, e, dep.departure) for e in _elements(dep))
    if factor >= 1.0:
        return None
    capacity = ctx.data.capacity_of(dep.service, dep.from_node, dep.scheduled) or 0
    return int(capacity * factor)


def _notice_reason(dep: Departure, notices: list[Notice]) -> str:
    hits = [
        n for n in notices if set(n.elements) & set(_elements(dep)) and in_effect(n, dep.departure)
    ]
    return "; ".join(f"notice {n.id}: {n.text()}" for n in hits)


@dataclass(frozen=True)
class Held:
    """A booking just written and the slot it holds (as the booker may see it)."""

    booking: CapBooking
    slot: CapSlot


def hold(
    session: Session,
    who: Principal,
    ctx: Context,
    legs: list[LegRequest],
    *,
    shipment_id: str | None = None,
    waitlist: bool = False,
    now: datetime | None = None,
) -> list[CapBooking]:
    """Hold capacity on every leg at once, or nothing (see :func:`hold_slots`)."""
    held = hold_slots(session, who, ctx, legs, shipment_id=shipment_id, waitlist=waitlist, now=now)
    return [h.booking for h in held]


def hold_slots(
    session: Session,
    who: Principal,
    ctx: Context,
    legs: list[LegRequest],
    *,
    shipment_id: str | None = None,
    waitlist: bool = False,
    now: datetime | None = None,
    crossings: Iterable[CrossingPass] = (),
) -> list[Held]:
    """Hold capacity on every leg at once, or nothing: raises CapacityError('full', ...) with the
    next sailings that have room when any leg is full (the caller's transaction rolls back).

    With ``waitlist`` (one sailing only) a full sailing gives a waitlisted booking instead.

    The statements of a hold, on the path where every leg has room: one SELECT of the disruption
    notices naming its departures (usually none), one conditional ``UPDATE ... RETURNING`` per leg
    (the slot row is created the first time only), one INSERT of the bookings and one of the
    board's events. The departures come from the context's memo, not from the timetable.
    """
    _forwarder(who)
    now = now or clock()
    paths = _plan_crossings(ctx, crossings, now)
    if not legs and not paths:
        raise CapacityError("invalid", "legs", "nothing to book")
    if waitlist and len(legs) + len(paths) > 1:
        raise CapacityError("invalid", "waitlist", "only a single sailing can be waitlisted")
    planned = _plan(ctx, legs, now)
    order = sorted(planned, key=lambda p: p.slot_id)
    for a, b in itertools.pairwise(order):
        if a.slot_id == b.slot_id:
            raise CapacityError("invalid", "legs", f"the departure {a.slot_id} is listed twice")
    group = uuid.uuid4().hex[:16]
    expires = hold_expiry(now, ctx.ttl_min)
    counts: dict[str, tuple[int, int, int]] = {}
    names = sorted({str(e) for p in planned for e in _elements(p.dep)})
    in_force: list[Notice] | None = None  # read only when a notice may apply (slow path)
    # Every slot, legs and crossing-days alike, is taken in one order: no two bookings deadlock.
    steps: list[_Planned | _Path] = sorted([*planned, *paths], key=lambda p: p.slot_id)
    for p in steps:
        if isinstance(p, _Path):
            counts[p.slot_id] = _take_path(session, ctx, p, now)
            continue
        known: tuple[int, int, int, datetime | None] | None = None
        if in_force is None:
            # Fast path: no active notice names any element of this booking, checked in the
            # same statement that takes the space.
            taken = _take_counts(session, p.slot_id, p.units, unless_noticed=names)
            if taken is not None:
                counts[p.slot_id] = taken
                continue
            # Why not? One read tells the common answer (the slot is full or left, and no notice
            # names the booking) from the rest (no slot row yet, or a notice: read them all).
            state = session.execute(_slot_state(len(names)), _element_params(p.slot_id, names))
            found = state.first()
            if found is not None and not found[4]:
                known = (int(found[0]), int(found[1]), int(found[2]), found[3])
                in_force = []
            else:
                in_force = notices_store.listing(
                    session, status=NoticeStatus.ACTIVE, elements=names, limit=2000
                )
        limit = _notice_limit(ctx, p.dep, in_force) if in_force else None
        if limit == 0:
            _check_open(session, ctx, p.dep, p.slot_id, p.units, now)
            raise CapacityError(
                "full",
                "departure",
                f"{p.dep.service} leaving {p.dep.from_node} at {p.dep.departure.isoformat()} is "
                f"closed by a disruption notice: {_notice_reason(p.dep, in_force)}",
                {"next_sailings": alternatives(session, ctx, p.dep, p.units, now)},
            )
        # (a slot read just now without room is not asked again: only a sweep can free room)
        room = known is None or (known[3] is None and sum(known[1:3]) + p.units <= known[0])
        taken = _take_counts(session, p.slot_id, p.units, limit=limit) if room else None
        if taken is None and known is None:  # the first hold on this departure creates its slot
            _ensure_slot(session, ctx, p.dep, now)
            taken = _take_counts(session, p.slot_id, p.units, limit=limit)
        if taken is None and (known is None or known[3] is not None):
            # left early? then no hold, no sweep and no waitlist either
            _check_open(session, ctx, p.dep, p.slot_id, p.units, now)
        if taken is None and _sweep_slot(
            session, ctx, p.slot_id, now, open_known=known is not None
        ):
            # Holds that lapsed still count until swept: they were freed (and the waitlist served).
            taken = _take_counts(session, p.slot_id, p.units, limit=limit)
        if taken is not None:
            counts[p.slot_id] = taken
            continue
        if waitlist:
            row = _booking(who, p, group, shipment_id, State.WAITLISTED, None, now)
            session.add(row)
            session.flush()
            return [Held(row, _slot_view(ctx, p, now, None))]
        raise CapacityError(
            "full",
            "departure",
            f"{p.dep.service} leaving {p.dep.from_node} at {p.dep.departure.isoformat()} has no "
            f"room for {p.units} {ctx.data.unit_of(p.dep.service)}",
            {"next_sailings": alternatives(session, ctx, p.dep, p.units, now)},
        )
    values = [
        _booking_values(who, p, group, shipment_id, State.HELD, expires, now) for p in planned
    ]
    views = [_slot_view(ctx, p, now, counts[p.slot_id]) for p in planned]
    for path in paths:
        values.append(_columns(_path_booking(who, path, group, shipment_id, expires, now)))
        views.append(_path_view(path, now, counts[path.slot_id]))
    _insert_bookings(
        session, values, [_slot_event_values(v.id, "held", now, counts[v.id]) for v in views]
    )
    rows = [_transient(CapBooking, v) for v in values]
    return [Held(row, view) for row, view in zip(rows, views, strict=True)]


def _check_open(
    session: Session, ctx: Context, dep: Departure, slot_id: str, units: int, now: datetime
) -> None:
    """Refuse a hold on a sailing its carrier reported departed before its scheduled time.

    Read only after the conditional UPDATE took nothing, so it costs the hot path nothing; the
    UPDATE itself (``departed_at IS NULL``) is what keeps a racing departure and hold apart. The
    answer is the one a sailing gone by its timetable gets (``departed``, 422), plus the next
    sailings with room, as for a full one.
    """
    left = session.scalar(select(CapSlot.departed_at).where(CapSlot.id == slot_id))
    if left is not None:
        raise CapacityError(
            "departed",
            "departure",
            f"{dep.service} leaving {dep.from_node} at {dep.departure.isoformat()} (slot "
            f"{slot_id}) departed at {left.isoformat()}",
            {"next_sailings": alternatives(session, ctx, dep, units, now)},
        )


def _insert_bookings(
    session: Session, bookings: list[dict[str, Any]], events: list[dict[str, Any]]
) -> None:
    """Write the bookings and the board's events: one statement on PostgreSQL (the events go in a
    data-modifying WITH of the bookings' INSERT), two on SQLite. Core statements: the ORM's bulk
    path costs more CPU than the statement itself."""
    conn = session.connection()
    if conn.dialect.name == "postgresql" and len(bookings) == len(events) == 1:
        params = {f"b_{k}": v for k, v in bookings[0].items()}
        params.update({f"e_{k}": v for k, v in events[0].items()})
        conn.execute(_BOOKING_AND_EVENT, params)
        return
    # (one row: a plain execute, not the driver's executemany)
    conn.execute(_INSERT_BOOKING, bookings[0] if len(bookings) == 1 else bookings)
    conn.execute(_INSERT_EVENT, events[0] if len(events) == 1 else events)


_INSERT_BOOKING = insert(CapBooking)
_INSERT_EVENT = insert(CapEvent)


_BOOKING_COLUMNS = tuple(c.key for c in CapBooking.__table__.columns)
_EVENT_COLUMNS = ("created_at", "kind", "slot_id", "organisation_id", "body")
#: One booking and its board event in one statement (PostgreSQL: a data-modifying WITH), built
#: once with bound parameters ``b_<column>`` and ``e_<column>``.
_BOOKING_AND_EVENT = (
    insert(CapBooking)
    .values(
        {
            name: bindparam(f"b_{name}", type_=CapBooking.__table__.c[name].type)
            for name in _BOOKING_COLUMNS
        }
    )
    .add_cte(
        insert(CapEvent)
        .values(
            {
                name: bindparam(f"e_{name}", type_=CapEvent.__table__.c[name].type)
                for name in _EVENT_COLUMNS
            }
        )
        .cte("board_events")
    )
)


# -- one leg in one statement (PostgreSQL) ----------------------------------------------------------


def hold_one(
    session: Session,
    who: Principal,
    ctx: Context,
    leg: LegRequest,
    *,
    waitlist: bool = False,
    now: datetime | None = None,
) -> Held:
    """Hold ``leg`` (one sailing or train), committed before it returns; as :func:`hold_slots`.

    On PostgreSQL the common case (the slot row exists, has room, has not left and no active
    notice names the departure) is **one statement in a transaction of its own**: the conditional
    ``UPDATE ... RETURNING`` of the slot, and the INSERTs of the booking and of the board's event
    fed by what it returned, as data-modifying WITH queries (:data:`_HOLD_ONE`), run on a
    connection in autocommit mode. Either the UPDATE took the space and both rows are written, or
    nothing is: one round trip instead of BEGIN, UPDATE, INSERT and COMMIT. Anything else (the
    first hold of a departure, a full or departed one, a notice, a waitlist) takes nothing there
    and runs :func:`hold_slots` in ``session``'s transaction, committed here. The guarantee is the
    same statement as ever (``held + confirmed + n <= capacity`` under the row lock, and the CHECK).
    """
    _forwarder(who)
    now = now or clock()
    bind = session.get_bind()
    # (a session bound to a connection of the caller's keeps to that connection's transaction)
    if isinstance(bind, Engine) and bind.dialect.name in ("postgresql", "sqlite"):
        planned = _plan(ctx, [leg], now)[0]  # refusals of bad input before any statement
        expires = hold_expiry(now, ctx.ttl_min)
        values = _booking_values(
            who, planned, uuid.uuid4().hex[:16], None, State.HELD, expires, now
        )
        names = sorted({str(e) for e in _elements(planned.dep)})
        take = _element_params(planned.slot_id, names)
        take["units"] = planned.units
        if bind.dialect.name == "sqlite":
            counts = _hold_one_sqlite(bind, values, take, now)
            if counts is not None:
                return Held(_transient(CapBooking, values), _slot_view(ctx, planned, now, counts))
            return _hold_slowly(session, who, ctx, leg, waitlist, now)
        params = {f"b_{k}": v for k, v in values.items()}
        params.update(take, event_at=now)
        with bind.connect() as conn:
            try:
                found = (
                    conn.execution_options(isolation_level="AUTOCOMMIT")
                    .execute(_hold_one(len(names)), params)
                    .first()
                )
            except DBAPIError as exc:
                # The statement is its own commit. A connection that broke without the server
                # saying the statement failed (an admin shutdown of an idle connection does say
                # so) may have stored the hold: never run again unseen (see CommitUncertain).
                sqlstate = getattr(exc.orig, "sqlstate", None)
                if exc.connection_invalidated and sqlstate not in RETRYABLE_SQLSTATES:
                    raise CommitUncertain(str(exc.orig)) from exc
                raise
        if found is not None:
            counts = (int(found[0]), int(found[1]), int(found[2]))
            return Held(_transient(CapBooking, values), _slot_view(ctx, planned, now, counts))
    return _hold_slowly(session, who, ctx, leg, waitlist, now)


def _hold_slowly(
    session: Session,
    who: Principal,
    ctx: Context,
    leg: LegRequest,
    waitlist: bool,
    now: datetime,
) -> Held:
    with committing(session):
        return hold_slots(session, who, ctx, [leg], waitlist=waitlist, now=now)[0]


def _hold_one_sqlite(
    bind: Engine, booking: dict[str, Any], take: dict[str, Any], now: datetime
) -> tuple[int, int, int] | None:
    """SQLite's :func:`hold_one`: the conditional UPDATE and the two INSERTs in one short
    transaction on a connection of its own, in the queue of the process's writers (no session:
    its machinery cost more CPU than SQLite's work). None: nothing taken, nothing written."""
    with _writers(bind), bind.connect() as conn, conn.begin():
        found = conn.execute(_fast_take(len(take) - 2), take).first()
        if found is None:
            return None
        counts = (int(found[0]), int(found[1]), int(found[2]))
        conn.execute(_INSERT_BOOKING, booking)
        conn.execute(_INSERT_EVENT, _slot_event_values(booking["slot_id"], "held", now, counts))
        return counts


_hold_ones: dict[int, Any] = {}


def _hold_one(elements: int) -> Any:
    """The statement of :func:`hold_one`, built once per number of notice elements."""
    stmt = _hold_ones.get(elements)
    if stmt is not None:
        return stmt
    taken = _fast_take(elements).cte("taken")
    booking = insert(CapBooking).from_select(
        list(_BOOKING_COLUMNS),
        select(
            *(
                bindparam(f"b_{name}", type_=CapBooking.__table__.c[name].type)
                for name in _BOOKING_COLUMNS
            )
        ).select_from(taken),
    )
    slot = bindparam("slot_id", type_=CapSlot.__table__.c.id.type)
    body = func.json_build_object(
        literal("slot"),
        slot,
        literal("capacity"),
        taken.c.capacity,
        literal("held"),
        taken.c.held,
        literal("confirmed"),
        taken.c.confirmed,
    )
    event = insert(CapEvent).from_select(
        list(_EVENT_COLUMNS),
        select(
            bindparam("event_at", type_=CapEvent.__table__.c.created_at.type),
            literal("held"),
            slot,
            null(),
            body,
        ).select_from(taken),
    )
    stmt = _hold_ones[elements] = (
        select(taken.c.capacity, taken.c.held, taken.c.confirmed)
        .add_cte(booking.cte("booking"))
        .add_cte(event.cte("board_event"))
    )
    return stmt


# -- rail border crossings ----------------------------------------------------------------------


@dataclass(frozen=True)
class _Path:
    """Train paths to take at one rail border crossing on one day."""

    crossing: str
    name: str
    operator: str
    from_node: str
    to_node: str
    day: datetime
    capacity: int
    units: int
    at: datetime  # when the (first) train passes

    @property
    def slot_id(self) -> str:
        return crossing_key(self.crossing, self.day)


def _plan_crossings(ctx: Context, passes: Iterable[CrossingPass], now: datetime) -> list[_Path]:
    """The crossing-days to hold: managed crossings with train paths, not yet passed."""
    merged: dict[str, _Path] = {}
    for cp in passes:
        cap = ctx.data.crossings.get(cp.crossing)
        if cap is None or cap.trains_per_day <= 0 or cp.at <= now:
            continue
        border = ctx.network.crossings.get(cp.crossing)
        link = ctx.network.links.get(border.at) if border is not None else None
        path = _Path(
            cp.crossing,
            cp.name,
            (link.operator if link is not None else "") or cp.name,
            cp.from_node,
            cp.to_node,
            cp.day,
            cap.trains_per_day,
            PATHS_PER_BOOKING,
            cp.at,
        )
        if path.slot_id in merged:  # the same crossing twice on one day: two paths
            old = merged[path.slot_id]
            path = _Path(**{**old.__dict__, "units": old.units + path.units})
        merged[path.slot_id] = path
    return list(merged.values())


def _ensure_path_slot(session: Session, path: _Path, now: datetime) -> None:
    values = {
        "id": path.slot_id,
        "kind": "crossing",
        "service": path.crossing,
        "operator": path.operator,
        "from_node": path.from_node,
        "to_node": path.to_node,
        "departure": path.day,
        "unit": CROSSING_UNIT,
        "capacity": path.capacity,
        "held": 0,
        "confirmed": 0,
        "created_at": now,
    }
    upsert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    session.execute(upsert(CapSlot).values(**values).on_conflict_do_nothing(index_elements=["id"]))


def _take_path(session: Session, ctx: Context, path: _Path, now: datetime) -> tuple[int, int, int]:
    """Take the train paths of ``path`` or raise 'full' naming the crossing and the next day.

    A disruption notice on the crossing (``crossing:x-...``) in effect when the train passes
    closes it (nothing is taken) or reduces its paths that day, as notices do for sailings.
    """
    element = ElementRef(kind="crossing", id=path.crossing)
    taken = _take_counts(session, path.slot_id, path.units, unless_noticed=[str(element)])
    limit: int | None = None
    if taken is None:
        notices = notices_store.listing(
            session, status=NoticeStatus.ACTIVE, elements=[str(element)], limit=2000
        )
        factor = capacity_factor(notices, element, path.at) if notices else 1.0
        if factor <= 0.0:
            hits = [n for n in notices if element in n.elements and in_effect(n, path.at)]
            raise CapacityError(
                "full",
                "crossing",
                f"the rail border crossing {path.name} ({path.crossing}) is closed on "
                f"{path.day:%Y-%m-%d} by a disruption notice: "
                + "; ".join(f"notice {n.id}: {n.text()}" for n in hits),
                {"crossing": path.crossing, "day": path.day.date().isoformat()},
            )
        limit = int(path.capacity * factor) if factor < 1.0 else None
        taken = _take_counts(session, path.slot_id, path.units, limit=limit)
    if taken is None:
        _ensure_path_slot(session, path, now)
        taken = _take_counts(session, path.slot_id, path.units, limit=limit)
    if taken is None and sweep_slot(session, ctx, path.slot_id, now):
        taken = _take_counts(session, path.slot_id, path.units, limit=limit)
    if taken is not None:
        return taken
    later = next_crossing_days(session, path, now)
    after = (
        f"the next day with room is {later[0]['day'][:10]}"
        if later
        else f"no day in the next {ALTERNATIVE_DAYS} has room"
    )
    raise CapacityError(
        "full",
        "crossing",
        f"the rail border crossing {path.name} ({path.crossing}) has no free train path on "
        f"{path.day:%Y-%m-%d}; {after}",
        {"crossing": path.crossing, "day": path.day.date().isoformat(), "next_days": later},
    )


def next_crossing_days(session: Session, path: _Path, now: datetime) -> list[dict[str, Any]]:
    """The next days after ``path.day`` on which the crossing has room for ``path.units`` paths."""
    days = [path.day + timedelta(days=i) for i in range(1, ALTERNATIVE_DAYS + 1)]
    keys = [crossing_key(path.crossing, d) for d in days]
    rows = {r.id: r for r in session.scalars(select(CapSlot).where(CapSlot.id.in_(keys)))}
    out: list[dict[str, Any]] = []
    for day, key in zip(days, keys, strict=True):
        row = rows.get(key)
        free = path.capacity - (row.held + row.confirmed if row else 0)
        if free >= path.units:
            out.append(
                {
                    "crossing": path.crossing,
                    "day": day.isoformat(),
                    "free": free,
                    "unit": CROSSING_UNIT,
                }
            )
        if len(out) >= ALTERNATIVES:
            break
    return out


def _path_booking(
    who: Principal,
    path: _Path,
    group: str,
    shipment_id: str | None,
    expires: datetime,
    now: datetime,
) -> CapBooking:
    return CapBooking(
        id=uuid.uuid4().hex[:20],
        group_id=group,
        slot_id=path.slot_id,
        organisation_id=who.organisation_id,
        created_by=who.user_id,
        shipment_id=shipment_id,
        cargo="train",
        items=path.units,
        units=path.units,
        state=State.HELD.value,
        expires_at=expires,
        moved_to=None,
        note=None,
        created_at=now,
        updated_at=now,
    )


def _path_view(path: _Path, now: datetime, counts: tuple[int, int, int]) -> CapSlot:
    return CapSlot(
        id=path.slot_id,
        kind="crossing",
        service=path.crossing,
        operator=path.operator,
        from_node=path.from_node,
        to_node=path.to_node,
        departure=path.day,
        unit=CROSSING_UNIT,
        capacity=counts[0],
        held=counts[1],
        confirmed=counts[2],
        created_at=now,
    )


def _columns(row: CapBooking) -> dict[str, Any]:
    return {name: getattr(row, name) for name in _BOOKING_COLUMNS}


def _slot_view(
    ctx: Context, p: _Planned, now: datetime, counts: tuple[int, int, int] | None
) -> CapSlot:
    """The slot as the hold left it, built from what is known (no read of the row)."""
    capacity = ctx.data.capacity_of(p.dep.service, p.dep.from_node, p.dep.scheduled) or 0
    unit = ctx.data.unit_of(p.dep.service)
    cap, held, confirmed = counts if counts is not None else (capacity, 0, 0)
    return _transient(
        CapSlot,
        {
            "id": p.slot_id,
            "kind": _kind(p.dep),
            "service": p.dep.service,
            "operator": p.dep.operator,
            "from_node": p.dep.from_node,
            "to_node": p.dep.to_node,
            "departure": p.dep.departure,
            "unit": unit.value if unit else "",
            "capacity": cap,
            "held": held,
            "confirmed": confirmed,
            "created_at": now,
            "departed_at": None,
        },
    )


_Row = TypeVar("_Row", CapBooking, CapSlot)


def _transient(cls: type[_Row], values: dict[str, Any]) -> _Row:
    """An unsaved ORM object holding ``values``, its attribute dictionary filled at once as the
    ORM fills a loaded row's: for what is only read (the answer), at a fraction of the CPU of the
    constructor, whose every attribute set is an instrumented event."""
    row: _Row = inspect(cls).class_manager.new_instance()
    row.__dict__.update(values)
    return row


def _booking_values(
    who: Principal,
    p: _Planned,
    group: str,
    shipment_id: str | None,
    state: State,
    expires: datetime | None,
    now: datetime,
) -> dict[str, Any]:
    return {
        "id": uuid.uuid4().hex[:20],
        "group_id": group,
        "slot_id": p.slot_id,
        "organisation_id": who.organisation_id,
        "created_by": who.user_id,
        "shipment_id": shipment_id,
        "cargo": p.leg.cargo.value,
        "items": p.leg.items,
        "units": p.units,
        "state": state.value,
        "expires_at": expires,
        "moved_to": None,
        "note": None,
        "created_at": now,
        "updated_at": now,
    }


def _booking(
    who: Principal,
    p: _Planned,
    group: str,
    shipment_id: str | None,
    state: State,
    expires: datetime | None,
    now: datetime,
) -> CapBooking:
    """A booking to add to the session (a waitlisted one); held ones are inserted by Core."""
    return CapBooking(**_booking_values(who, p, group, shipment_id, state, expires, now))


def itinerary_legs(
    ctx: Context, itinerary: Itinerary, cargo: CargoKind, items: int, now: datetime
) -> list[LegRequest]:
    """The legs of an itinerary that run on a managed service and have not left yet."""
    return [
        LegRequest(leg.service, leg.from_node, leg.departure, cargo, items)
        for leg in itinerary.legs
        if leg.service is not None
        and leg.service in ctx.data.services
        and minute(leg.departure) > now
    ]


def hold_itinerary(
    session: Session,
    who: Principal,
    network: Network,
    shipment_id: str,
    itinerary: Itinerary,
    cargo: str,
    items: int,
    ttl_min: float = DEFAULT_TTL_MIN,
    now: datetime | None = None,
) -> list[CapBooking]:
    """Hold capacity on every managed leg of a booked itinerary, all or none (shipments.create)."""
    now = now or clock()
    ctx = context_for(network, ttl_min)
    try:
        kind = CargoKind(cargo)
    except ValueError:
        raise CapacityError("invalid", "cargo", f"unknown cargo kind {cargo!r}") from None
    legs = itinerary_legs(ctx, itinerary, kind, items, now)
    passes = rail_crossings(network, itinerary)
    if not legs and not _plan_crossings(ctx, passes, now):
        return []
    held = hold_slots(session, who, ctx, legs, shipment_id=shipment_id, now=now, crossings=passes)
    return [h.booking for h in held]


# -- carriers' and forwarders' actions ----------------------------------------------------------


def _visible(session: Session, who: Principal) -> Any:
    stmt = select(CapBooking)
    if who.kind is OrgKind.ADMIN:
        return stmt
    if who.kind is OrgKind.FORWARDER:
        return stmt.where(CapBooking.organisation_id == who.organisation_id)
    if who.kind is OrgKind.CARRIER:
        lines = operators_of(session, who.organisation_id)
        return stmt.join(CapSlot, CapSlot.id == CapBooking.slot_id).where(
            CapSlot.operator.in_(lines)
        )
    return stmt.where(CapBooking.id.is_(None))


def list_bookings(
    session: Session, who: Principal, state: str | None = None, limit: int = 500
) -> list[tuple[CapBooking, CapSlot]]:
    stmt = _visible(session, who)
    if state is not None:
        stmt = stmt.where(CapBooking.state == state)
    rows = list(session.scalars(stmt.order_by(CapBooking.created_at.desc()).limit(limit)))
    slots = {
        s.id: s
        for s in session.scalars(select(CapSlot).where(CapSlot.id.in_({r.slot_id for r in rows})))
    }
    return [(r, slots[r.slot_id]) for r in rows]


def get_booking(session: Session, who: Principal, booking_id: str) -> tuple[CapBooking, CapSlot]:
    row = session.scalar(_visible(session, who).where(CapBooking.id == booking_id))
    if row is None:
        raise CapacityError("not_found", "booking_id", f"no booking {booking_id!r}")
    slot = session.get(CapSlot, row.slot_id)
    assert slot is not None
    return row, slot


def lock_slots(session: Session, slot_ids: Iterable[str]) -> None:
    """Lock slot rows until commit, in id order (PostgreSQL ``SELECT ... FOR UPDATE``; SQLite
    has one writer at a time). Every action that must see loadings and departures as they are
    (cancel, decline, move, load, unload, depart, a shipment's cancel) queues on the slot row,
    so a cancel and a loading of the same booking never both succeed."""
    ids = sorted(set(slot_ids))
    if ids:
        list(
            session.scalars(
                select(CapSlot.id).where(CapSlot.id.in_(ids)).order_by(CapSlot.id).with_for_update()
            )
        )


def on_board(
    session: Session, booking_id: str, slot_id: str
) -> tuple[datetime | None, datetime | None]:
    """(loaded_at, departed_at) of a booking and its slot, read afresh (after :func:`lock_slots`)."""
    loaded = session.scalar(select(CapLoading.loaded_at).where(CapLoading.booking_id == booking_id))
    departed = session.scalar(
        select(CapDeparture.departed_at).where(CapDeparture.slot_id == slot_id)
    )
    return loaded, departed


def act(
    session: Session,
    who: Principal,
    ctx: Context,
    booking_id: str,
    action: Action,
    to_departure: datetime | None = None,
    note: str | None = None,
    now: datetime | None = None,
) -> CapBooking:
    """Confirm, decline or move (the line's carrier) or cancel (the forwarder that booked).

    The slot is locked first and the booking's state, loading and the sailing's departure are
    read after the lock: a loaded booking is not declined, moved or cancelled, a departed
    sailing's bookings do not change (409 naming the state), even against a racing loading.
    """
    now = now or clock()
    row, slot = get_booking(session, who, booking_id)
    if (
        action in CARRIER_ACTIONS
        and who.kind is not OrgKind.ADMIN
        and (
            who.kind is not OrgKind.CARRIER
            or slot.operator not in operators_of(session, who.organisation_id)
        )
    ):
        raise CapacityError(
            "forbidden",
            "booking_id",
            f"only the carrier operating {slot.operator} may {action.value} this booking",
        )
    if action is Action.CANCEL and who.kind is not OrgKind.FORWARDER:
        raise CapacityError("forbidden", "booking_id", "only the forwarder that booked may cancel")
    target: tuple[Departure, str] | None = None
    if action is Action.MOVE:
        target = _move_target(session, ctx, slot, to_departure, now)
    lock_slots(session, [slot.id] + ([target[1]] if target else []))
    check_on_board(action, *on_board(session, row.id, slot.id))
    before = State(
        session.execute(select(CapBooking.state).where(CapBooking.id == row.id)).scalar_one()
    )
    after = transition(before, action, row.expires_at, now)
    if target is not None:
        return _move(session, ctx, row, slot, before, target, note, now)
    extra: dict[str, Any] = {"note": note} if note else {}
    if after is State.CONFIRMED:
        extra["expires_at"] = None
    if not _set_state(session, row.id, [before], after, now, **extra):
        raise CapacityError(
            "conflict", "state", "the booking changed meanwhile; read it again and retry"
        )
    if after is State.CONFIRMED:
        _release(session, slot.id, row.units, confirmed=False)
        _take(session, slot.id, row.units, confirmed=True)  # always fits: the units were held
    elif before in OCCUPYING:
        _release(session, slot.id, row.units, confirmed=before is State.CONFIRMED)
        promote(session, ctx, slot.id, now)
    session.refresh(row)
    _slot_event(session, slot.id, after.value, now)
    if action is not Action.CANCEL:
        _tell(session, row, after.value, now, note=note)
    return row


def _move_target(
    session: Session, ctx: Context, slot: CapSlot, to_departure: datetime | None, now: datetime
) -> tuple[Departure, str]:
    """The departure a booking moves to and its slot (created if new), before anything is locked."""
    if to_departure is None:
        raise CapacityError("invalid", "departure", "a move names the departure to move to")
    dep = find_departure(ctx, slot.service, slot.from_node, to_departure)
    check_bookable(dep.departure, now)
    target = _ensure_slot(session, ctx, dep, now)
    if target == slot.id:
        raise CapacityError("invalid", "departure", "the booking is already on that departure")
    return dep, target


def _move(
    session: Session,
    ctx: Context,
    row: CapBooking,
    slot: CapSlot,
    before: State,
    to: tuple[Departure, str],
    note: str | None,
    now: datetime,
) -> CapBooking:
    dep, target = to
    if session.get(CapDeparture, target) is not None:
        raise CapacityError("departed", "departure", "the departure moved to has already left")
    # (the _take below also refuses a departed target: its UPDATE reads departed_at)
    state = State.CONFIRMED if before is State.CONFIRMED else State.HELD
    if not _take(session, target, row.units, confirmed=state is State.CONFIRMED):
        raise CapacityError(
            "full",
            "departure",
            f"the departure at {dep.departure.isoformat()} has no room for {row.units} {slot.unit}",
            {"next_sailings": alternatives(session, ctx, dep, row.units, now)},
        )
    new = CapBooking(
        id=uuid.uuid4().hex[:20],
        group_id=row.group_id,
        slot_id=target,
        organisation_id=row.organisation_id,
        created_by=row.created_by,
        shipment_id=row.shipment_id,
        cargo=row.cargo,
        items=row.items,
        units=row.units,
        state=state.value,
        expires_at=hold_expiry(now, ctx.ttl_min) if state is State.HELD else None,
        moved_to=None,
        note=note,
        created_at=now,
        updated_at=now,
    )
    if not _set_state(session, row.id, [before], State.MOVED, now, moved_to=new.id, note=note):
        raise CapacityError(
            "conflict", "state", "the booking changed meanwhile; read it again and retry"
        )
    session.add(new)
    session.flush()
    if before in OCCUPYING:
        _release(session, slot.id, row.units, confirmed=before is State.CONFIRMED)
        promote(session, ctx, slot.id, now)
    _slot_event(session, slot.id, "moved", now)
    _slot_event(session, target, "moved", now)
    _tell(session, new, "moved", now, moved_from=row.id, note=note)
    return new


def release_shipment(
    session: Session,
    shipment_id: str,
    ttl_min: float = DEFAULT_TTL_MIN,
    now: datetime | None = None,
) -> list[str]:
    """Cancel every live booking of a shipment (held, confirmed or waitlisted), in the caller's
    transaction: counters back, each freed slot's waitlist promoted and a board event written.

    The slots are locked first (id order, as every multi-slot write takes them), then loadings and
    departures are read: if any booking is loaded or any sailing has departed, CapacityError
    (409, nothing released) and the caller's transaction rolls back whole. Returns the ids of
    the bookings cancelled.
    """
    now = now or clock()
    live = [State.HELD, State.CONFIRMED, State.WAITLISTED]
    query = (
        select(CapBooking)
        .where(
            CapBooking.shipment_id == shipment_id,
            CapBooking.state.in_([s.value for s in live]),
        )
        .order_by(CapBooking.slot_id)
        .execution_options(populate_existing=True)
    )
    locked: set[str] = set()
    while True:  # again if a racing move put a booking on a slot not locked yet
        rows = list(session.scalars(query))
        more = {r.slot_id for r in rows} - locked
        if not more:
            break
        lock_slots(session, more)
        locked |= more
    loaded: dict[str, datetime] = dict(
        session.execute(
            select(CapLoading.booking_id, CapLoading.loaded_at).where(
                CapLoading.booking_id.in_([r.id for r in rows])
            )
        ).all()
    )
    departed: dict[str, datetime] = dict(
        session.execute(
            select(CapDeparture.slot_id, CapDeparture.departed_at).where(
                CapDeparture.slot_id.in_(locked)
            )
        ).all()
    )
    for r in rows:
        try:
            check_on_board(Action.CANCEL, loaded.get(r.id), departed.get(r.slot_id))
        except CapacityError as exc:
            raise CapacityError(
                "conflict", "state", f"booking {r.id} on {r.slot_id}: {exc.reason}"
            ) from None
    ttl = _Ttl(ttl_min)
    freed: dict[str, None] = {}
    for r in rows:
        before = State(r.state)
        if not _set_state(session, r.id, [before], State.CANCELLED, now):
            raise CapacityError(
                "conflict", "state", "a booking changed meanwhile; read it again and retry"
            )
        if before in OCCUPYING:
            _release(session, r.slot_id, r.units, confirmed=before is State.CONFIRMED)
        freed[r.slot_id] = None
    for slot_id in freed:
        promote(session, ttl, slot_id, now)
        _slot_event(session, slot_id, State.CANCELLED.value, now)
    return [r.id for r in rows]


@dataclass(frozen=True)
class _Ttl:
    """What :func:`promote` reads of a context: the hold TTL."""

    ttl_min: float


def promote(session: Session, ctx: Context | _Ttl, slot_id: str, now: datetime) -> list[str]:
    """Turn waitlisted bookings of a slot into holds, first come first served, while they fit."""
    slot = session.execute(
        select(CapSlot.capacity, CapSlot.held, CapSlot.confirmed, CapSlot.departed_at).where(
            CapSlot.id == slot_id
        )
    ).one()
    if slot[3] is not None:  # a departed sailing lets nobody in (its _take would refuse anyway)
        return []
    free = slot[0] - slot[1] - slot[2]
    waiting = session.execute(
        select(CapBooking.id, CapBooking.units)
        .where(CapBooking.slot_id == slot_id, CapBooking.state == State.WAITLISTED.value)
        .order_by(CapBooking.created_at, CapBooking.id)
    ).all()
    promoted = []
    expires = hold_expiry(now, ctx.ttl_min)
    for booking_id in promotable([(w[0], w[1]) for w in waiting], free):
        units = next(w[1] for w in waiting if w[0] == booking_id)
        if not _take(session, slot_id, units):
            break
        if not _set_state(
            session, booking_id, [State.WAITLISTED], State.HELD, now, expires_at=expires
        ):
            _release(session, slot_id, units, confirmed=False)
            continue
        booking = session.get(CapBooking, booking_id)
        assert booking is not None
        session.refresh(booking)
        _tell(session, booking, "promoted", now)
        promoted.append(booking_id)
    return promoted


def sweep_slot(session: Session, ctx: Context, slot_id: str, now: datetime) -> bool:
    """Expire the lapsed holds of one slot and promote its waitlist; True if anything was freed.

    A departed sailing is left alone: its bookings are history (what left on board is recorded),
    so a hold on it neither expires nor lets a waitlisted booking in.
    """
    return _sweep_slot(session, ctx, slot_id, now) > 0


def _sweep_slot(
    session: Session, ctx: Context, slot_id: str, now: datetime, open_known: bool = False
) -> int:
    """:func:`sweep_slot`, returning how many holds expired (``open_known``: the caller has just
    read that the slot has not departed)."""
    lapsed_of = (
        CapBooking.slot_id == slot_id,
        CapBooking.state == State.HELD.value,
        CapBooking.expires_at <= now,
    )
    # Usually nothing has lapsed: one read of ids says so, before any object is loaded.
    if session.execute(select(CapBooking.id).where(*lapsed_of).limit(1)).first() is None:
        return 0
    if not open_known and session.scalar(select(CapSlot.departed_at).where(CapSlot.id == slot_id)):
        return 0
    lapsed = session.scalars(select(CapBooking).where(*lapsed_of)).all()
    expired = 0
    for booking in lapsed:
        if _set_state(session, booking.id, [State.HELD], State.EXPIRED, now):
            _release(session, slot_id, booking.units, confirmed=False)
            session.refresh(booking)
            _tell(session, booking, "expired", now)
            expired += 1
    if expired:
        promote(session, ctx, slot_id, now)
        _slot_event(session, slot_id, "expired", now)
    return expired


def _lapsed_slots(now: datetime) -> Any:
    return (
        select(CapBooking.slot_id)
        .join(CapSlot, CapSlot.id == CapBooking.slot_id)
        .where(
            CapBooking.state == State.HELD.value,
            CapBooking.expires_at <= now,
            CapSlot.departed_at.is_(None),
        )
    )


def sweep_due(session: Session, now: datetime | None = None) -> bool:
    """Whether any hold has lapsed (a read: the upkeep takes the write lock only when it has)."""
    return session.scalar(_lapsed_slots(now or clock()).limit(1)) is not None


def sweep(session: Session, ctx: Context, now: datetime | None = None) -> int:
    """Expire every lapsed hold (and promote waitlists); returns how many holds expired."""
    now = now or clock()
    slots = set(session.scalars(_lapsed_slots(now)))
    return sum(_sweep_slot(session, ctx, slot_id, now) for slot_id in sorted(slots))


# -- reading capacity ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SailingView:
    line: Line
    arrival: datetime
    vessel: str | None
    estimate: DepartureEstimate | None


def _lines(
    session: Session, ctx: Context, deps: list[Departure]
) -> list[tuple[Departure, Line, datetime | None]]:
    keys = [slot_key(d.service, d.from_node, d.departure) for d in deps]
    rows: dict[str, CapSlot] = {}
    waitlisted: dict[str, int] = {}
    opened: dict[str, datetime] = {}
    for chunk in range(0, len(keys), 500):
        part = keys[chunk : chunk + 500]
        rows.update({r.id: r for r in session.scalars(select(CapSlot).where(CapSlot.id.in_(part)))})
        waitlisted.update(
            {
                k: int(v)
                for k, v in session.execute(
                    select(CapBooking.slot_id, func.sum(CapBooking.units))
                    .where(
                        CapBooking.slot_id.in_(part),
                        CapBooking.state == State.WAITLISTED.value,
                    )
                    .group_by(CapBooking.slot_id)
                ).all()
            }
        )
        opened.update(
            {
                k: v
                for k, v in session.execute(
                    select(CapBooking.slot_id, func.min(CapBooking.created_at))
                    .where(CapBooking.slot_id.in_(part))
                    .group_by(CapBooking.slot_id)
                ).all()
            }
        )
    out = []
    for d, key in zip(deps, keys, strict=True):
        row = rows.get(key)
        unit = ctx.data.unit_of(d.service)
        line = Line(
            kind=_kind(d),
            key=key,
            name=d.service,
            operator=d.operator,
            from_node=d.from_node,
            to_node=d.to_node,
            departure=d.departure,
            unit=unit.value if unit else "",
            capacity=row.capacity
            if row
            else (ctx.data.capacity_of(d.service, d.from_node, d.scheduled) or 0),
            held=row.held if row else 0,
            confirmed=row.confirmed if row else 0,
            waitlisted=waitlisted.get(key, 0),
        )
        first = opened.get(key)
        out.append((d, line, first.astimezone(UTC) if first else None))
    return out


def sailings(
    session: Session,
    ctx: Context,
    from_node: str | None,
    to_node: str | None,
    start: datetime,
    days: int,
    now: datetime | None = None,
    service: str | None = None,
) -> list[SailingView]:
    """Departures of managed services in the window, with free capacity and, for ferries that
    sail when loaded, the estimated departure from the bookings already held."""
    now = now or clock()
    for name, node in (("from_node", from_node), ("to_node", to_node)):
        if node is not None and node not in ctx.network.nodes:
            raise CapacityError("not_found", name, f"no node {node!r}")
    if service is not None and service not in ctx.data.services:
        raise CapacityError("not_found", "service", f"no managed service {service!r}")
    start = check_window(start, "start")
    managed = frozenset({service}) if service else frozenset(ctx.data.services)
    deps = departures(ctx.network, start, start + timedelta(days=days), from_node, to_node, managed)
    views = []
    for d, line, first in _lines(session, ctx, deps):
        vessel = ctx.data.vessels.get(d.service)
        estimate = None
        if vessel is not None and line.capacity > 0:
            rule = (
                FerryRule(vessel.load_factor, vessel.max_wait_h)
                if vessel.rule is DepartureRule.WHEN_LOADED
                else FerryRule()
            )
            estimate = estimate_departure(
                rule, d.departure, line.capacity, line.held + line.confirmed, now, first
            )
        views.append(SailingView(line, d.arrival, vessel.name if vessel else None, estimate))
    return views


def board_lines(session: Session, ctx: Context, start: datetime, days: int) -> list[Line]:
    """Every departure of the window for the dispatch board: sailings from each port, trains from
    their first stop, plus any other departure that already has bookings."""
    deps = departures(
        ctx.network, start, start + timedelta(days=days), services=frozenset(ctx.data.services)
    )
    firsts = {(s.id, s.stops[0]) for s in ctx.network.services.values()} | {
        (s.id, s.stops[-1]) for s in ctx.network.services.values() if s.both_directions
    }
    booked = set(
        session.scalars(
            select(CapSlot.id).where(
                CapSlot.departure >= start, CapSlot.departure < start + timedelta(days=days)
            )
        )
    )
    chosen = [
        d
        for d in deps
        if d.mode in ("ferry", "sea")
        or (d.service, d.from_node) in firsts
        or slot_key(d.service, d.from_node, d.departure) in booked
    ]
    return [line for _d, line, _f in _lines(session, ctx, chosen)]


def events_after(session: Session, who: Principal, after: int, limit: int = 200) -> list[CapEvent]:
    """Events newer than ``after`` that ``who`` may see: public slot changes and its own bookings."""
    stmt = select(CapEvent).where(CapEvent.seq > after)
    if who.kind is not OrgKind.ADMIN:
        stmt = stmt.where(
            (CapEvent.organisation_id.is_(None)) | (CapEvent.organisation_id == who.organisation_id)
        )
    return list(session.scalars(stmt.order_by(CapEvent.seq).limit(limit)))


def last_event(session: Session) -> int:
    return int(session.scalar(select(func.max(CapEvent.seq))) or 0)


# -- planning with capacity ---------------------------------------------------------------------


def taken_between(session: Session, start: datetime, end: datetime) -> list[Taken]:
    """The share taken of every departure in [start, end) that has any booking."""
    rows = session.execute(
        select(
            CapSlot.service,
            CapSlot.from_node,
            CapSlot.departure,
            CapSlot.capacity,
            CapSlot.held,
            CapSlot.confirmed,
        ).where(
            CapSlot.departure >= start,
            CapSlot.departure < end,
            CapSlot.held + CapSlot.confirmed > 0,
        )
    ).all()
    return [Taken(r[0], r[1], r[2], (r[4] + r[5]) / r[3] if r[3] else 1.0) for r in rows]


@dataclass(frozen=True)
class LegLoad:
    leg: int
    service: str
    from_node: str
    departure: datetime
    unit: str
    capacity: int
    taken: int

    @property
    def load_factor(self) -> float:
        return self.taken / self.capacity if self.capacity else 1.0


@dataclass(frozen=True)
class CapacityPlan:
    options: list[Itinerary]
    loads: list[list[LegLoad]]  # per option, per managed leg
    skipped: list[tuple[str, str, str, datetime]]  # full departures the plan would have used


def plan_with_capacity(
    session: Session, ctx: Context, query: Query, criterion: Criterion | None
) -> CapacityPlan:
    """Plan on a timetable that knows what is taken: full departures are skipped, and said so.

    The departures a capacity-blind plan would have used but that cannot take this cargo are
    returned in ``skipped`` so the user sees why the answer leaves later.
    """
    shared = planner_for(ctx.network, query)
    # The process shares one planner per window: mark the bookings on a private copy of its
    # timetable's booked map, never on the shared one.
    planner = copy.copy(shared)
    planner.tt = copy.copy(shared.tt)
    planner.tt.booked = dict(shared.tt.booked)
    first = planner.tt.epoch
    taken = taken_between(session, first, first + timedelta(hours=planner.tt.horizon_h))
    mark_taken(planner.tt, taken)
    options = plan_itineraries(planner, query, criterion)
    skipped: list[tuple[str, str, str, datetime]] = []
    full = blocked(planner.tt, taken, query.cargo.teu)
    if full:
        blind = best(shared, query, criterion or Criterion.TIME)
        skipped = [
            (leg.service, leg.from_node, leg.to_node, minute(leg.departure))
            for leg in blind.legs
            if leg.service and (leg.service, leg.from_node, minute(leg.departure)) in full
        ]
    loads = []
    for option in options:
        keys = {
            i: slot_key(leg.service, leg.from_node, leg.departure)
            for i, leg in enumerate(option.legs)
            if leg.service and leg.service in ctx.data.services
        }
        rows = (
            {
                r.id: r
                for r in session.scalars(select(CapSlot).where(CapSlot.id.in_(list(keys.values()))))
            }
            if keys
            else {}
        )
        per: list[LegLoad] = []
        for i, key in keys.items():
            leg = option.legs[i]
            assert leg.service is not None
            row = rows.get(key)
            capacity = (
                row.capacity
                if row
                else (ctx.data.capacity_of(leg.service, leg.from_node, leg.departure) or 0)
            )
            unit = ctx.data.unit_of(leg.service)
            per.append(
                LegLoad(
                    i,
                    leg.service,
                    leg.from_node,
                    minute(leg.departure),
                    unit.value if unit else "",
                    capacity,
                    row.held + row.confirmed if row else 0,
                )
            )
        loads.append(per)
    return CapacityPlan(options, loads, skipped)


def shipment_booking_ids(s: Session, shipment_id: str) -> list[str]:
    """The ids of the capacity bookings that hold the legs of one shipment."""
    return list(s.scalars(select(CapBooking.id).where(CapBooking.shipment_id == shipment_id)))
