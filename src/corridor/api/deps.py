"""Request dependencies: the database session and the caller's identity."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from corridor.api.errors import ApiError
from corridor.network import Network
from corridor.store.accounts import Principal, principal_for
from corridor.store.db import Database
from corridor.store.models import OrgKind

bearer = HTTPBearer(
    auto_error=False,
    description="A token from POST /api/v1/auth/login or `corridor admin create-token`.",
)


def database(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def session(db: Annotated[Database, Depends(database)]) -> Iterator[Session]:
    # Committed when the endpoint returns and before the response is sent (scope="function"), so a
    # client that gets a 2xx can rely on the next request seeing what it wrote.
    with db.session() as s:
        yield s


def network(request: Request) -> Network:
    net: Network = request.app.state.network
    return net


def principal(
    s: Annotated[Session, Depends(session, scope="function")],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    if credentials is None:
        raise ApiError(401, "unauthorized", "Authorization", "missing bearer token")
    who = principal_for(s, credentials.credentials)
    if who is None:
        raise ApiError(401, "unauthorized", "Authorization", "unknown, revoked or expired token")
    return who


def admin(who: Annotated[Principal, Depends(principal)]) -> Principal:
    if who.kind is not OrgKind.ADMIN:
        raise ApiError(403, "forbidden", None, "only the corridor administrator may do this")
    return who


SessionDep = Annotated[Session, Depends(session, scope="function")]
NetworkDep = Annotated[Network, Depends(network)]
PrincipalDep = Annotated[Principal, Depends(principal)]
AdminDep = Annotated[Principal, Depends(admin)]
