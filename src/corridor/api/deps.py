"""Request dependencies: the database session and the caller's identity.

See api/availability.py for the concurrency model: a request takes a database turn, its session
is a write session (SQLite ``BEGIN IMMEDIATE``) unless the method is GET/HEAD/OPTIONS, and the
commit runs on a worker thread before the response is sent.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Annotated, TypeVar

import anyio
import anyio.to_thread
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from corridor.api.availability import turn
from corridor.api.errors import ApiError
from corridor.api.identity import TokenCache
from corridor.network import Network
from corridor.store.accounts import Principal, principal_until
from corridor.store.db import Database, commit
from corridor.store.models import OrgKind

T = TypeVar("T")

bearer = HTTPBearer(
    auto_error=False,
    description="A token from POST /api/v1/auth/login or `corridor admin create-token`.",
)

#: Methods whose requests only read; every other request gets a write session.
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

TurnDep = Annotated[None, Depends(turn, scope="function")]


async def database(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def _finish(s: Session) -> None:
    try:
        commit(s)
    finally:
        s.close()


def _abandon(s: Session) -> None:
    try:
        s.rollback()
    finally:
        s.close()


async def session(request: Request, _: TurnDep) -> AsyncIterator[Session]:
    """The request's session, committed when the endpoint returns and before the response is sent
    (scope="function"), so a client that gets a 2xx can rely on the next request seeing it.

    The commit costs a second hop to a worker thread; an endpoint on the hot path saves it with
    :func:`finish` on its own thread, and then this only closes the session."""
    db: Database = request.app.state.db
    async with _ending(db.new_session(write=request.method not in READ_METHODS)) as s:
        yield s


async def read(request: Request, work: Callable[[Session], T]) -> T:
    """``work(session)`` on a worker thread, on a read session without a transaction on
    PostgreSQL (store/db.py: each statement reads on its own; nothing may be written): session,
    statements and their end in one hop, with no session dependency to enter and leave. For a
    GET on the hot path whose endpoint holds its turn (``TurnDep``)."""
    db: Database = request.app.state.db
    return await anyio.to_thread.run_sync(_read, db, work)


def _read(db: Database, work: Callable[[Session], T]) -> T:
    with db.session(autocommit=True) as s:
        return work(s)


def finish(s: Session) -> None:
    """Commit the request's session on the endpoint's worker thread, before it returns (one hop
    per request; the session dependency then only closes it, which needs no round trip)."""
    commit(s)


@asynccontextmanager
async def _ending(s: Session) -> AsyncIterator[Session]:
    """Commit ``s`` on a worker thread when the endpoint succeeded, roll it back otherwise."""
    try:
        yield s
    except BaseException:
        with anyio.CancelScope(shield=True):
            if s.in_transaction():
                await anyio.to_thread.run_sync(_abandon, s)
            else:
                s.close()
        raise
    if s.in_transaction():  # the session was used: commit on a worker thread
        await anyio.to_thread.run_sync(_finish, s)
    else:
        s.close()


async def network(request: Request) -> Network:
    net: Network = request.app.state.network
    return net


def _look_up(db: Database, token: str) -> tuple[Principal, datetime | None] | None:
    # A short read of its own, also for writes: the write session takes SQLite's write lock at
    # its first statement, which should be the endpoint's, after any slow work such as planning.
    with db.session(autocommit=True) as own:
        return principal_until(own, token)


async def principal(
    request: Request,
    _: TurnDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """The caller, from the process's token cache (api/identity.py) or, on a miss, the database
    (inside the request's turn, on a worker thread)."""
    return await identify(request, credentials)


async def identify(request: Request, credentials: HTTPAuthorizationCredentials | None) -> Principal:
    """What :func:`principal` does, for an endpoint that holds its turn itself (the caller must
    hold it: a token the cache does not know is looked up in the database)."""
    if credentials is None:
        raise ApiError(401, "unauthorized", "Authorization", "missing bearer token")
    token = credentials.credentials
    cache: TokenCache = request.app.state.tokens
    who = cache.get(token)
    if who is not None:
        return who
    db: Database = request.app.state.db
    generation = cache.generation
    found = await anyio.to_thread.run_sync(_look_up, db, token)
    if found is None:
        raise ApiError(401, "unauthorized", "Authorization", "unknown, revoked or expired token")
    cache.put(token, *found, generation=generation)
    return found[0]


def forget_tokens(request: Request) -> None:
    """Call after revoking a token or disabling a user, so this process stops honouring it now."""
    cache: TokenCache = request.app.state.tokens
    cache.forget_all()


async def admin(who: Annotated[Principal, Depends(principal)]) -> Principal:
    if who.kind is not OrgKind.ADMIN:
        raise ApiError(403, "forbidden", None, "only the corridor administrator may do this")
    return who


SessionDep = Annotated[Session, Depends(session, scope="function")]
NetworkDep = Annotated[Network, Depends(network)]
PrincipalDep = Annotated[Principal, Depends(principal)]
AdminDep = Annotated[Principal, Depends(admin)]
