"""Transit declarations in the database: lodge, act at offices, pre-arrival lists, KPIs, verify.

Every operation goes through :func:`_append`, which locks the log head, chains the entry to the
previous one and signs it with the acting organisation's key, in the same transaction as the
change it records: either both are stored or neither.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from corridor.customs import ledger
from corridor.customs.declaration import DeclarationBody
from corridor.customs.lifecycle import Action, Party, Progress, State, TransitionError, check_action
from corridor.customs.offices import OfficeStop, office_itinerary
from corridor.customs.risk import Channel, Profile, assess
from corridor.network import Network
from corridor.routing import Itinerary
from corridor.store.accounts import Principal, now
from corridor.store.keys import public_keys, signing_key
from corridor.store.models import (
    CustomsDeclaration,
    CustomsLogEntry,
    CustomsLogHead,
    OrgKind,
    Shipment,
)
from corridor.store.shipments import ShipmentError, get_visible

#: Duties and taxes at risk, as a share of the declared value, that the guarantee must cover
#: (a planning figure for transit guarantees; each authority would set its own).
DUTY_RATE = 0.20


class CustomsError(ValueError):
    def __init__(self, code: str, field: str, reason: str) -> None:
        self.code, self.field, self.reason = code, field, reason
        super().__init__(f"{field}: {reason}")


def _stops(row: CustomsDeclaration) -> list[OfficeStop]:
    return [OfficeStop.model_validate(s) for s in row.offices["stops"]]


def _channels(row: CustomsDeclaration) -> dict[int, Channel]:
    return {int(i): Channel(c["channel"]) for i, c in row.offices["channels"].items()}


def _append(
    session: Session,
    keys_dir: Path,
    declaration_id: str,
    action: str,
    office_id: str | None,
    actor_org: str,
    signer_org: str | None,
    details: dict[str, Any],
) -> CustomsLogEntry:
    head = session.get(CustomsLogHead, 1, with_for_update=True)
    if head is None:
        head = CustomsLogHead(id=1, seq=0, record_hash=ledger.GENESIS)
        session.add(head)
        session.flush()
    session.execute(
        update(CustomsLogHead).where(CustomsLogHead.id == 1).values(seq=CustomsLogHead.seq + 1)
    )
    session.refresh(head)
    key_id, key = signing_key(session, keys_dir, signer_org)
    stamp = now()
    body = {
        "seq": head.seq,
        "declaration": declaration_id,
        "action": action,
        "office": office_id,
        "actor": actor_org,
        "details": details,
        "at": stamp.isoformat(),
    }
    record_hash = ledger.entry_hash(head.record_hash, body)
    entry = CustomsLogEntry(
        seq=head.seq,
        declaration_id=declaration_id,
        action=action,
        office_id=office_id,
        actor_org=actor_org,
        body=body,
        prev_hash=head.record_hash,
        record_hash=record_hash,
        key_id=key_id,
        signature=ledger.sign(key, record_hash),
        created_at=stamp,
    )
    head.record_hash = record_hash
    session.add(entry)
    session.flush()
    return entry


def _assess_all(
    body: DeclarationBody, stops: list[OfficeStop], profiles: list[Profile], incidents: int
) -> dict[str, Any]:
    result = {}
    for i, stop in enumerate(stops):
        a = assess(body, profiles, stop.office.country, incidents)
        result[str(i)] = {"channel": a.channel.value, "score": a.score, "reasons": list(a.reasons)}
    return result


def _past_incidents(session: Session, holder_org: str) -> int:
    return sum(
        session.scalars(
            select(CustomsDeclaration.incidents).where(CustomsDeclaration.holder_org == holder_org)
        )
    )


def create(
    session: Session,
    who: Principal,
    network: Network,
    keys_dir: Path,
    profiles: list[Profile],
    shipment_id: str,
    body: DeclarationBody,
) -> CustomsDeclaration:
    """A draft declaration for a booked shipment, with its offices and the channel at each."""
    if who.kind is not OrgKind.FORWARDER:
        raise CustomsError(
            "forbidden", "organisation", "only the forwarder that booked the shipment declares it"
        )
    try:
        shipment: Shipment = get_visible(session, who, shipment_id)
    except ShipmentError:
        raise CustomsError("not_found", "shipment_id", f"no shipment {shipment_id!r}") from None
    if shipment.status != "planned":
        raise CustomsError("conflict", "shipment_id", f"the shipment is {shipment.status}")
    stops = office_itinerary(network, Itinerary.model_validate(shipment.itinerary))
    incidents = _past_incidents(session, who.organisation_id)
    row = CustomsDeclaration(
        id=uuid.uuid4().hex[:16],
        lrn=body.lrn,
        shipment_id=shipment.id,
        holder_org=who.organisation_id,
        state=State.DRAFT.value,
        position=0,
        arrived=False,
        checked=False,
        body=body.model_dump(mode="json"),
        offices={
            "stops": [s.model_dump(mode="json") for s in stops],
            "channels": _assess_all(body, stops, profiles, incidents),
        },
        countries=";".join(sorted({s.office.country for s in stops})),
        guarantee_state="registered",
        incidents=0,
        created_at=now(),
        updated_at=now(),
    )
    session.add(row)
    session.flush()
    _append(
        session,
        keys_dir,
        row.id,
        "draft",
        None,
        who.organisation_id,
        None,
        {"lrn": body.lrn, "shipment": shipment.id, "offices": [s.office.id for s in stops]},
    )
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
) -> CustomsDeclaration:
    """Perform ``action``; refused with CustomsError/TransitionError leaving everything unchanged."""
    row = get(session, who, declaration_id)
    stops = _stops(row)
    state = State(row.state)
    if who.kind is OrgKind.CUSTOMS:
        party = Party.CUSTOMS
        if office_id is None:
            raise CustomsError("invalid", "office_id", "a customs action names the office acting")
        index = next((i for i, s in enumerate(stops) if s.office.id == office_id), None)
        if index is None:
            raise CustomsError(
                "invalid",
                "office_id",
                f"office {office_id!r} is not on this declaration's itinerary",
            )
        if stops[index].office.country != who.country:
            raise CustomsError(
                "forbidden",
                "office_id",
                f"{stops[index].office.name} is in {stops[index].office.country}; "
                f"your authority acts only at offices in {who.country}",
            )
    elif who.kind is OrgKind.FORWARDER and row.holder_org == who.organisation_id:
        party, index = Party.HOLDER, None
    else:
        raise CustomsError(
            "forbidden", "organisation", "only the holder or a customs authority on the route acts"
        )
    progress = Progress(row.position, row.arrived, row.checked)
    move = check_action(state, action, party, index, stops, progress, _channels(row))
    held = row.offices.get("held")
    if (
        held is not None
        and action in (Action.RELEASE, Action.PASS, Action.DISCHARGE)
        and held == index
    ):
        raise CustomsError(
            "conflict",
            "action",
            f"the check at {stops[held].office.name} found the goods not conform: "
            "they are held there and cannot move on",
        )
    body = DeclarationBody.model_validate(row.body)
    values: dict[str, Any] = {}
    offices = dict(row.offices)
    if action is Action.ACCEPT:
        at_risk = body.value * DUTY_RATE
        if body.guarantee.amount < at_risk:
            raise CustomsError(
                "invalid",
                "guarantee.amount",
                f"guarantee {body.guarantee.amount:,.2f} {body.guarantee.currency} is below the "
                f"duties at risk {at_risk:,.2f} ({DUTY_RATE:.0%} of the declared value)",
            )
        values["guarantee_state"] = "held"
    if action is Action.AMEND:
        amended = DeclarationBody.model_validate(details.get("body", {}))
        values["body"] = amended.model_dump(mode="json")
        values["lrn"] = amended.lrn
        offices["channels"] = _assess_all(
            amended, stops, profiles, _past_incidents(session, row.holder_org)
        )
        details = {"body": values["body"]}
    if action is Action.CHECK:
        result = str(details.get("result", "")).strip()
        if result not in ("conform", "not_conform"):
            raise CustomsError(
                "invalid", "details.result", "a check records result 'conform' or 'not_conform'"
            )
        if result == "not_conform":
            offices["held"] = index
    if action is Action.INCIDENT:
        kind = details.get("kind")
        if kind not in ("seal_broken", "transshipment", "accident"):
            raise CustomsError(
                "invalid", "details.kind", "an incident is seal_broken, transshipment or accident"
            )
        values["incidents"] = row.incidents + 1
    if action in (Action.DISCHARGE, Action.CANCEL) and row.guarantee_state in (
        "registered",
        "held",
    ):
        values["guarantee_state"] = "released"
    try:
        ledger.canonical({"details": details})
    except ValueError:
        raise CustomsError("invalid", "details", "NaN and Infinity are not JSON numbers") from None
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
        )
        .values(
            state=move.state.value,
            position=move.progress.position,
            arrived=move.progress.arrived,
            checked=move.progress.checked,
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
        session, keys_dir, row.id, action.value, office_id, who.organisation_id, signer, details
    )
    session.refresh(row)
    return row


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
    """Average hours from arrival to release (departure: lodge to release; others: arrive to pass)."""
    entries = session.scalars(
        select(CustomsLogEntry)
        .where(CustomsLogEntry.office_id == office_id)
        .order_by(CustomsLogEntry.seq)
    ).all()
    started: dict[str, datetime] = {}
    durations: list[float] = []
    declarations = set()
    for e in entries:
        declarations.add(e.declaration_id)
        if e.action in ("arrive", "accept"):
            started.setdefault(e.declaration_id, e.created_at)
        elif e.action in ("pass", "release", "discharge") and e.declaration_id in started:
            durations.append((e.created_at - started.pop(e.declaration_id)).total_seconds() / 3600)
    channels = []
    for decl_id in declarations:
        row = session.get(CustomsDeclaration, decl_id)
        if row is None:
            continue
        for i, stop in enumerate(_stops(row)):
            if stop.office.id == office_id:
                channels.append(row.offices["channels"][str(i)]["channel"])
    return {
        "office_id": office_id,
        "declarations": len(declarations),
        "released": len(durations),
        "average_hours_to_release": round(sum(durations) / len(durations), 3)
        if durations
        else None,
        "share_green": round(channels.count("green") / len(channels), 3) if channels else None,
    }


def verify(session: Session) -> ledger.Report:
    """Verify the whole log, streaming it in batches (the server-side cursor is always closed)."""
    keys = public_keys(session)
    rows = session.scalars(
        select(CustomsLogEntry).order_by(CustomsLogEntry.seq).execution_options(yield_per=5000)
    )
    try:
        entries = (
            ledger.Entry(r.seq, r.body, r.prev_hash, r.record_hash, r.key_id, r.signature)
            for r in rows
        )
        return ledger.verify(entries, keys)
    finally:
        rows.close()


__all__ = [
    "CustomsError",
    "TransitionError",
    "act",
    "create",
    "expected_at",
    "get",
    "kpis",
    "verify",
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
