"""Capture jobs as the EPCIS binding shows them at ``/capture/{captureID}``.

Until the platform's shared job queue (``corridor.jobs``) carries capture, a capture job is run
in the request's worker thread and recorded here, so its id, state and result are the same
whichever worker answers the GET.
"""

from __future__ import annotations

import uuid
from functools import cache
from typing import Any

from sqlalchemy import select

from corridor.store.accounts import Principal, now
from corridor.store.db import Database
from corridor.store.models import OrgKind
from corridor.store.tracking_tables import EpcisCapture
from corridor.tracking.errors import TrackingError


def start(db: Database, who: Principal, behaviour: str = "rollback") -> str:
    job_id = uuid.uuid4().hex
    with db.write_session() as s:
        s.add(
            EpcisCapture(
                id=job_id,
                organisation_id=who.organisation_id,
                created_at=now(),
                finished_at=None,
                running=True,
                success=True,
                error_behaviour=behaviour,
                result={},
            )
        )
    return job_id


def finish(db: Database, job_id: str, success: bool, result: dict[str, Any]) -> None:
    with db.write_session() as s:
        row = s.get(EpcisCapture, job_id)
        if row is not None:
            row.running, row.success, row.result, row.finished_at = False, success, result, now()


def view(row: EpcisCapture) -> dict[str, Any]:
    body: dict[str, Any] = {
        "captureID": row.id,
        "createdAt": row.created_at.isoformat(),
        "running": row.running,
        "success": row.success,
        "captureErrorBehaviour": row.error_behaviour,
        "errors": row.result.get("errors", []),
        "result": {k: v for k, v in row.result.items() if k != "errors"},
    }
    if row.finished_at is not None:
        body["finishedAt"] = row.finished_at.isoformat()
    return body


def get(db: Database, who: Principal, job_id: str) -> dict[str, Any]:
    with db.session() as s:
        row = s.get(EpcisCapture, job_id[:64])
        if row is None or (
            who.kind is not OrgKind.ADMIN and row.organisation_id != who.organisation_id
        ):
            raise TrackingError("not_found", "captureID", "no such capture job")
        return view(row)


def listing(db: Database, who: Principal, limit: int = 100) -> list[dict[str, Any]]:
    with db.session() as s:
        rows = s.scalars(
            select(EpcisCapture)
            .where(EpcisCapture.organisation_id == who.organisation_id)
            .order_by(EpcisCapture.created_at.desc())
            .limit(limit)
        )
        return [view(r) for r in rows]


@cache
def _database(url: str) -> Database:
    return Database(url)


def capture_bytes(
    url: str,
    who: Principal,
    nodes: frozenset[str],
    raw: bytes,
    max_depth: int,
    all_errors: bool,
    max_events: int,
    single: bool,
) -> tuple[str, dict[str, Any], set[str]]:
    """Parse and capture ``raw`` against the database at ``url``.

    A plain top-level function so that a process pool can run it: a large document is then
    parsed and validated in another process and never holds the server's interpreter lock.
    """
    return run_capture_raw(
        _database(url), who, nodes, raw, max_depth, all_errors, max_events, single
    )


def run_capture_raw(
    db: Database,
    who: Principal,
    nodes: frozenset[str],
    raw: bytes,
    max_depth: int,
    all_errors: bool,
    max_events: int,
    single: bool,
) -> tuple[str, dict[str, Any], set[str]]:
    """Parse ``raw`` (limits of ``corridor.tracking.document``) and run the capture job."""
    from corridor.tracking.capture import single_event_document
    from corridor.tracking.document import parse

    document = parse(raw, max_depth)
    if single:
        document = single_event_document(document)
    return run_capture(db, who, nodes, document, all_errors=all_errors, max_events=max_events)


def record_refusal(db: Database, who: Principal, exc: TrackingError) -> None:
    """Record a document refused before the JSON pipeline (an XML capture GS1's XSD refuses) as
    a failed job, as run_capture records a JSON one the schema refuses; sets ``exc.job_id``."""
    job_id = start(db, who)
    finish(db, job_id, False, {"errors": _errors(exc), "code": exc.code})
    exc.job_id = job_id


def _errors(exc: TrackingError) -> list[dict[str, Any]]:
    return [
        {"index": p.index, "field": p.field, "reason": p.reason} for p in exc.problems[:100]
    ] or [{"index": None, "field": exc.field, "reason": exc.reason}]


def run_capture(
    db: Database,
    who: Principal,
    nodes: Any,
    document: Any,
    *,
    all_errors: bool = False,
    max_events: int = 100_000,
) -> tuple[str, dict[str, Any], set[str]]:
    """Record a job, capture ``document`` in one transaction, record the outcome.

    Returns the job id, its summary and the shipments touched; raises TrackingError (after
    recording the job as failed) when nothing was stored.
    """
    from corridor.store.tracking_capture import capture

    job_id = start(db, who)
    try:
        # Validation runs before the first statement, so SQLite's write lock (BEGIN IMMEDIATE)
        # is held only while references are read and rows written.
        with db.write_session() as s:
            result = capture(s, who, nodes, document, all_errors=all_errors, max_events=max_events)
    except TrackingError as exc:
        errors = [
            {"index": p.index, "field": p.field, "reason": p.reason} for p in exc.problems[:100]
        ] or [{"index": None, "field": exc.field, "reason": exc.reason}]
        finish(db, job_id, False, {"errors": errors, "code": exc.code})
        exc.job_id = job_id
        raise
    summary = result.summary()
    finish(db, job_id, True, summary)
    return job_id, summary, result.shipments
