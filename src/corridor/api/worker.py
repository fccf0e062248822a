"""The app as each server process builds it: ``uvicorn --factory corridor.api.worker:app``.

``corridor serve --workers N`` migrates and seeds the database once, then starts N processes that
each call :func:`app`. A process keeps nothing that matters for correctness to itself: every
state change goes through the database (conditional updates, row locks, unique constraints), so
any process, on any machine, may answer any request (docs/deploy.md).
"""

from __future__ import annotations

import gc

from fastapi import FastAPI

from corridor.api.app import create_app
from corridor.settings import get_settings
from corridor.store.db import Database


def app() -> FastAPI:
    """A new app over the configured database (``CORRIDOR_*`` settings), which must be prepared."""
    settings = get_settings()
    app = create_app(settings, Database.from_settings(settings))
    settle_memory()
    return app


def settle_memory() -> None:
    """Once a serving process has built its app: move what it holds for good out of the garbage
    collector's reach.

    The app holds some 200,000 long-lived objects (the network, its timetables, the planner's
    tables). A full collection walks them all, 60-130 ms with the event loop stopped, which shows
    as a spike in /health; after ``gc.freeze`` no collection walks them again. (Collections as
    such cost little here: 0.6 % of a worker's CPU under load, measured.)
    """
    gc.collect()
    gc.freeze()
