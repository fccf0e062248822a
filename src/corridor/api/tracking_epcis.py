"""The EPCIS 2.0 REST binding (GS1 ``REST Bindings/openapi.yaml``) under ``/api/v1/epcis``.

Only translation happens here: bodies are read with a size limit on the event loop (no blocking
work there), everything else runs in the threadpool; rules are in ``corridor.tracking`` and
storage in ``corridor.store.tracking_*``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import uuid
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from corridor.api.availability import take_turn
from corridor.api.tracking_http import (
    GS1_HEADERS,
    CallerDep,
    content_type,
    database_of,
    epcis_response,
    json_response,
    negotiate,
    problem,
    read_body,
    settings_of,
    wants_xml,
)
from corridor.jobs import JobQueue
from corridor.settings import Settings
from corridor.store import tracking_jobs, tracking_query
from corridor.store.accounts import Principal
from corridor.tracking.capture import STANDARD_CONTEXT
from corridor.tracking.document import parse as parse_json
from corridor.tracking.errors import Problem, TrackingError
from corridor.tracking.query import PAGE_MAX, QuerySpec
from corridor.tracking.query import parse as parse_query
from corridor.tracking.xml import capture_bytes as xml_capture_bytes
from corridor.tracking.xml import capture_job_to_xml

router = APIRouter(prefix="/epcis", tags=["epcis"])
PREFIX = "/api/v1/epcis"
TOP_LEVEL = [
    "queries",
    "capture",
    "events",
    "eventTypes",
    "epcs",
    "readPoints",
    "bizLocations",
    "dispositions",
    "bizSteps",
]
#: What capture and POST /events take (advertised by OPTIONS): JSON-LD, JSON and EPCIS XML.
ACCEPT_POST = "application/ld+json, application/json, application/xml, text/xml"
EVENT_TYPES = [
    "ObjectEvent",
    "AggregationEvent",
    "TransactionEvent",
    "TransformationEvent",
    "AssociationEvent",
]


class EpcisDocumentModel(BaseModel):
    """An EPCISQueryDocument (JSON-LD); its full schema is GS1's EPCIS-JSON-Schema.json."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    context: Any = Field(alias="@context")
    type: str
    schemaVersion: str
    creationDate: str
    epcisBody: dict[str, Any]


class CaptureJob(BaseModel):
    captureID: str
    createdAt: str
    finishedAt: str | None = None
    running: bool
    success: bool
    captureErrorBehaviour: str
    errors: list[dict[str, Any]]
    result: dict[str, Any]


