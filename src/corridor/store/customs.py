"""Transit declarations in the database: read, ask the customs rules, write, append to the log.

The rules are in :mod:`corridor.customs.rules`; this module only reads rows, hands them to the
rules and writes back what they decided. Every change goes with its log records through
:func:`_append`, in the same transaction: either both are stored or neither. An append takes
the log head's row lock once for a whole batch of records, signs each record with the key of the
organisation that acted, and signs one new tree head for the batch.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from corridor.customs import ledger, rules
from corridor.customs.declaration import DeclarationBody
from corridor.customs.lifecycle import Action, Party, Progress, State, TransitionError
from corridor.customs.offices import OfficeStop, office_itinerary
from corridor.customs.risk import Channel, Profile
from corridor.customs.rules import CustomsError, DutyRate, GuaranteeState
from corridor.customs.trust import PLATFORM
from corridor.network import Network
from corridor.routing import Itinerary
from corridor.settings import PACKAGE_DATA_DIR
from corridor.store import tracking_publish
from corridor.store.accounts import Principal, now
from corridor.store.customs_tables import CustomsTreeHead
from corridor.store.keys import signing_keys
from corridor.store.models import (
    CustomsDeclaration,
    CustomsLogEntry,
    CustomsLogHead,
    OrgKind,
    Shipment,
)
from corridor.tracking.errors import TrackingError
from corridor.tracking.publish import moment_event

#: Most declarations one batch may lodge (one transaction, one tree head).
MAX_BATCH = 1000

log = logging.getLogger("corridor.customs")


@cache
def default_duty_rates() -> dict[str, DutyRate]:
    return rules.load_duty_rates(PACKAGE_DATA_DIR / "customs_duty_rates.csv")


def _stops(row: CustomsDeclaration) -> list[OfficeStop]:
    return [OfficeStop.model_validate(s) for s in row.offices["stops"]]


def _channels(row: CustomsDeclaration) -> dict[int, Channel]:
    return {int(i): Channel(c["channel"]) for i, c in row.offices["channels"].items()}


@dataclass(frozen=True)
class Pending:
    """A log record to append: what happened, by whom, signed by whom (None = the platform)."""

    declaration_id: str
    action: str
    office_id: str | None
    office_index: int | None
    actor_org: str
    signer_org: str | None
    details: dict[str, Any]


def _frontier(session: Session, size: int, tree: Any) -> ledger.MerkleFrontier:
    if tree.size == size:
        return ledger.MerkleFrontier.from_peaks(tree.size, tree.frontier)
    # A log from before tree heads existed: rebuild the frontier from its records, once.
    frontier = ledger.MerkleFrontier()
    for record_hash in session.scalars(
        select(CustomsLogEntry.record_hash).order_by(CustomsLogEntry.seq)
    ):
        frontier.append(record_hash)
    return frontier


def _append(session: Session, keys_dir: Path, pending: Sequence[Pending]) -> ledger.TreeHead:
    """Append ``pending`` under one lock and one signed tree head; returns that head."""
    # The UPDATE takes the row lock (PostgreSQL) or the write lock (SQLite) before anything is
    # read, so two appends never chain to the same predecessor.
    head = session.execute(
        update(CustomsLogHead)
        .where(CustomsLogHead.id == 1)
        .values(seq=CustomsLogHead.seq)
        .returning(CustomsLogHead.seq, CustomsLogHead.record_hash)
    ).one()
    tree = session.execute(
        select(CustomsTreeHead.size, CustomsTreeHead.frontier).where(CustomsTreeHead.id == 1)
    ).one()
    frontier = _frontier(session, head.seq, tree)
    seq, prev = head.seq, head.record_hash
    stamp = now()
    at = stamp.isoformat()
    keys = signing_keys(session, keys_dir, {p.signer_org for p in pending} | {None})
    rows = []
    for p in pending:
        key_id, key = keys[p.signer_org]
        seq += 1
        body = {
            "seq": seq,
            "declaration": p.declaration_id,
            "action": p.action,
            "office": p.office_id,
            "office_index": p.office_index,
            "actor": p.actor_org,
            "signer": p.signer_org or PLATFORM,
            "details": p.details,
            "at": at,
        }
        record_hash = ledger.entry_hash(prev, body)
        rows.append(
            {
                "seq": seq,
                "declaration_id": p.declaration_id,
                "action": p.action,
                "office_id": p.office_id,
                "actor_org": p.actor_org,
                "body": body,
                "prev_hash": prev,
                "record_hash": record_hash,
                "key_id": key_id,
                "signature": ledger.sign(key, record_hash),
                "created_at": stamp,
            }
        )
        frontier.append(record_hash)
        prev = record_hash
    session.execute(insert(CustomsLogEntry), rows)
    session.execute(
        update(CustomsLogHead).where(CustomsLogHead.id == 1).values(seq=seq, record_hash=prev)
    )
    sth = ledger.TreeHead(frontier.size, frontier.root(), int(stamp.timestamp() * 1000))
    operator_id, operator = keys[None]
    session.execute(
        update(CustomsTreeHead)
        .where(CustomsTreeHead.id == 1)
        .values(
            size=sth.size,
            root_hash=sth.root,
            frontier=frontier.peaks(),
            timestamp=sth.timestamp,
            key_id=operator_id,
            signature=ledger.sign_head(operator, sth),
        )
    )
    return sth


def _past_incidents(session: Session, holder_org: str) -> int:
    total = session.scalar(
        select(func.coalesce(func.sum(CustomsDeclaration.incidents), 0)).where(
            CustomsDeclaration.holder_org == holder_org
        )
    )
    return int(total or 0)


@dataclass(frozen=True)
class NewDeclaration:
    shipment_id: str
    body: DeclarationBody


@dataclass(frozen=True)
class Lodged:
    """What a batch answers for each declaration it stored."""

    id: str
    lrn: str
    shipment_id: str
    state: str
    departure_channel: str


@dataclass(frozen=True)
class _Route:
    """A booked itinerary's offices, computed and serialised once per distinct itinerary."""

    stops: list[OfficeStop]
    stops_json: list[dict[str, Any]]
    countries: str
    office_ids: list[str]


