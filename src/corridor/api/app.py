"""The FastAPI application: API under /api/v1, OpenAPI at /docs, the dashboard at /."""

from __future__ import annotations

import functools
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime

from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.routing import iter_route_contexts
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field
from starlette.routing import Match
from starlette.types import Scope

from corridor import __version__, webhooks
from corridor.api import (
    admin,
    auth,
    availability,
    capacity,
    capacity_moments,
    customs,
    errors,
    identity,
    network,
    notices,
    queue,
    routes,
    shipments,
    tracking,
)
from corridor.api import energy as energy_api
from corridor.api import jobs as jobs_api
from corridor.api import simulation as simulation_api
from corridor.api.identity import TokenCache
from corridor.api.middleware import EdgeMiddleware
from corridor.customs.risk import load_profiles
from corridor.jobs import JobQueue
from corridor.settings import Settings
from corridor.store import files
from corridor.store.accounts import Principal, principals_by_digest, set_password_cost
from corridor.store.db import Database
from corridor.store.network import load_stored_network
from corridor.web import STATIC_DIR


class NetworkCounts(BaseModel):
    nodes: int
    links: int
    services: int


class HealthOut(BaseModel):
    """The process answers, and this is what it has loaded."""

    status: str = Field(description="Always `ok`: the process is up and serving")
    version: str
    database: str = Field(description="SQLAlchemy dialect: sqlite or postgresql")
    network: NetworkCounts


class ReadyOut(HealthOut):
    """Liveness, and the database answered (an unreachable database answers 503 instead)."""

    database_ready: bool = Field(description="Always true here: a failed check answers 503")


def _health(request: Request) -> HealthOut:
    app, db = request.app, request.app.state.db
    net = app.state.network
    return HealthOut(
        status="ok",
        version=__version__,
        database=db.dialect,
        network=NetworkCounts(
            nodes=len(net.nodes), links=len(net.links), services=len(net.services)
        ),
    )


async def health(request: Request) -> HealthOut:
    """Liveness: answered on the event loop from what the process holds, without a thread, a
    turn or the database, so it stays quick however busy the requests are. It says the process
    is up and serving; whether the database answers is ``/health/ready``."""
    return _health(request)


async def ready(request: Request) -> ReadyOut:
    """Readiness for a load balancer: one ``SELECT 1`` on the two health threads and the
    reserved connections, never queued behind the request turns; 503 when it fails."""
    await availability.ping(request.app, request.app.state.db)
    return ReadyOut(**_health(request).model_dump(), database_ready=True)


def _valid_tokens(db: Database, digests: list[str]) -> dict[str, tuple[Principal, datetime | None]]:
    """The token cache's refresher asks here (api/identity.py): one short read."""
    with db.session(autocommit=True) as s:
        return principals_by_digest(s, digests)


@functools.cache
def api_routers() -> tuple[APIRouter, ...]:
    """Every /api/v1 operation, gathered once per process: the health checks and one branch per
    module (see :class:`_Branch`), each included in the app under ``API_PREFIX``.

    Including a router makes FastAPI analyse every endpoint's signature again, which costs more
    than all the rest of create_app; the endpoints find their app's state through the request, so
    the apps of one process (the tests build hundreds) share these routers. They are included in
    the app side by side rather than under one /api/v1 router: FastAPI checks, for every request,
    whether the routes of each router it passes through have changed, walking all of them, and
    one router holding them all made that walk cover every route of the API.
    """
    health_router = APIRouter()
    health_router.add_api_route(
        "/health",
        health,
        methods=["GET"],
        response_model=HealthOut,
        tags=["health"],
        summary="Liveness and what is loaded (no database)",
    )
    health_router.add_api_route(
        "/health/ready",
        ready,
        methods=["GET"],
        response_model=ReadyOut,
        tags=["health"],
        summary="Readiness: the database answers",
        responses={503: {"description": "The database does not answer; see Retry-After"}},
    )
    branches = [
        _Branch(module.router, under=API_PREFIX)
        for module in (
            auth, network, routes, shipments, customs, tracking, admin, jobs_api, notices,
            simulation_api, energy_api, capacity, capacity_moments, queue,
        )
    ]  # fmt: skip
    return (health_router, *branches)


API_PREFIX = "/api/v1"