class Collection(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    context: str = Field(alias="@context", default=STANDARD_CONTEXT)
    type: str = "Collection"
    member: list[str]


class CaptureSummary(BaseModel):
    captured: int
    corrected: int
    duplicates: int
    duplicateEvents: list[dict[str, Any]]


def _options(allow: str) -> Response:
    headers = {
        **GS1_HEADERS,
        "Allow": allow,
        "GS1-EPC-Format": "Always_EPC_URN",
        "GS1-CBV-XML-Format": "Always_URN",
    }
    if "POST" in allow:
        headers["Accept-Post"] = ACCEPT_POST
    return Response(status_code=204, headers=headers)


def _after_capture(request: Request, background: BackgroundTasks, shipments: set[str]) -> None:
    from corridor.api.tracking import after_capture

    background.add_task(
        after_capture,
        database_of(request),
        request.app.state.network,
        shipments,
        settings_of(request),
    )


# -- discovery ---------------------------------------------------------------------------------


@router.options("", summary="Discover the repository's EPCIS and CBV versions", status_code=204)
def discover() -> Response:
    return _options("OPTIONS, GET")


@router.get("", response_model=Collection, summary="The top-level resources of this repository")
def top_level(request: Request, who: CallerDep) -> Response:
    try:
        negotiate(request)
    except TrackingError as exc:
        return problem(exc)
    return json_response(
        {"@context": STANDARD_CONTEXT, "type": "Collection", "member": TOP_LEVEL}, request
    )


# -- capture -----------------------------------------------------------------------------------


@router.options("/capture", status_code=204, summary="Discover the capture interface's limits")
def capture_options(request: Request) -> Response:
    settings = settings_of(request)
    response = _options("OPTIONS, GET, POST")
    response.headers["GS1-EPCIS-Capture-Limit"] = str(settings.epcis_max_events)
    response.headers["GS1-EPCIS-Capture-File-Size-Limit"] = str(
        int(settings.epcis_max_body_mb * 2**20)
    )
    response.headers["GS1-Capture-Error-Behaviour"] = "rollback"
    return response


async def _capture(
    request: Request, who: Principal, raw: bytes, all_errors: bool, single: bool, xml: bool = False
) -> tuple[str, dict[str, Any], set[str], bytes]:
    """Capture ``raw`` off the event loop: in the threadpool, or for a large document in a
    separate process, so that its parsing and validation never hold this process's GIL.

    Returns the job id, its summary, the shipments touched and the JSON that was captured."""
    settings = settings_of(request)
    db = database_of(request)
    large = len(raw) > settings.epcis_process_mb * 2**20 and ":memory:" not in db.url
    if xml:
        # EPCIS XML is parsed, checked against GS1's XSD and turned into the JSON document the
        # JSON pipeline below takes, off the event loop too (lxml frees the GIL while it parses).
        convert = (raw, settings.epcis_max_depth, all_errors, single)
        try:
            if large:
                loop = asyncio.get_running_loop()
                pool = tracking_jobs.process_pool()
                raw = await loop.run_in_executor(pool, xml_capture_bytes, *convert)
            else:
                raw = await run_in_threadpool(xml_capture_bytes, *convert)
        except TrackingError:
            raise
    args = (
        db.url,
        who,
        frozenset(request.app.state.network.nodes),
        raw,
        settings.epcis_max_depth,
        all_errors,
        settings.epcis_max_events,
        single,
        xml,  # an XML body passed GS1's XSD above: the XSD, not the JSON schema, governs it
    )
    if large:
        loop = asyncio.get_running_loop()
        job = await loop.run_in_executor(
            tracking_jobs.process_pool(), tracking_jobs.capture_bytes, *args
        )
    else:
        job = await run_in_threadpool(tracking_jobs.run_capture_raw, db, *args[1:])
    return (*job, raw)


async def _finished(
    request: Request, who: Principal, job_id: str, wait_s: float, done: asyncio.Event
) -> dict[str, Any]:
    """The capture job's view once it finished, or as it stands after ``wait_s`` seconds.

    ``done`` is set when the job finishes in this process (a consumer thread of this server);
    a job run by another process (``corridor worker``) is seen by polling the database, twice a
    second. No thread is held while waiting.
    """
    db = database_of(request)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_s
    while True:
        body = await run_in_threadpool(tracking_jobs.get, db, who, job_id)
        left = deadline - loop.time()
        if not body["running"] or left <= 0:
            return body
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(done.wait(), min(0.5, left))


def _inline(settings: Settings, size: int) -> bool:
    """Whether a capture of ``size`` bytes runs in this process's threads rather than as a queued
    job: small enough (``epcis_inline_mb``), and this process runs captures at all (a process with
    ``jobs_interactive_threads = 0`` leaves every capture to ``corridor worker`` processes)."""
    return settings.jobs_interactive_threads > 0 and size <= settings.epcis_inline_mb * 2**20


async def _capture_now(
    request: Request, who: Principal, raw: bytes, params: dict[str, Any], behaviour: str
) -> tuple[dict[str, Any], list[str]]:
    """:func:`tracking_jobs.capture_now` on a worker thread, never on the event loop.

    At most ``jobs_interactive_threads`` captures run at once in a process (the others wait here,
    on the event loop, holding neither a thread nor a connection), so a burst of captures never
    takes every thread from the other requests; each holds a database turn while it runs."""
    settings = settings_of(request)
    loop = asyncio.get_running_loop()
    held = getattr(request.app.state, "capture_lanes", None)
    if held is None or held[0] is not loop:  # one per event loop (an asyncio primitive's own)
        held = request.app.state.capture_lanes = (
            loop,
            asyncio.Semaphore(settings.jobs_interactive_threads),
        )
    lanes: asyncio.Semaphore = held[1]
    network = request.app.state.network
    cached = getattr(request.app.state, "capture_nodes", None)
    if cached is None or cached[0] is not network:  # the network's place ids, built once
        cached = request.app.state.capture_nodes = (network, frozenset(network.nodes))
    nodes: frozenset[str] = cached[1]
    async with lanes:
        turns = await take_turn(request.app)
        try:
            return await run_in_threadpool(
                tracking_jobs.capture_now, database_of(request), who, nodes, raw, params, behaviour
            )
        finally:
            turns.release()


def _refusal(body: dict[str, Any]) -> TrackingError:
    """The TrackingError a finished, refused capture job recorded (answered as before: 4xx)."""
    errors = body["errors"] or [{"index": None, "field": None, "reason": "refused"}]
    problems = [Problem(str(e["field"] or "$"), str(e["reason"]), e["index"]) for e in errors]
    first = errors[0]
    return TrackingError(
        str(body["result"].get("code", "invalid")),
        first["field"],
        str(first["reason"]),
        problems if any(e["index"] is not None for e in errors) else [],
        body["captureID"],
    )


@router.post(
    "/capture",
    status_code=202,
    response_model=CaptureJob,
    summary="Capture an EPCISDocument (asynchronous: 202 and the job's Location)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/ld+json": {"schema": {"type": "object"}},
                "application/json": {"schema": {"type": "object"}},
                "application/xml": {"schema": {"type": "string"}},
            },
        }
    },
)
async def capture(
    request: Request, who: CallerDep, background: BackgroundTasks, allErrors: bool = False
) -> Response:
    """All or nothing per document. Stops at the first bad event unless ``allErrors=true``.

    The body is read here (with the size limit). A document up to ``epcis_inline_mb`` is captured
    at once in one of this process's threads (events, capture record and job row in one
    transaction) and answered 202 finished, with its Location; a refused one the 4xx naming the
    event and field (its Location still names the capture). A larger one, or any with
    ``Prefer: respond-async``, is handed to the shared job queue (kind ``epcis.capture``), which
    any API worker or ``corridor worker`` runs; the answer waits up to ``epcis_capture_wait_s``
    for the job without holding a thread, then shows it finished or ``running: true``.
    ``Prefer: respond-async`` never waits.
    """
    settings = settings_of(request)
    location = ""
    try:
        negotiate(request, xml=True)
        kind = content_type(request)
        behaviour = request.headers.get("GS1-Capture-Error-Behaviour", "rollback")
        if behaviour != "rollback":
            raise TrackingError(
                "invalid",
                "GS1-Capture-Error-Behaviour",
                "this repository captures all or nothing (rollback)",
            )
        raw = await read_body(request, int(settings.epcis_max_body_mb * 2**20))
        job_id = uuid.uuid4().hex
        location = f"{PREFIX}/capture/{job_id}"
        params = tracking_jobs.job_params(
            job_id,
            who,
            all_errors=allErrors,
            max_depth=settings.epcis_max_depth,
            max_events=settings.epcis_max_events,
            fmt=kind,
        )
        respond_async = "respond-async" in request.headers.get("Prefer", "").lower()
        if not respond_async and _inline(settings, len(raw)):
            body, shipments = await _capture_now(request, who, raw, params, behaviour)
            if shipments:
                _after_capture(request, background, set(shipments))
            # FastAPI runs ``background`` (the alerts) after the answer is sent.
            return _job_response(body, request, 202, {"Location": location})
        jobs: JobQueue = request.app.state.jobs
        loop, done = asyncio.get_running_loop(), asyncio.Event()

        def wake() -> None:
            loop.call_soon_threadsafe(done.set)

        forget = jobs.on_finish(job_id, wake)
        try:
            await run_in_threadpool(
                functools.partial(
                    jobs.submit,
                    tracking_jobs.KIND,
                    params,
                    who.organisation_id,
                    job_id=job_id,
                    record=tracking_jobs.recorder(who, raw, behaviour),
                )
            )
            del raw
            wait_s = 0.0 if respond_async else settings.epcis_capture_wait_s
            body = await _finished(request, who, job_id, wait_s, done)
        finally:
            forget()
        if not body["running"] and not body["success"]:
            raise _refusal(body)
    except TrackingError as exc:
        response = problem(exc)
        if location and exc.code != "too_large":
            response.headers["Location"] = location
        return response
    return _job_response(body, request, 202, {"Location": location})