def _route(network: Network, itinerary: dict[str, Any]) -> _Route:
    stops = office_itinerary(network, Itinerary.model_validate(itinerary))
    return _Route(
        stops,
        [s.model_dump(mode="json") for s in stops],
        ";".join(sorted({s.office.country for s in stops})),
        [s.office.id for s in stops],
    )


def create_many(
    session: Session,
    who: Principal,
    network: Network,
    keys_dir: Path,
    profiles: list[Profile],
    items: Sequence[NewDeclaration],
    lodge: bool = True,
) -> list[Lodged]:
    """Declarations for booked shipments, all or none, in one transaction and one log append.

    One declaration per shipment: a shipment already declared, or declared twice in the batch,
    is refused with a conflict naming it (the unique index settles concurrent batches). The
    statements do not grow with the batch: three reads, one multi-row insert of declarations,
    one of log records, and the log head.
    """
    if who.kind is not OrgKind.FORWARDER:
        raise CustomsError(
            "forbidden", "organisation", "only the forwarder that booked the shipment declares it"
        )
    if not 1 <= len(items) <= MAX_BATCH:
        raise CustomsError(
            "invalid", "declarations", f"a batch holds 1 to {MAX_BATCH} declarations"
        )
    field = "shipment_id" if len(items) == 1 else "declarations.{}.shipment_id"
    ids = [item.shipment_id for item in items]
    first = {sid: i for i, sid in reversed(list(enumerate(ids)))}
    for i, sid in enumerate(ids):
        if first[sid] != i:
            raise CustomsError("conflict", field.format(i), f"shipment {sid!r} is declared twice")
    shipments = {
        r.id: r
        for r in session.execute(
            select(Shipment.id, Shipment.status, Shipment.itinerary).where(
                Shipment.id.in_(ids), Shipment.organisation_id == who.organisation_id
            )
        )
    }
    taken = set(
        session.scalars(
            select(CustomsDeclaration.shipment_id).where(CustomsDeclaration.shipment_id.in_(ids))
        )
    )
    for i, sid in enumerate(ids):
        shipment = shipments.get(sid)
        if shipment is None:
            raise CustomsError("not_found", field.format(i), f"no shipment {sid!r}")
        if shipment.status != "planned":
            raise CustomsError("conflict", field.format(i), f"the shipment is {shipment.status}")
        if sid in taken:
            raise CustomsError(
                "conflict", field.format(i), f"shipment {sid!r} already has a declaration"
            )
    incidents = _past_incidents(session, who.organisation_id)
    stamp = now()
    state = State.LODGED if lodge else State.DRAFT
    rows: list[dict[str, Any]] = []
    pending: list[Pending] = []
    answers: list[Lodged] = []
    routes: dict[str, _Route] = {}
    for item in items:
        shipment = shipments[item.shipment_id]
        key = str(shipment.itinerary)
        route = routes.get(key)
        if route is None:
            route = routes[key] = _route(network, shipment.itinerary)
        channels = rules.assess_all(item.body, route.stops, profiles, incidents)
        decl_id = uuid.uuid4().hex[:16]
        rows.append(
            {
                "id": decl_id,
                "lrn": item.body.lrn,
                "shipment_id": shipment.id,
                "holder_org": who.organisation_id,
                "state": state.value,
                "position": 0,
                "arrived": False,
                "checked": False,
                "body": item.body.model_dump(mode="json"),
                "offices": {"stops": route.stops_json, "channels": channels},
                "countries": route.countries,
                "guarantee_state": GuaranteeState.REGISTERED.value,
                "incidents": 0,
                "version": 1,
                "created_at": stamp,
                "updated_at": stamp,
            }
        )
        answers.append(
            Lodged(decl_id, item.body.lrn, shipment.id, state.value, channels["0"]["channel"])
        )
        draft = {"lrn": item.body.lrn, "shipment": shipment.id, "offices": route.office_ids}
        pending.append(Pending(decl_id, "draft", None, None, who.organisation_id, None, draft))
        if lodge:
            pending.append(
                Pending(decl_id, Action.LODGE.value, None, None, who.organisation_id, None, {})
            )
    # Inserted in shipment order, so that two concurrent batches take the unique index in the
    # same order and cannot deadlock.
    rows.sort(key=lambda r: str(r["shipment_id"]))
    try:
        session.execute(insert(CustomsDeclaration), rows)
    except IntegrityError:
        raise CustomsError(
            "conflict", "shipment_id", "a declaration for this shipment was made at the same time"
        ) from None
    _append(session, keys_dir, pending)
    return answers


