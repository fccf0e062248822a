"""Live streams (server-sent events, the EPCIS WebSocket) inside the request turns.

A stream stays open for minutes. If each one polled the database on its own, N open streams
would make N queries a second outside the bounded turns of api/availability.py, and hold threads
and pool connections that ordinary requests need: a few hundred dashboards left open would starve
the service. So:

* **Every database read of a stream takes a turn** (:func:`in_turn`), exactly as a request does:
  it waits on the event loop, holding neither a thread nor a connection, and the number of
  sessions in use stays bounded by ``Settings.threads`` whatever the number of streams.
* **One watcher per process and feed** (:class:`Feed`) asks the database for the feed's head
  (its highest change number, one indexed ``max()``) once per poll while anybody listens, and wakes
  the subscribers when it moves. An idle stream costs nothing; a subscriber reads its own changes
  (filtered by who it is) only after the head moved past what it has seen.

A stream whose turn does not come within ``queue_timeout_s`` simply tries again at the next poll:
it has no client waiting for an answer, so it never answers 503 mid-stream.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

import anyio
import anyio.to_thread

from corridor.api.availability import Unavailable, take_turn
from corridor.api.errors import log
from corridor.store.db import Database

T = TypeVar("T")


async def in_turn(app: Any, work: Callable[..., T], *args: Any) -> T:
    """Run the blocking ``work(*args)`` on a worker thread while holding one of the turns.

    Raises Unavailable when no turn came within ``queue_timeout_s``.
    """
    turns = await take_turn(app)
    try:
        return await anyio.to_thread.run_sync(lambda: work(*args))
    finally:
        turns.release()


class Feed:
    """The head of one change table, watched by one task per process while anyone listens.

    ``head(db)`` returns the highest change number stored (0 when none). Subscribers call
    :meth:`wait_past` with the head they have seen; it returns as soon as the head moved past it,
    or after ``timeout`` seconds (so the stream can send a keep-alive and notice a disconnect).
    """

    def __init__(self, name: str, head: Callable[[Database], int], poll_s: float) -> None:
        self.name = name
        self._head_of = head
        self.poll_s = poll_s
        self.head: int | None = None
        self._moved = asyncio.Event()
        self._listeners = 0
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        #: How many times the watcher read the head (for tests and the benchmark report).
        self.polls = 0

    async def wait_past(self, app: Any, seen: int, timeout: float) -> int | None:
        """The head once it is above ``seen``; None when ``timeout`` passed first."""
        self._ensure_watcher(app)
        self._listeners += 1
        try:
            with anyio.move_on_after(timeout):
                while self.head is None or self.head <= seen:
                    await self._moved.wait()
                return self.head
            return None
        finally:
            self._listeners -= 1

    def _ensure_watcher(self, app: Any) -> None:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # an app served by a new event loop (tests): start afresh
            self._loop, self._moved, self._task, self.head = loop, asyncio.Event(), None, None
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(
                self._watch(app), name=f"corridor-feed-{self.name}"
            )

    async def _watch(self, app: Any) -> None:
        db: Database = app.state.db
        while self._listeners > 0:
            try:
                head = await in_turn(app, self._head_of, db)
                self.polls += 1
            except Unavailable:
                head = None  # every turn busy: look again at the next poll
            except Exception:  # the database is down or restarting: keep the streams open
                log.warning("feed %s: the database did not answer; trying again", self.name)
                head = None
            if head is not None and head != self.head:
                self.head = head
                moved, self._moved = self._moved, asyncio.Event()
                moved.set()
            await asyncio.sleep(self.poll_s)
        self._task = None


def feed(app: Any, name: str, head: Callable[[Database], int], poll_s: float) -> Feed:
    """The process's feed ``name`` (created on first use, kept in ``app.state.feeds``)."""
    feeds: dict[str, Feed] | None = getattr(app.state, "feeds", None)
    if feeds is None:
        feeds = {}
        app.state.feeds = feeds
    found = feeds.get(name)
    if found is None:
        found = feeds[name] = Feed(name, head, poll_s)
    return found
