"""Capture jobs as the EPCIS binding shows them at ``/capture/{captureID}``, run on the shared
job queue (``corridor.jobs``, kind ``epcis.capture``).

``POST /capture`` records two rows in one transaction, the ``jobs`` row (queue state) and an
``epcis_captures`` row with the same id that holds the document and what the binding shows
(``running``, ``success``, ``errors``), then queues the id. Any consumer (a thread of any API
worker, or a ``corridor worker`` on another machine) runs :func:`run_job`: it parses and validates
the stored document, captures it and marks the capture finished in one transaction (the document
is cleared there too), so the events exist exactly when the binding says ``success``. A document
refused for any reason stores no event, and its capture row says why, event by event.

``POST /events`` (the binding's synchronous single-event capture) still runs in the request's
worker thread through :func:`run_capture`, recorded here the same way.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from functools import cache
from multiprocessing import get_context
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from corridor.store.accounts import Principal, now
from corridor.store.db import UNAVAILABLE_ERRORS, Database
from corridor.store.models import NetworkRecord, OrgKind
from corridor.store.tracking_tables import EpcisCapture
from corridor.tracking.errors import TrackingError

if TYPE_CHECKING:
    from corridor.network import Network
    from corridor.settings import Settings
    from corridor.store.jobs_tables import Job

log = logging.getLogger("corridor.tracking")

#: The job kind of an asynchronous capture (registered in ``corridor.jobs.kinds``).
KIND = "epcis.capture"


def _row(job_id: str, who: Principal, behaviour: str, payload: bytes | None) -> EpcisCapture:
    return EpcisCapture(
        id=job_id,
        organisation_id=who.organisation_id,
        created_at=now(),
        finished_at=None,
        running=True,
        success=True,
        error_behaviour=behaviour,
        result={},
        payload=payload,
    )


def start(db: Database, who: Principal, behaviour: str = "rollback") -> str:
    job_id = uuid.uuid4().hex
    with db.write_session() as s:
        s.add(_row(job_id, who, behaviour, None))
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


# -- the capture job ------------------------------------------------------------------------------


def recorder(
    who: Principal, raw: bytes, behaviour: str = "rollback"
) -> Callable[[Session, Job], None]:
    """What ``JobQueue.submit`` writes beside the job row: the capture row holding ``raw``."""

    def record(session: Session, job: Job) -> None:
        session.add(_row(job.id, who, behaviour, raw))

    return record


def job_params(
    capture_id: str,
    who: Principal,
    *,
    all_errors: bool,
    max_depth: int,
    max_events: int,
    fmt: str = "json",
) -> dict[str, Any]:
    """The job's parameters: who captures (the organisation the events are stored for) and limits."""
    return {
        "capture": capture_id,
        "principal": {
            "user_id": who.user_id,
            "email": who.email,
            "name": who.name,
            "organisation_id": who.organisation_id,
            "organisation_name": who.organisation_name,
            "kind": who.kind.value,
            "country": who.country,
        },
        "all_errors": bool(all_errors),
        "max_depth": int(max_depth),
        "max_events": int(max_events),
        "format": "xml" if fmt == "xml" else "json",
    }


def _principal(data: dict[str, Any]) -> Principal:
    return Principal(
        str(data["user_id"]),
        str(data["email"]),
        str(data["name"]),
        str(data["organisation_id"]),
        str(data["organisation_name"]),
        OrgKind(data["kind"]),
        data.get("country"),
        "job",
    )


def node_ids(session: Session) -> frozenset[str]:
    """The corridor places events may name, as stored (the same for every worker)."""
    return frozenset(
        session.scalars(select(NetworkRecord.record_id).where(NetworkRecord.kind == "nodes"))
    )


def _errors(exc: TrackingError) -> list[dict[str, Any]]:
    return [
        {"index": p.index, "field": p.field, "reason": p.reason} for p in exc.problems[:100]
    ] or [{"index": None, "field": exc.field, "reason": exc.reason}]