def create(
    session: Session,
    who: Principal,
    network: Network,
    keys_dir: Path,
    profiles: list[Profile],
    shipment_id: str,
    body: DeclarationBody,
    lodge: bool = False,
) -> CustomsDeclaration:
    """A declaration (a draft, or lodged at once) for one booked shipment."""
    (made,) = create_many(
        session, who, network, keys_dir, profiles, [NewDeclaration(shipment_id, body)], lodge
    )
    row = session.get(CustomsDeclaration, made.id)
    assert row is not None
    return row


def visible(session: Session, who: Principal) -> Iterator[CustomsDeclaration]:
    stmt = select(CustomsDeclaration).order_by(CustomsDeclaration.created_at.desc())
    if who.kind is OrgKind.FORWARDER:
        stmt = stmt.where(CustomsDeclaration.holder_org == who.organisation_id)
    elif who.kind is OrgKind.CARRIER:
        return
    for row in session.scalars(stmt):
        if who.kind is OrgKind.CUSTOMS and who.country not in row.countries.split(";"):
            continue
        yield row


def get(session: Session, who: Principal, declaration_id: str) -> CustomsDeclaration:
    row = session.get(CustomsDeclaration, declaration_id)
    allowed = row is not None and (
        who.kind is OrgKind.ADMIN
        or (who.kind is OrgKind.FORWARDER and row.holder_org == who.organisation_id)
        or (who.kind is OrgKind.CUSTOMS and who.country in row.countries.split(";"))
    )
    if row is None or not allowed:
        raise CustomsError("not_found", "declaration_id", f"no declaration {declaration_id!r}")
    return row


