"""Request dependencies: the database session and the caller's identity.

See api/availability.py for the concurrency model: a request takes a database turn, its session
is a write session (SQLite ``BEGIN IMMEDIATE``) unless the method is GET/HEAD/OPTIONS, and the
commit runs on a worker thread before the response is sent.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

import anyio
import anyio.to_thread
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from corridor.api.availability import turn
from corridor.api.errors import ApiError
from corridor.network import Network
from corridor.store.accounts import Principal, principal_for
from corridor.store.db import Database, commit
from corridor.store.models import OrgKind

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
    (scope="function"), so a client that gets a 2xx can rely on the next request seeing it."""
    db: Database = request.app.state.db
    s = db.new_session(write=request.method not in READ_METHODS)
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


def principal(
    request: Request,
    s: Annotated[Session, Depends(session, scope="function")],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    if credentials is None:
        raise ApiError(401, "unauthorized", "Authorization", "missing bearer token")
    if request.method in READ_METHODS:
        who = principal_for(s, credentials.credentials)
    else:
        # A short read of its own: the write session takes SQLite's write lock at its first
        # statement, which should be the endpoint's, after any slow work such as planning.
        db: Database = request.app.state.db
        with db.session() as own:
            who = principal_for(own, credentials.credentials)
    if who is None:
        raise ApiError(401, "unauthorized", "Authorization", "unknown, revoked or expired token")
    return who


async def admin(who: Annotated[Principal, Depends(principal)]) -> Principal:
    if who.kind is not OrgKind.ADMIN:
        raise ApiError(403, "forbidden", None, "only the corridor administrator may do this")
    return who


SessionDep = Annotated[Session, Depends(session, scope="function")]
NetworkDep = Annotated[Network, Depends(network)]
PrincipalDep = Annotated[Principal, Depends(principal)]
AdminDep = Annotated[Principal, Depends(admin)]