def _refuse(db: Database, capture_id: str, exc: TrackingError) -> None:
    """Mark a capture finished without success (only while it still runs: one outcome)."""
    with db.write_session() as s:
        s.execute(
            update(EpcisCapture)
            .where(EpcisCapture.id == capture_id, EpcisCapture.running.is_(True))
            .values(
                running=False,
                success=False,
                finished_at=now(),
                payload=None,
                result={"errors": _errors(exc), "code": exc.code},
            )
        )


def capture_stored(
    db: Database,
    who: Principal,
    nodes: frozenset[str],
    capture_id: str,
    *,
    all_errors: bool,
    max_depth: int,
    max_events: int,
    fmt: str = "json",
) -> tuple[dict[str, Any], list[str]]:
    """Capture the document stored under ``capture_id``; events and outcome in one transaction.

    An EPCIS XML document (``fmt="xml"``) is checked against GS1's XSD and turned into the JSON
    document first, here in the job, so XML and JSON share one path and one refusal record. The
    XSD is the schema that governs it: GS1's JSON schema is not applied to its events.
    Returns the summary and the shipments touched; raises TrackingError when nothing was stored.
    """
    from corridor.store.tracking_capture import capture
    from corridor.tracking.document import parse
    from corridor.tracking.xml import capture_bytes as xml_capture_bytes

    with db.session() as s:
        raw = s.scalar(select(EpcisCapture.payload).where(EpcisCapture.id == capture_id))
    if raw is None:
        raise TrackingError("not_found", "captureID", "the capture's document is gone")
    if fmt == "xml":
        raw = xml_capture_bytes(raw, max_depth, all_errors, False)
    document = parse(raw, max_depth)
    del raw
    # Validation runs before the first statement, so SQLite's write lock (BEGIN IMMEDIATE) is
    # held only while references are read and rows written.
    with db.write_session() as s:
        result = capture(
            s,
            who,
            nodes,
            document,
            all_errors=all_errors,
            max_events=max_events,
            schema_checked=fmt == "xml",
        )
        summary = result.summary()
        done = s.execute(
            update(EpcisCapture)
            .where(EpcisCapture.id == capture_id, EpcisCapture.running.is_(True))
            .values(running=False, success=True, finished_at=now(), payload=None, result=summary)
        )
        if done.rowcount != 1:  # type: ignore[attr-defined]
            raise TrackingError("conflict", "captureID", "this capture was finished meanwhile")
    return summary, sorted(result.shipments)


def capture_now(
    db: Database,
    who: Principal,
    nodes: frozenset[str],
    raw: bytes,
    params: dict[str, Any],
    behaviour: str = "rollback",
) -> tuple[dict[str, Any], list[str]]:
    """Capture ``raw`` in the calling thread (the request's worker thread, never the event loop):
    the events, the finished capture record and its ``jobs`` row in one transaction.

    The job path's outcome without its costs: the document is not stored as a payload, nothing
    is queued, and nobody polls. ``params`` are :func:`job_params`. Returns the capture as
    ``GET /capture/{id}`` shows it and the shipments touched. A refused document stores no event;
    its refusal is recorded (capture and job row, one transaction) and raised as TrackingError
    naming the capture.
    """
    from corridor.store import jobs as job_store
    from corridor.store.tracking_capture import capture
    from corridor.tracking.document import parse
    from corridor.tracking.xml import capture_bytes as xml_capture_bytes

    capture_id = str(params["capture"])
    all_errors, max_depth = bool(params["all_errors"]), int(params["max_depth"])
    xml = params.get("format") == "xml"
    started = now()
    try:
        if xml:
            raw = xml_capture_bytes(raw, max_depth, all_errors, False)
        document = parse(raw, max_depth)
        del raw
        # Validation runs before the first statement (inside ``capture``), so SQLite's write
        # lock (BEGIN IMMEDIATE) is held only while references are read and rows written.
        with db.write_session() as s:
            result = capture(
                s,
                who,
                nodes,
                document,
                all_errors=all_errors,
                max_events=int(params["max_events"]),
                schema_checked=xml,
            )
            summary = result.summary()
            row = _row(capture_id, who, behaviour, None)
            row.created_at, row.running, row.finished_at = started, False, now()
            row.result = summary
            s.add(row)
            shipments = sorted(result.shipments)
            job_result = {"captureID": capture_id, "success": True, **summary}
            job_store.record_finished(
                s,
                KIND,
                params,
                who.organisation_id,
                capture_id,
                started,
                result={**job_result, "shipments": shipments},
            )
    except TrackingError as exc:
        _record_refusal(db, who, capture_id, params, behaviour, started, exc)
        exc.job_id = capture_id
        raise
    except UNAVAILABLE_ERRORS:
        # The database is busy or unreachable: the API answers 503 (and runs the request again
        # when nothing was applied), as for any request; this capture id is not used again.
        raise
    except Exception as exc:
        # Not the document's fault (a bug): nothing was stored (rolled back), and sending
        # the same document again is safe (what got in meanwhile comes back as duplicates).
        log.exception("capture %s failed", capture_id)
        reason = "the capture could not be completed and has been logged; send it again"
        refusal = TrackingError("unavailable", None, reason, [], capture_id)
        try:
            _record_refusal(db, who, capture_id, params, behaviour, started, refusal)
        except Exception:  # the answer (503) still says so
            log.exception("capture %s: its refusal could not be recorded", capture_id)
        raise refusal from exc
    return view(row), shipments