def act(
    session: Session,
    who: Principal,
    keys_dir: Path,
    profiles: list[Profile],
    declaration_id: str,
    action: Action,
    office_id: str | None,
    details: dict[str, Any],
    duty_rates: Mapping[str, DutyRate] | None = None,
    version: int | None = None,
) -> CustomsDeclaration:
    """Perform ``action``; refused with CustomsError/TransitionError leaving everything unchanged.

    ``version``, when given, is the version the caller read: an action on a declaration that has
    moved on since is refused (409), so that of many amendments of one version exactly one wins.
    """
    row = get(session, who, declaration_id)
    if version is not None and version != row.version:
        raise CustomsError(
            "conflict",
            "version",
            f"the declaration is at version {row.version}, not {version}; read it again",
        )
    stops = _stops(row)
    party = rules.party_for(who.kind.value, row.holder_org == who.organisation_id)
    index = rules.office_index(stops, office_id, who.country) if party is Party.CUSTOMS else None
    facts = rules.Facts(
        state=State(row.state),
        progress=Progress(row.position, row.arrived, row.checked),
        stops=stops,
        channels=_channels(row),
        held=row.offices.get("held"),
        guarantee=GuaranteeState(row.guarantee_state),
        incidents=row.incidents,
        body=DeclarationBody.model_validate(row.body),
    )
    past = _past_incidents(session, row.holder_org) if action is Action.AMEND else 0
    decision = rules.decide(
        facts,
        action,
        party,
        index,
        details,
        default_duty_rates() if duty_rates is None else duty_rates,
        profiles,
        past,
    )
    try:
        ledger.canonical({"details": decision.details})
    except ValueError:
        raise CustomsError("invalid", "details", "NaN and Infinity are not JSON numbers") from None
    offices = dict(row.offices)
    if decision.held is not None:
        offices["held"] = decision.held
    values: dict[str, Any] = {}
    if decision.amended is not None:
        values["body"] = decision.amended.model_dump(mode="json")
        values["lrn"] = decision.amended.lrn
        offices["channels"] = decision.channels
    # Optimistic concurrency: the update applies only if nobody changed the declaration since it
    # was read, so two officers acting at once cannot both pass the state machine.
    changed = session.execute(
        update(CustomsDeclaration)
        .where(
            CustomsDeclaration.id == row.id,
            CustomsDeclaration.state == row.state,
            CustomsDeclaration.position == row.position,
            CustomsDeclaration.arrived == row.arrived,
            CustomsDeclaration.checked == row.checked,
            CustomsDeclaration.updated_at == row.updated_at,
            CustomsDeclaration.version == row.version,
        )
        .values(
            state=decision.state.value,
            position=decision.progress.position,
            arrived=decision.progress.arrived,
            checked=decision.progress.checked,
            guarantee_state=decision.guarantee.value,
            incidents=decision.incidents,
            version=row.version + 1,
            updated_at=now(),
            offices=offices,
            **values,
        )
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        raise CustomsError(
            "conflict",
            "declaration_id",
            "the declaration changed while this action was checked; read it again and retry",
        )
    signer = who.organisation_id if party is Party.CUSTOMS else None
    _append(
        session,
        keys_dir,
        [
            Pending(
                row.id,
                action.value,
                office_id,
                index,
                who.organisation_id,
                signer,
                decision.details,
            )
        ],
    )
    _publish_moment(session, who, row, stops, index, action, decision.held is not None)
    session.refresh(row)
    return row


def amend(
    session: Session,
    who: Principal,
    keys_dir: Path,
    profiles: list[Profile],
    declaration_id: str,
    version: int,
    body: DeclarationBody,
    duty_rates: Mapping[str, DutyRate] | None = None,
) -> CustomsDeclaration:
    """The holder's amendment of version ``version``: signed in the log, risk assessed again."""
    row = get(session, who, declaration_id)
    if who.kind is not OrgKind.FORWARDER or row.holder_org != who.organisation_id:
        raise CustomsError(
            "forbidden", "organisation", "only the holder's forwarder amends a declaration"
        )
    return act(
        session,
        who,
        keys_dir,
        profiles,
        declaration_id,
        Action.AMEND,
        None,
        {"body": body.model_dump(mode="json")},
        duty_rates,
        version,
    )


def _publish_moment(
    session: Session,
    who: Principal,
    row: CustomsDeclaration,
    stops: Sequence[OfficeStop],
    index: int | None,
    action: Action,
    held: bool,
) -> None:
    """A release or a hold by an office is also an EPCIS event on the shipment, so one query
    shows a container's whole story (customs, tracking and capacity moments alike)."""
    if index is None or not (action is Action.RELEASE or held):
        return
    moment: Literal["customs_release", "customs_hold"] = (
        "customs_hold" if held else "customs_release"
    )
    body = DeclarationBody.model_validate(row.body)
    event = moment_event(
        moment,
        shipment_id=row.shipment_id,
        node=stops[index].office.node,
        when=now(),
        reference=row.id,
        containers=[c.number for c in body.containers],
    )
    try:
        tracking_publish.publish(session, who.organisation_id, [event])
    except TrackingError as exc:
        # The customs act stands on its own; a moment the repository refuses (a place or a
        # shipment it does not know) is logged, never a reason to undo a release.
        log.warning("customs %s of %s not published as EPCIS: %s", moment, row.id, exc)


def expected_at(session: Session, who: Principal, office_id: str) -> list[dict[str, Any]]:
    """Pre-arrival: declarations due at an office (not yet past it), with channel and reasons."""
    rows = []
    for row in visible(session, who):
        if row.state not in (State.LODGED, State.ACCEPTED, State.RELEASED, State.ARRIVED):
            continue
        stops = _stops(row)
        for i, stop in enumerate(stops):
            if stop.office.id == office_id and i >= row.position:
                rows.append(
                    {
                        "declaration": row,
                        "index": i,
                        "role": stop.role.value,
                        "channel": row.offices["channels"][str(i)],
                        "arrived": row.position == i and row.arrived,
                    }
                )
    return rows


def kpis(session: Session, office_id: str) -> dict[str, Any]:
    """Average hours from arrival to release (departure: accept to release; others: arrive to
    pass or discharge) and the share of green, in two queries whatever the number of declarations."""
    entries = session.execute(
        select(CustomsLogEntry.declaration_id, CustomsLogEntry.action, CustomsLogEntry.created_at)
        .where(CustomsLogEntry.office_id == office_id)
        .order_by(CustomsLogEntry.seq)
    ).all()
    started: dict[str, datetime] = {}
    durations: list[float] = []
    declarations: set[str] = set()
    for decl_id, action, at in entries:
        declarations.add(decl_id)
        if action in ("arrive", "accept"):
            started.setdefault(decl_id, at)
        elif action in ("pass", "release", "discharge") and decl_id in started:
            durations.append((at - started.pop(decl_id)).total_seconds() / 3600)
    channels = []
    if declarations:
        for offices in session.scalars(
            select(CustomsDeclaration.offices).where(CustomsDeclaration.id.in_(declarations))
        ):
            for i, stop in enumerate(offices["stops"]):
                if stop["office"]["id"] == office_id:
                    channels.append(offices["channels"][str(i)]["channel"])
    return {
        "office_id": office_id,
        "declarations": len(declarations),
        "released": len(durations),
        "average_hours_to_release": round(sum(durations) / len(durations), 3)
        if durations
        else None,
        "share_green": round(channels.count("green") / len(channels), 3) if channels else None,
    }


def tree_head(session: Session) -> ledger.SignedHead:
    """The log's current tree head, signed by the log operator (the platform key)."""
    row = session.get(CustomsTreeHead, 1)
    if row is None:
        raise CustomsError("not_found", "tree_head", "the log has no tree head yet")
    sigs = (ledger.Signature(PLATFORM, row.key_id, row.signature),) if row.signature else ()
    return ledger.SignedHead(ledger.TreeHead(row.size, row.root_hash, row.timestamp), sigs)


__all__ = [
    "MAX_BATCH",
    "CustomsError",
    "Lodged",
    "NewDeclaration",
    "TransitionError",
    "act",
    "amend",
    "create",
    "create_many",
    "expected_at",
    "get",
    "kpis",
    "tree_head",
    "visible",
]


def log_records(
    session: Session,
    declaration_id: str | None = None,
    office_id: str | None = None,
    before_seq: int | None = None,
    limit: int = 100,
) -> list[tuple[CustomsLogEntry, str]]:
    """Signed log records, newest first, with the acting organisation's name (read only).

    The officer's declaration detail, the office's KPI charts and the administrator's audit log
    read the same records the verifier checks, so what is shown is what is signed.
    """
    from corridor.store.models import Organisation

    stmt = (
        select(CustomsLogEntry, Organisation.name)
        .outerjoin(Organisation, Organisation.id == CustomsLogEntry.actor_org)
        .order_by(CustomsLogEntry.seq.desc())
        .limit(limit)
    )
    if declaration_id is not None:
        stmt = stmt.where(CustomsLogEntry.declaration_id == declaration_id)
    if office_id is not None:
        stmt = stmt.where(CustomsLogEntry.office_id == office_id)
    if before_seq is not None:
        stmt = stmt.where(CustomsLogEntry.seq < before_seq)
    return [(entry, name or entry.actor_org) for entry, name in session.execute(stmt).all()]