def _job_response(
    body: dict[str, Any], request: Request, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """A capture job as JSON, or as the XSD's EPCISCaptureJob when the client prefers XML."""
    if wants_xml(request):
        return Response(
            capture_job_to_xml(body),
            status_code=status,
            media_type="application/xml",
            headers={**GS1_HEADERS, **(headers or {})},
        )
    return json_response(body, request, status, headers)


@router.get("/capture", response_model=list[CaptureJob], summary="Your organisation's capture jobs")
def capture_jobs(request: Request, who: CallerDep) -> Response:
    return json_response(tracking_jobs.listing(database_of(request), who), request)


@router.get(
    "/capture/{captureID}",
    response_model=CaptureJob,
    summary="A capture job: state, result, errors",
)
def capture_job(captureID: str, request: Request, who: CallerDep) -> Response:
    try:
        negotiate(request, xml=True)
        return _job_response(tracking_jobs.get(database_of(request), who, captureID), request)
    except TrackingError as exc:
        return problem(exc)


@router.options("/capture/{captureID}", status_code=204)
def capture_job_options(captureID: str) -> Response:
    return _options("OPTIONS, GET")


# -- events ------------------------------------------------------------------------------------


def query_document(events: list[dict[str, Any]], name: str = "SimpleEventQuery") -> dict[str, Any]:
    from corridor.store.accounts import now

    return {
        "@context": [STANDARD_CONTEXT],
        "type": "EPCISQueryDocument",
        "schemaVersion": "2.0",
        "creationDate": now().strftime("%Y-%m-%dT%H:%M:%S.") + f"{now().microsecond // 1000:03d}Z",
        "epcisBody": {"queryResults": {"queryName": name, "resultsBody": {"eventList": events}}},
    }


def answer_query(
    request: Request, who: Principal, spec: QuerySpec, name: str = "SimpleEventQuery"
) -> Response:
    """One page of ``spec`` as an EPCISQueryDocument, with the next page in ``Link``."""
    raw_per_page = request.query_params.get("perPage", "100")
    try:
        per_page = int(raw_per_page)
    except ValueError:
        raise TrackingError("invalid", "perPage", f"an integer between 1 and {PAGE_MAX}") from None
    with database_of(request).session() as s:
        found, token = tracking_query.query(
            s, who, spec, per_page, request.query_params.get("nextPageToken")
        )
    body = query_document(found, name)
    headers = {}
    if token:
        body["nextPageToken"] = token
        headers["Link"] = f'<{request.url.include_query_params(nextPageToken=token)}>; rel="next"'
        headers["GS1-Next-Page-Token-Expires"] = "2099-12-31T23:59:59Z"
    return epcis_response(body, request, headers=headers)


@router.options("/events", status_code=204)
def events_options() -> Response:
    return _options("OPTIONS, GET, POST")


@router.get(
    "/events", response_model=EpcisDocumentModel, summary="Query events (EPCIS query parameters)"
)
def events(request: Request, who: CallerDep) -> Response:
    """Every simple-event-query parameter of the binding that has a fixed name (see docs/tracking.md)."""
    try:
        negotiate(request, xml=True)
        return answer_query(request, who, parse_query(request.query_params))
    except TrackingError as exc:
        return problem(exc)


@router.post(
    "/events",
    status_code=201,
    response_model=CaptureSummary,
    summary="Capture a single event (synchronous: 201 and the event's Location)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/ld+json": {"schema": {"type": "object"}},
                "application/xml": {"schema": {"type": "string"}},
            },
        }
    },
)
async def post_event(request: Request, who: CallerDep, background: BackgroundTasks) -> Response:
    settings = settings_of(request)
    try:
        negotiate(request, xml=True)
        kind = content_type(request)
        raw = await read_body(request, int(settings.epcis_max_body_mb * 2**20))
        _, summary, shipments, raw = await _capture(request, who, raw, False, True, kind == "xml")
    except TrackingError as exc:
        return problem(exc)
    if shipments:
        _after_capture(request, background, shipments)
    document = parse_json(raw, settings.epcis_max_depth)
    from corridor.tracking.events import event_id

    ident = event_id({k: v for k, v in document.items() if k != "@context"})
    return json_response(
        summary, request, 201, {"Location": f"{PREFIX}/events/{quote(ident, safe='')}"}
    )