def _record_refusal(
    db: Database,
    who: Principal,
    capture_id: str,
    params: dict[str, Any],
    behaviour: str,
    started: Any,
    exc: TrackingError,
) -> None:
    """A refused in-thread capture: its capture record and failed job row, nothing else."""
    from corridor.store import jobs as job_store

    with db.write_session() as s:
        row = _row(capture_id, who, behaviour, None)
        row.created_at, row.running, row.success, row.finished_at = started, False, False, now()
        row.result = {"errors": _errors(exc), "code": exc.code}
        s.add(row)
        error = {"code": exc.code, "field": exc.field, "reason": exc.reason}
        job_store.record_finished(
            s, KIND, params, who.organisation_id, capture_id, started, error=error
        )


def capture_stored_at(
    url: str, who: Principal, nodes: frozenset[str], capture_id: str, options: dict[str, Any]
) -> tuple[dict[str, Any], list[str]]:
    """:func:`capture_stored` in a worker process (the document is read there, not pickled)."""
    return capture_stored(_database(url), who, nodes, capture_id, **options)


_POOL: ProcessPoolExecutor | None = None
_POOL_LOCK = threading.Lock()


def process_pool() -> ProcessPoolExecutor:
    """Worker processes for large documents (created on first use; spawn: no forked threads)."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = ProcessPoolExecutor(max_workers=2, mp_context=get_context("spawn"))
        return _POOL


def run_job(
    params: dict[str, Any],
    progress: Callable[[float, str], None],
    db: Database,
    settings: Settings,
) -> dict[str, Any]:
    """The ``epcis.capture`` job: capture the stored document of capture ``params["capture"]``.

    A document larger than ``settings.epcis_process_mb`` is parsed, validated and stored in a
    separate process, so that it never holds the consumer process's interpreter lock (inside
    ``corridor serve`` that lock is the web server's). Raises TrackingError (after recording the
    errors on the capture) when the document is refused.
    """
    capture_id = str(params["capture"])
    who = _principal(params["principal"])
    options: dict[str, Any] = {
        "all_errors": bool(params.get("all_errors", False)),
        "max_depth": int(params.get("max_depth", settings.epcis_max_depth)),
        "max_events": int(params.get("max_events", settings.epcis_max_events)),
        "fmt": "xml" if params.get("format") == "xml" else "json",
    }
    with db.session() as s:
        row = s.get(EpcisCapture, capture_id)
        if row is None:
            raise TrackingError("not_found", "captureID", "no such capture job")
        if not row.running:  # finished by an earlier delivery of this job
            return {"captureID": capture_id, "success": row.success}
        size = s.scalar(
            select(func.length(EpcisCapture.payload)).where(EpcisCapture.id == capture_id)
        )
        nodes = node_ids(s)
    large = (size or 0) > settings.epcis_process_mb * 2**20
    progress(0.0, "validating")
    try:
        if large and ":memory:" not in db.url:
            future = process_pool().submit(
                capture_stored_at, db.url, who, nodes, capture_id, options
            )
            summary, shipments = future.result()
        else:
            summary, shipments = capture_stored(db, who, nodes, capture_id, **options)
    except TrackingError as exc:
        _refuse(db, capture_id, exc)
        raise
    except Exception:
        # Not the document's fault (a database outage, a bug): nothing was stored, and sending
        # the same document again is safe (what got in meanwhile comes back as duplicates).
        reason = "the capture could not be completed and has been logged; send it again"
        _refuse(db, capture_id, TrackingError("unavailable", None, reason))
        raise
    if shipments:
        try:
            after_capture(db, settings, set(shipments))
        except Exception:  # the events are stored; alerts are re-evaluated at the next capture
            log.exception("alerts after capture %s failed", capture_id)
    return {"captureID": capture_id, "success": True, **summary, "shipments": shipments}


def stored_network(db: Database, settings: Settings) -> Network:
    """The stored network: read once per process while its fingerprint is unchanged
    (`store.network.load_stored_network` keeps it), one small query per call after that."""
    from corridor.store.network import load_stored_network

    with db.session() as s:
        return load_stored_network(s, settings.network_dir)


def after_capture(
    db: Database, settings: Settings, shipment_ids: set[str], network: Network | None = None
) -> None:
    """Alerts for the shipments a capture touched (debounced in the database), then deliveries."""
    from corridor.store import tracking_alerts
    from corridor.store.tracking_subscriptions import deliver_webhooks
    from corridor.webhooks.guard import parse_allowed

    with db.write_session() as s:
        due = tracking_alerts.claim_evaluation(s, shipment_ids, settings.alert_debounce_s)
    if due:
        network = network or stored_network(db, settings)
        with db.write_session() as s:
            tracking_alerts.evaluate_alerts(s, network, due, settings.alert_slip_h)
    nets = parse_allowed(settings.webhook_allow_nets)
    tracking_alerts.deliver_due(db, settings.webhook_backoff_s, allowed=nets)
    deliver_webhooks(db, settings.webhook_backoff_s, allowed=nets)


def capture_bytes(
    url: str,
    who: Principal,
    nodes: frozenset[str],
    raw: bytes,
    max_depth: int,
    all_errors: bool,
    max_events: int,
    single: bool,
    schema_checked: bool = False,
) -> tuple[str, dict[str, Any], set[str]]:
    """Parse and capture ``raw`` against the database at ``url``.

    A plain top-level function so that a process pool can run it: a large document is then
    parsed and validated in another process and never holds the server's interpreter lock.
    """
    return run_capture_raw(
        _database(url), who, nodes, raw, max_depth, all_errors, max_events, single, schema_checked
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
    schema_checked: bool = False,
) -> tuple[str, dict[str, Any], set[str]]:
    """Parse ``raw`` (limits of ``corridor.tracking.document``) and run the capture job.

    ``schema_checked``: ``raw`` is the conversion of an XML body GS1's XSD accepted, so GS1's
    JSON schema is not applied to its events (the XSD governs that binding).
    """
    from corridor.tracking.capture import single_event_document
    from corridor.tracking.document import parse

    document = parse(raw, max_depth)
    if single:
        document = single_event_document(document, schema_checked=schema_checked)
    return run_capture(
        db,
        who,
        nodes,
        document,
        all_errors=all_errors,
        max_events=max_events,
        schema_checked=schema_checked,
    )


def run_capture(
    db: Database,
    who: Principal,
    nodes: Any,
    document: Any,
    *,
    all_errors: bool = False,
    max_events: int = 100_000,
    schema_checked: bool = False,
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
            result = capture(
                s,
                who,
                nodes,
                document,
                all_errors=all_errors,
                max_events=max_events,
                schema_checked=schema_checked,
            )
    except TrackingError as exc:
        finish(db, job_id, False, {"errors": _errors(exc), "code": exc.code})
        exc.job_id = job_id
        raise
    summary = result.summary()
    finish(db, job_id, True, summary)
    return job_id, summary, result.shipments
