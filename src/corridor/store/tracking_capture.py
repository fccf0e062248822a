"""Storing captured EPCIS events: all of a document or none, race-safe, tenant-checked.

The rules (schema, stamps, references, who may correct) are in ``corridor.tracking.capture``;
this module reads what they need and writes the outcome. Captures that insert are serialised
from their look for stored ids to their commit (SQLite's write lock; on PostgreSQL an advisory
lock, see :func:`serialise_inserts`): two clients capturing the same new event at once both
succeed without a unique-violation error, one inserts it, and the other finds it stored and
compares content (same: a duplicate; different: a conflict). New events go in by multi-row
``INSERT ... ON CONFLICT (event_id) DO NOTHING`` on SQLite (the row count checked) and by COPY on
PostgreSQL (with a fallback that skips conflicts, should one occur all the same).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from corridor.store.accounts import Principal, now
from corridor.store.models import EpcisEvent, Shipment
from corridor.tracking.capture import Prepared, canonical, check_references, may_correct, prepare
from corridor.tracking.errors import Problem, TrackingError
from corridor.tracking.events import Fact

CHUNK = 500


@dataclass
class CaptureResult:
    captured: int = 0
    corrected: int = 0
    duplicates: list[dict[str, int | str]] = field(default_factory=list)  # index, eventID[, of]
    shipments: set[str] = field(default_factory=set)
    event_ids: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {
            "captured": self.captured,
            "corrected": self.corrected,
            "duplicates": len(self.duplicates),
            "duplicateEvents": self.duplicates,
        }


def _existing(session: Session, ids: list[str]) -> list[str]:
    """The ids among ``ids`` that are stored already: one statement with one parameter (an array
    on PostgreSQL, a JSON array on SQLite), not a compiled IN list of a bound value per id."""
    if not ids:
        return []
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        rows = connection.exec_driver_sql(
            "SELECT event_id FROM epcis_events WHERE event_id = ANY(%s)", (ids,)
        )
    else:
        rows = connection.exec_driver_sql(
            "SELECT event_id FROM epcis_events WHERE event_id IN (SELECT value FROM json_each(?))",
            (orjson.dumps(ids).decode(),),
        )
    return [r[0] for r in rows]


def _stored(session: Session, ids: list[str]) -> dict[str, tuple[str, dict[str, Any]]]:
    """Who captured each stored one of ``ids``, and its body (read only for those found)."""
    found_ids = _existing(session, ids)
    found: dict[str, tuple[str, dict[str, Any]]] = {}
    for start in range(0, len(found_ids), CHUNK):
        rows = session.execute(
            select(EpcisEvent.event_id, EpcisEvent.captured_by, EpcisEvent.body).where(
                EpcisEvent.event_id.in_(found_ids[start : start + CHUNK])
            )
        )
        found.update({e: (c, b) for e, c, b in rows})
    return found


def _values(fact: Fact, organisation_id: str, recorded: Any, sqlite: bool) -> tuple[Any, ...]:
    """The row of ``fact`` in :data:`COLUMNS` order, ready for the driver: the body as JSON text,
    and on SQLite the times as SQLAlchemy's DATETIME stores them (``recorded`` is converted
    already). Built before the transaction's first statement, so none of it holds a lock."""
    return (
        fact.event_id,
        fact.event_type[:30],
        _sqlite_time(fact.event_time) if sqlite else fact.event_time,
        recorded,
        fact.action,
        (fact.biz_step or "")[:100] or None,
        (fact.disposition or "")[:100] or None,
        (fact.place or "")[:200] or None,
        (fact.read_point or "")[:200] or None,
        fact.node,
        fact.shipments[0] if fact.shipments else None,
        fact.error_declaration,
        organisation_id,
        _json(fact.body),
    )


COLUMNS = (
    "event_id",
    "event_type",
    "event_time",
    "record_time",
    "action",
    "biz_step",
    "disposition",
    "place",
    "read_point",
    "node_id",
    "shipment_id",
    "error_declared",
    "captured_by",
    "body",
)
_STAGE = """CREATE TEMP TABLE IF NOT EXISTS epcis_stage (
    ord integer, event_id varchar(200), event_type varchar(30), event_time timestamptz,
    record_time timestamptz, action varchar(10), biz_step varchar(100), disposition varchar(100),
    place varchar(200), read_point varchar(200), node_id varchar(64), shipment_id varchar(64),
    error_declared boolean, captured_by varchar(64), body json) ON COMMIT DELETE ROWS"""


def _json(body: Any) -> str:
    """A body as JSON text: orjson, or the standard encoder for what orjson refuses (integers
    beyond 64 bits, keys that are not strings), so that no valid document fails here."""
    try:
        return orjson.dumps(body).decode()
    except TypeError:
        return json.dumps(body)


