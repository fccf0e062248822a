"""The app as each server process builds it: ``uvicorn --factory corridor.api.worker:app``.

``corridor serve --workers N`` migrates and seeds the database once, then starts N processes that
each call :func:`app`. A process keeps nothing that matters for correctness to itself: every
state change goes through the database (conditional updates, row locks, unique constraints), so
any process, on any machine, may answer any request (docs/deploy.md).
"""

from __future__ import annotations

from fastapi import FastAPI

from corridor.api.app import create_app
from corridor.settings import get_settings
from corridor.store.db import Database


def app() -> FastAPI:
    """A new app over the configured database (``CORRIDOR_*`` settings), which must be prepared."""
    settings = get_settings()
    return create_app(settings, Database.from_settings(settings))