@router.get(
    "/events/{eventID:path}", response_model=EpcisDocumentModel, summary="One event by its eventID"
)
def one_event(eventID: str, request: Request, who: CallerDep) -> Response:
    try:
        negotiate(request, xml=True)
        with database_of(request).session() as s:
            found = tracking_query.event(s, who, eventID)
        return epcis_response(query_document([found]), request)
    except TrackingError as exc:
        return problem(exc)


# -- resources ---------------------------------------------------------------------------------

_RESOURCE_PARAM = {
    "bizSteps": "EQ_bizStep",
    "bizLocations": "EQ_bizLocation",
    "readPoints": "EQ_readPoint",
    "dispositions": "EQ_disposition",
    "eventTypes": "eventType",
    "epcs": "MATCH_anyEPC",
}


def _members(request: Request, who: Principal, resource: str) -> Response:
    negotiate(request)
    with database_of(request).session() as s:
        if resource == "epcs":
            members = tracking_query.epcs(s, who)
        elif resource == "eventTypes":
            members = sorted(set(EVENT_TYPES) | set(tracking_query.distinct(s, who, resource)))
        else:
            members = tracking_query.distinct(s, who, resource)
    return json_response(
        {"@context": STANDARD_CONTEXT, "type": "Collection", "member": members}, request
    )