def _copy_new(session: Session, rows: list[tuple[Any, ...]]) -> set[str]:
    """PostgreSQL: COPY the rows straight into ``epcis_events``; the event_ids inserted.

    :func:`capture` holds the capture lock (:func:`serialise_inserts`) since before it looked for
    stored ids, and every insert into ``epcis_events`` goes through it, so none of these rows can
    exist. Should one exist all the same, the COPY is undone to its savepoint and the rows go
    through :func:`_copy_staged`, which skips conflicts: never an error, never a lost event."""
    import psycopg

    raw = session.connection().connection.driver_connection
    assert raw is not None
    names = ", ".join(COLUMNS)
    try:
        # raw.transaction(): a savepoint inside the capture's open transaction
        with (
            raw.transaction(),
            raw.cursor() as cur,
            cur.copy(f"COPY epcis_events ({names}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
    except psycopg.errors.UniqueViolation:
        return _copy_staged(session, rows)
    return {row[0] for row in rows}


def _copy_staged(session: Session, rows: list[tuple[Any, ...]]) -> set[str]:
    """PostgreSQL: COPY the rows into a temporary stage, then one INSERT ... SELECT with
    ON CONFLICT DO NOTHING RETURNING (COPY itself cannot skip conflicts)."""
    raw = session.connection().connection.driver_connection
    assert raw is not None
    names = ", ".join(COLUMNS)
    with raw.cursor() as cur:
        cur.execute(_STAGE)
        with cur.copy(f"COPY epcis_stage (ord, {names}) FROM STDIN") as copy:
            for n, row in enumerate(rows):
                copy.write_row((n, *row))
        cur.execute(
            f"INSERT INTO epcis_events ({names}) SELECT {names} FROM epcis_stage ORDER BY ord "
            "ON CONFLICT (event_id) DO NOTHING RETURNING event_id"
        )
        inserted = {r[0] for r in cur.fetchall()}
        cur.execute("DELETE FROM epcis_stage")
    return inserted


def _copy_identifiers(session: Session, identifiers: list[tuple[str, str, str]]) -> None:
    raw = session.connection().connection.driver_connection
    assert raw is not None
    with raw.cursor() as cur, cur.copy("COPY epcis_epcs (event_id, role, epc) FROM STDIN") as copy:
        for item in identifiers:
            copy.write_row(item)


#: SQLite rows per INSERT statement (14 values each, well under SQLite's 32,766 parameters).
SQLITE_ROWS = 500


def _sqlite_time(when: datetime) -> str:
    """A UTC datetime as SQLAlchemy's SQLite DATETIME stores it (``UTCDateTime`` reads it)."""
    if when.tzinfo is not UTC:
        when = when.astimezone(UTC)
    return when.replace(tzinfo=None).isoformat(" ", "microseconds")


def _insert_sqlite(session: Session, rows: list[tuple[Any, ...]]) -> set[str]:
    """SQLite: multi-row ``INSERT ... ON CONFLICT (event_id) DO NOTHING`` on the driver, with the
    values :func:`_values` converted as SQLAlchemy's column types would (SQLAlchemy's per-value
    processing of 14,000 values per document of 1,000 events cost more than SQLite's own work).

    No ``RETURNING``: every row it returned took the interpreter lock back once, while the
    database's write lock was held, so another capture thread of the process stretched that
    lock. None of these rows can exist: SQLite has one writer, and this transaction looked for
    stored ids before its first write (a deferred transaction whose view went stale fails to
    write instead). Should the count differ all the same, nothing is kept and the client is told
    to send the document again, which then finds the stored events."""
    connection = session.connection()
    names = ", ".join(COLUMNS)
    for start in range(0, len(rows), SQLITE_ROWS):
        batch = rows[start : start + SQLITE_ROWS]
        values = ", ".join(["(" + ", ".join(["?"] * len(COLUMNS)) + ")"] * len(batch))
        done = connection.exec_driver_sql(
            f"INSERT INTO epcis_events ({names}) VALUES {values} ON CONFLICT (event_id) DO NOTHING",
            tuple(value for row in batch for value in row),
        )
        if done.rowcount != len(batch):
            raise TrackingError(
                "unavailable",
                None,
                "some of these events were stored meanwhile; send the document again",
            )
    return {row[0] for row in rows}


def _insert_identifiers_sqlite(session: Session, identifiers: list[tuple[str, str, str]]) -> None:
    """SQLite: the identifiers in multi-row INSERTs of 1,000 rows (half the time of executemany,
    which steps the statement once per row)."""
    connection = session.connection()
    for start in range(0, len(identifiers), 1000):
        batch = identifiers[start : start + 1000]
        connection.exec_driver_sql(
            "INSERT INTO epcis_epcs (event_id, role, epc) VALUES "
            + ", ".join(["(?, ?, ?)"] * len(batch)),
            tuple(value for row in batch for value in row),
        )


def _insert_new(session: Session, rows: list[tuple[Any, ...]]) -> set[str]:
    """Insert rows whose event_id is not stored yet; the event_ids actually inserted."""
    if not rows:
        return set()
    if session.get_bind().dialect.name == "postgresql":
        return _copy_new(session, rows)
    return _insert_sqlite(session, rows)


def serialise_inserts(session: Session) -> None:
    """On PostgreSQL, make capture order (event ids) equal commit order, and captures one at a
    time from their look for stored ids to their commit.

    Ids come from a sequence when inserted, but transactions commit in any order, so a reader
    following ids (a subscription's position) could pass an id that commits later and never see
    it. A transaction-scoped advisory lock taken just before the look for stored ids and held to
    commit makes inserting transactions commit in id order, and means that no other capture
    inserts an id between that look and this one's insert (so new rows can be COPied straight
    into the table). SQLite already has one writer at a time (``BEGIN IMMEDIATE``).
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(827301)"))


def _too_long(prepared: Prepared) -> None:
    for fact, i in zip(prepared.facts, prepared.indexes, strict=True):
        if len(fact.event_id) > 200:
            field_ = f"$.epcisBody.eventList[{i}].eventID"
            raise TrackingError(
                "invalid",
                field_,
                "an eventID longer than 200 characters",
                [Problem(field_, "too long", i)],
            )


def capture(
    session: Session,
    who: Principal,
    nodes: Iterable[str],
    document: Any,
    *,
    all_errors: bool = False,
    max_events: int = 100_000,
    progress: Callable[[float, str], None] | None = None,
    schema_checked: bool = False,
) -> CaptureResult:
    """Store every event of ``document``, or raise TrackingError and store none.

    ``schema_checked``: the document came as XML and passed GS1's XSD (see ``prepare``).
    """
    moment = now()
    prepared = prepare(
        document,
        moment,
        all_errors=all_errors,
        max_events=max_events,
        progress=progress,
        schema_checked=schema_checked,
    )
    _too_long(prepared)
    sqlite = session.get_bind().dialect.name != "postgresql"
    recorded = _sqlite_time(moment) if sqlite else moment
    ready = {f.event_id: _values(f, who.organisation_id, recorded, sqlite) for f in prepared.facts}
    named = sorted({s for f in prepared.facts for s in f.shipments})
    owners: dict[str, str] = {}
    for start in range(0, len(named), CHUNK):
        found = session.execute(
            select(Shipment.id, Shipment.organisation_id).where(
                Shipment.id.in_(named[start : start + CHUNK])
            )
        )
        owners.update({sid: org for sid, org in found})
    check_references(prepared, who.kind.value, who.organisation_id, owners, nodes)
    result = CaptureResult(duplicates=[{"index": i, "of": j} for i, j in prepared.duplicates])
    serialise_inserts(session)
    stored = _stored(session, [f.event_id for f in prepared.facts])
    fresh: list[tuple[Fact, int]] = []
    for fact, i in zip(prepared.facts, prepared.indexes, strict=True):
        if fact.event_id in stored:
            _against_stored(session, who, fact, i, stored[fact.event_id], result, moment)
        else:
            fresh.append((fact, i))
    rows = [ready[f.event_id] for f, _ in fresh]
    inserted = _insert_new(session, rows)
    raced = [(f, i) for f, i in fresh if f.event_id not in inserted]
    if raced:  # captured by someone else between our read and our insert
        again = _stored(session, [f.event_id for f, _ in raced])
        for fact, i in raced:
            _against_stored(session, who, fact, i, again[fact.event_id], result, moment)
    identifiers = [
        (f.event_id, role[:120], value)
        for f, _ in fresh
        if f.event_id in inserted
        for role, value in f.identifiers
    ]
    if identifiers and session.get_bind().dialect.name == "postgresql":
        _copy_identifiers(session, identifiers)
    elif identifiers:
        _insert_identifiers_sqlite(session, identifiers)
    for f, _ in fresh:
        if f.event_id in inserted:
            result.captured += 1
            result.event_ids.append(f.event_id)
            result.shipments.update(f.shipments[:1])
    return result


def _against_stored(
    session: Session,
    who: Principal,
    fact: Fact,
    index: int,
    stored: tuple[str, dict[str, Any]],
    result: CaptureResult,
    moment: datetime,
) -> None:
    captured_by, body = stored
    field_ = f"$.epcisBody.eventList[{index}].eventID"
    if canonical(body) == canonical(fact.body):
        result.duplicates.append({"index": index, "eventID": fact.event_id})
        return
    if fact.error_declaration:
        if not may_correct(captured_by, who.organisation_id):
            raise TrackingError(
                "forbidden",
                field_,
                "only the organisation that captured an event may declare it erroneous",
                [Problem(field_, "captured by another organisation", index)],
            )
        session.execute(
            update(EpcisEvent)
            .where(EpcisEvent.event_id == fact.event_id)
            .values(error_declared=True, body=fact.body, record_time=moment)
        )
        result.corrected += 1
        result.event_ids.append(fact.event_id)
        result.shipments.update(fact.shipments[:1])
        return
    raise TrackingError(
        "conflict",
        field_,
        f"event {fact.event_id!r} is already stored with other content; "
        "declare a correction with errorDeclaration",
        [Problem(field_, "different content under a stored eventID", index)],
    )
