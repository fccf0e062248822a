"""Staying up under load and faults: request turns, 503 with Retry-After, and automatic retries.

The one concurrency model of the service (docs/deploy.md):

* Endpoints are plain ``def`` functions; FastAPI runs them on anyio's worker threads. A process has
  ``Settings.threads`` of them (the anyio thread limiter is set to that at start-up).
* A request that uses the database first takes a **turn** (an async semaphore with ``threads``
  places, waited for on the event loop without holding a thread or a connection). The pool has
  ``threads + db_pool_reserve`` connections, so a request that has its turn always gets a
  connection: no request waits for a connection while holding a thread that another request
  needs, which is how the old server locked itself up under 55 clients.
* A request that waits longer than ``queue_timeout_s`` for its turn, or for a connection, answers
  **503 with Retry-After** instead of hanging or answering 500.
* When the database refused the work without applying any of it (:func:`corridor.store.db.retryable`)
  the request is **run again from the start** in a new transaction, up to ``db_retries`` times,
  before a 503 goes out. A connection lost during COMMIT is never retried (the change may be
  stored); it answers 503 too.
* ``/health`` has its own two threads and reserved connections, so it answers while every turn
  is taken.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from typing import Any

import anyio
import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from corridor.settings import Settings
from corridor.store.db import UNAVAILABLE_ERRORS, CommitUncertain, Database, retryable

#: Internal header on a 503 that may be retried; the retry middleware removes it.
RETRY_MARK = b"x-corridor-retryable"


class Unavailable(Exception):
    """The service cannot take this request now; the client should retry after a moment."""

    def __init__(self, reason: str, retry: bool = False) -> None:
        self.reason = reason
        self.retry = retry
        super().__init__(reason)


def start(app: FastAPI, settings: Settings) -> None:
    """Size the thread limiter and create the turns; called from the lifespan, on the event loop."""
    anyio.to_thread.current_default_thread_limiter().total_tokens = settings.threads
    app.state.turns = anyio.Semaphore(settings.threads)
    app.state.health_threads = anyio.CapacityLimiter(2)


def _state(app: Any, name: str) -> Any:
    value = getattr(app.state, name, None)
    if value is None:  # an app used without its lifespan (never in production)
        start(app, app.state.settings)
        value = getattr(app.state, name)
    return value


def turns_of(app: Any) -> anyio.Semaphore:
    """The process's request turns (api/feeds.py takes them for the streams' reads too)."""
    turns: anyio.Semaphore = _state(app, "turns")
    return turns


async def turn(request: Request) -> AsyncIterator[None]:
    """Hold one of the process's ``threads`` database turns for the request (dependency)."""
    turns = await take_turn(request.app)
    try:
        yield
    finally:
        turns.release()


async def take_turn(app: Any) -> anyio.Semaphore:
    """Take one turn (the caller releases it); Unavailable after ``queue_timeout_s``.

    A free turn is taken at once, without the cancel scope of a timed wait (a measurable share of
    a request's CPU time when there is no queue)."""
    turns: anyio.Semaphore = _state(app, "turns")
    try:
        turns.acquire_nowait()
        return turns
    except anyio.WouldBlock:
        pass
    settings: Settings = app.state.settings
    acquired = False
    with anyio.move_on_after(settings.queue_timeout_s):
        await turns.acquire()
        acquired = True
    if not acquired:  # it waited long enough already: no automatic retry
        raise Unavailable("the service is busy; retry after a moment")
    return turns


async def ping(app: Any, db: Database) -> None:
    """``SELECT 1`` on the health threads, never queued behind the request turns."""

    await anyio.to_thread.run_sync(db.ping, limiter=_state(app, "health_threads"))


def _unavailable(settings: Settings, reason: str, retry: bool) -> JSONResponse:
    headers = {"Retry-After": str(settings.retry_after_s)}
    if retry:
        headers[RETRY_MARK.decode()] = "1"
    return JSONResponse(
        {"error": {"code": "unavailable", "field": None, "reason": reason}},
        status_code=503,
        headers=headers,
    )


def install(app: FastAPI, settings: Settings) -> None:
    """Register the 503 answers and the retry middleware on ``app``."""

    @app.exception_handler(Unavailable)
    async def _busy(_: Request, exc: Unavailable) -> JSONResponse:
        return _unavailable(settings, exc.reason, exc.retry)

    async def _database(_: Request, exc: Exception) -> JSONResponse:
        if isinstance(exc, CommitUncertain):
            reason = "the database connection was lost while committing; look before you retry"
            return _unavailable(settings, reason, False)
        return _unavailable(settings, "the database is busy or restarting; retry", retryable(exc))

    for kind in UNAVAILABLE_ERRORS:
        app.add_exception_handler(kind, _database)

    app.add_middleware(RetryMiddleware, retries=settings.db_retries)


class RetryMiddleware:
    """Run a request again when its answer is a retryable 503 (nothing of it was applied).

    The request body is recorded as it is read and replayed to the next attempt; the answer of a
    retried attempt is dropped before anything of it reaches the client.
    """

    def __init__(self, app: ASGIApp, retries: int) -> None:
        self.app = app
        self.retries = retries

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.retries == 0:
            await self.app(scope, receive, send)
            return
        recorded: list[Message] = []

        async def record() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                recorded.append(message)
            return message

        source: Receive = record
        for attempt in range(self.retries + 1):
            if await self._attempt(scope, source, send, last=attempt == self.retries):
                return
            await anyio.sleep(random.uniform(0.01, 0.05) * (attempt + 1))
            source = _replay(list(recorded), record)

    async def _attempt(self, scope: Scope, receive: Receive, send: Send, last: bool) -> bool:
        """Run the app once; False when its answer was a retryable 503 and was dropped."""
        dropped = False

        async def guarded_send(message: Message) -> None:
            nonlocal dropped
            if message["type"] == "http.response.start":
                headers = message.get("headers", [])
                if any(k.lower() == RETRY_MARK for k, _ in headers):
                    message = {
                        **message,
                        "headers": [(k, v) for k, v in headers if k.lower() != RETRY_MARK],
                    }
                    dropped = not last and message["status"] == 503
            if not dropped:
                await send(message)

        await self.app(scope, receive, guarded_send)
        return not dropped


def _replay(messages: list[Message], then: Receive) -> Receive:
    async def receive() -> Message:
        if messages:
            return messages.pop(0)
        return await then()

    return receive
