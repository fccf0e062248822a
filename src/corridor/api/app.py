"""The FastAPI application: API under /api/v1, OpenAPI at /docs, the dashboard at /."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text

from corridor import __version__
from corridor.api import admin, auth, customs, errors, network, routes, shipments, tracking
from corridor.api.middleware import EdgeMiddleware
from corridor.customs.risk import load_profiles
from corridor.settings import Settings
from corridor.store import files
from corridor.store.db import Database
from corridor.store.network import load_stored_network
from corridor.web import STATIC_DIR


def create_app(settings: Settings, db: Database) -> FastAPI:
    """An app over ``db``, which must already be migrated and hold the network (see store.seed)."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # Webhook deliveries that failed are retried by this thread, with exponential back-off.
        stop = threading.Event()

        def deliver() -> None:
            from corridor.store.tracking import deliver_due

            while not stop.wait(settings.webhook_poll_s):
                try:
                    deliver_due(db, settings.webhook_backoff_s)
                except Exception:
                    errors.log.exception("webhook delivery round failed")

        worker = threading.Thread(target=deliver, name="corridor-webhooks", daemon=True)
        worker.start()
        yield
        stop.set()
        worker.join(5)

    app = FastAPI(
        lifespan=lifespan,
        title="Corridor API",
        version=__version__,
        description="Unified digital management of the Middle Corridor: network, route planning, shipments.",
        docs_url="/docs",
        openapi_url="/api/v1/openapi.json",
    )
    app.state.settings = settings
    app.state.db = db
    app.state.hash_slots = auth.hash_slots(settings)
    files.secure(settings.var_dir, db.url)
    with db.session() as session:
        app.state.network = load_stored_network(session, settings.network_dir)
    app.state.risk_profiles = load_profiles(settings.network_dir / "customs_risk_profiles.csv")
    errors.install(app)
    app.add_middleware(EdgeMiddleware, settings=settings)

    api = APIRouter(prefix="/api/v1")

    @api.get("/health", tags=["health"], summary="Liveness and what is loaded")
    def health() -> dict[str, Any]:
        with db.session() as session:
            session.execute(text("SELECT 1"))
        net = app.state.network
        return {
            "status": "ok",
            "version": __version__,
            "database": db.dialect,
            "network": {
                "nodes": len(net.nodes),
                "links": len(net.links),
                "services": len(net.services),
            },
        }

    for module in (auth, network, routes, shipments, customs, tracking, admin):
        api.include_router(module.router)
    app.include_router(api)
    app.mount("/", StaticFiles(directory=STATIC_DIR, html=True), name="web")
    return app