def _resource_routes(resource: str) -> None:
    param = _RESOURCE_PARAM[resource]

    @router.get(
        f"/{resource}",
        response_model=Collection,
        summary=f"The {resource} among the events you may see",
    )
    def listing(request: Request, who: CallerDep) -> Response:
        try:
            return _members(request, who, resource)
        except TrackingError as exc:
            return problem(exc)

    @router.get(
        f"/{resource}/{{value:path}}/events",
        response_model=EpcisDocumentModel,
        summary=f"Events of one of the {resource}",
    )
    def events_of(value: str, request: Request, who: CallerDep) -> Response:
        try:
            negotiate(request, xml=True)
            params = {k: v for k, v in request.query_params.items()}
            params[param] = value.replace("|", "")
            return answer_query(request, who, parse_query(params))
        except TrackingError as exc:
            return problem(exc)

    @router.get(
        f"/{resource}/{{value:path}}",
        response_model=Collection,
        summary=f"Sub-resources of one of the {resource}",
    )
    def sub(value: str, request: Request, who: CallerDep) -> Response:
        try:
            negotiate(request)
        except TrackingError as exc:
            return problem(exc)
        return json_response(
            {"@context": STANDARD_CONTEXT, "type": "Collection", "member": ["events"]}, request
        )

    @router.options(f"/{resource}", status_code=204)
    def options() -> Response:
        return _options("OPTIONS, GET")

    listing.__name__ = f"list_{resource}"
    events_of.__name__ = f"events_of_{resource}"
    sub.__name__ = f"sub_{resource}"
    options.__name__ = f"options_{resource}"


for _resource in _RESOURCE_PARAM:
    _resource_routes(_resource)