class _Branch(APIRouter):
    """One module's router behind a test of the path's start, so that matching skips it cheaply.

    FastAPI matches a request by trying every route in turn, through each included router, and
    does so again when it hands the request down: a request for the 150th route cost some 250
    route matches, about a fifth of the CPU time of a short request. A branch answers "no match"
    at once unless the path starts with the literal part (before the first ``{``) of one of its
    routes' paths, which every path that one of its routes can match does. Routes and order are
    unchanged, and so are the OpenAPI document and every answer, 404 and 405 included.
    """

    def __init__(self, router: APIRouter, under: str) -> None:
        super().__init__()
        # The module's routes themselves (their paths, tags and dependencies are the module
        # router's already), not the router included: one level of nesting less to walk.
        self.routes.extend(router.routes)
        self._under = under
        self._starts: tuple[str, ...] | None = None

    def _literal_starts(self) -> tuple[str, ...]:
        # Worked out at the first request: every route is defined when the modules are imported.
        starts: list[str] = []
        for context in iter_route_contexts(self.routes):
            path = context.path
            if not isinstance(path, str):
                return ("",)  # a route without a path (a host): never skipped
            starts.append(self._under + path.split("{", 1)[0])
        return tuple(sorted(set(starts)))

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        starts = self._starts
        if starts is None:
            starts = self._starts = self._literal_starts()
        path: str = scope["path"]
        root = scope.get("root_path", "")
        if root and path.startswith(root + "/"):  # as Starlette's routes match: under root_path
            path = path[len(root) :]
        if not path.startswith(starts):
            return Match.NONE, {}
        return super().matches(scope)


def create_app(settings: Settings, db: Database) -> FastAPI:
    """An app over ``db``, which must already be migrated and hold the network (see store.seed)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        availability.start(app, settings)
        # Webhook deliveries that failed are retried by this thread, with exponential back-off.
        stop = threading.Event()

        def deliver() -> None:
            from corridor.store.disruptions_delivery import deliver_notices
            from corridor.store.tracking import deliver_due
            from corridor.webhooks.guard import parse_allowed

            allowed = parse_allowed(settings.webhook_allow_nets)
            # One client for the thread's life: a new one per round built a TLS context each
            # time, a steady cost in every worker even with no webhook to send.
            with webhooks.http_client() as client:
                while not stop.wait(settings.webhook_poll_s):
                    try:
                        deliver_due(db, settings.webhook_backoff_s, client=client)
                    except Exception:
                        errors.log.exception("webhook delivery round failed")
                    try:
                        deliver_notices(db, app.state.network, allowed, client)
                    except Exception:
                        errors.log.exception("notice delivery round failed")
                    try:
                        capacity.maintain(db, capacity_ctx, settings, client)
                    except Exception:
                        errors.log.exception("capacity upkeep round failed")

        worker = threading.Thread(target=deliver, name="corridor-webhooks", daemon=True)
        worker.start()
        tokens = identity.refresher(app.state.tokens, functools.partial(_valid_tokens, db), stop)
        jobs.start_consumer(settings.jobs_threads)
        yield
        jobs.close()
        stop.set()
        worker.join(5)
        if tokens is not None:
            tokens.join(5)

    app = FastAPI(
        lifespan=lifespan,
        title="Corridor API",
        version=__version__,
        description="Unified digital management of the Middle Corridor: network, route planning, shipments.",
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/v1/openapi.json",
    )

    # The API docs pages load their scripts from the dashboard's vendor/ folder (npm packages copied
    # at build time), never from a CDN: the platform works offline.
    @app.get("/docs", include_in_schema=False)
    def swagger() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/api/v1/openapi.json",
            title="Corridor API",
            swagger_js_url="/vendor/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url="/vendor/swagger-ui/swagger-ui.css",
            swagger_favicon_url="/favicon.svg",
        )

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url="/api/v1/openapi.json",
            title="Corridor API",
            redoc_js_url="/vendor/redoc/redoc.standalone.js",
            redoc_favicon_url="/favicon.svg",
            with_google_fonts=False,
        )

    app.state.settings = settings
    app.state.db = db
    app.state.hash_slots = auth.hash_slots(settings)
    app.state.tokens = TokenCache(settings.token_cache_s)
    files.secure(settings.var_dir, db.url)
    jobs = JobQueue(settings, db)
    app.state.jobs = jobs
    with db.session() as session:
        app.state.network = load_stored_network(session, settings.network_dir)
    app.state.rendered_nodes = {}  # GET /network/nodes, per filter (api/network.py)
    from corridor.store.capacity import context_for

    capacity_ctx = context_for(app.state.network, settings.capacity_hold_ttl_min)
    app.state.risk_profiles = load_profiles(settings.network_dir / "customs_risk_profiles.csv")
    errors.install(app)
    availability.install(app, settings)
    set_password_cost(settings.argon2_time_cost, settings.argon2_memory_kib)
    # Added last, so outermost: every answer, the 503s of availability included, passes the edge.
    app.add_middleware(EdgeMiddleware, settings=settings)

    for router in api_routers():
        app.include_router(router, prefix=API_PREFIX)
    app.mount("/", StaticFiles(directory=STATIC_DIR, html=True), name="web")
    return app
