"""Log in and out; who am I; my tokens.

Login is the one endpoint anybody may call without a token, and the one that costs the server
most (an Argon2id hash, 64 MiB and tens of milliseconds). So before hashing it counts the attempt
against the account and against the client address, in the database so that every worker shares
the counts (429 with Retry-After past the limit), and it hashes in at most
``Settings.login_concurrent_hashes`` threads at once (503 with Retry-After when they stay busy),
which bounds memory whatever the number of clients.
"""

from __future__ import annotations

import hashlib
import threading
from datetime import timedelta

from fastapi import APIRouter, BackgroundTasks, Request, status

from corridor.api.account_schemas import TokenOut
from corridor.api.deps import PrincipalDep, SessionDep, forget_tokens
from corridor.api.schemas import LoginRequest, LoginResponse, UserOut
from corridor.errors import CorridorError
from corridor.settings import Settings
from corridor.store import accounts
from corridor.store.db import Database
from corridor.store.models import ApiToken

router = APIRouter(tags=["auth"])


def user_out(who: accounts.Principal) -> UserOut:
    return UserOut(
        id=who.user_id,
        email=who.email,
        name=who.name,
        organisation_id=who.organisation_id,
        organisation=who.organisation_name,
        kind=who.kind.value,
        country=who.country,
    )


def token_out(row: ApiToken, who: accounts.Principal) -> TokenOut:
    return TokenOut(
        id=row.id,
        user_id=row.user_id,
        name=row.name,
        created_at=row.created_at,
        expires_at=row.expires_at,
        revoked=row.revoked,
        current=row.id == who.token_id,
    )


def hash_slots(settings: Settings) -> threading.BoundedSemaphore:
    """The per-process bound on concurrent password hashes (kept in app.state)."""
    return threading.BoundedSemaphore(settings.login_concurrent_hashes)


def _throttle(db: Database, settings: Settings, email: str, address: str) -> list[str]:
    """Count this attempt; 429 past either limit. Returns the keys counted."""
    window = timedelta(seconds=settings.login_window_s)
    account = "account:" + hashlib.sha256(email.encode()).hexdigest()[:40]
    client = "address:" + address[:80]
    limits = (
        (account, settings.login_max_per_account, "email"),
        (client, settings.login_max_per_address, "address"),
    )
    with db.session() as s:
        counted = [
            (accounts.throttle_hit(s, key, window), limit, field) for key, limit, field in limits
        ]
    for (count, start), limit, field in counted:
        if count > limit:
            wait = (start + window - accounts.now()).total_seconds()
            raise CorridorError(
                "rate_limited",
                field,
                f"too many login attempts for this {'account' if field == 'email' else 'address'}; "
                "try again later",
                retry_after_s=max(1.0, wait),
            )
    return [account, client]


@router.post(
    "/auth/login",
    response_model=LoginResponse,
    summary="Exchange e-mail and password for a token",
    responses={
        401: {"description": "Wrong e-mail or password (the same answer for both)"},
        429: {"description": "Too many attempts for the account or address; see Retry-After"},
        503: {"description": "Every password-hash slot is busy; see Retry-After"},
    },
)
def login(body: LoginRequest, request: Request) -> LoginResponse:
    settings: Settings = request.app.state.settings
    db: Database = request.app.state.db
    email = accounts.normalise_email(body.email)
    address = request.client.host if request.client else "unknown"
    account_key, address_key = _throttle(db, settings, email, address)
    ttl = timedelta(hours=settings.token_ttl_hours)
    slots: threading.BoundedSemaphore = request.app.state.hash_slots
    if not slots.acquire(timeout=settings.login_hash_wait_s):
        raise CorridorError(
            "unavailable", None, "the server is busy checking passwords; try again", retry_after_s=1
        )
    try:
        with db.session() as s:
            token, _ = accounts.login(s, email, body.password, ttl)
    finally:
        slots.release()
    with db.session() as s:
        # A success forgets the account's failures and counts no failure against the address.
        accounts.throttle_forgive(s, account_key, reset=True)
        accounts.throttle_forgive(s, address_key, reset=False)
        who = accounts.principal_for(s, token)
    assert who is not None
    return LoginResponse(token=token, expires_at=accounts.now() + ttl, user=user_out(who))


@router.post(
    "/auth/logout", status_code=status.HTTP_204_NO_CONTENT, summary="Revoke the token used"
)
def logout(s: SessionDep, who: PrincipalDep, request: Request, later: BackgroundTasks) -> None:
    accounts.revoke(s, who.token_id)
    _forget(request, later)


@router.get("/me", response_model=UserOut, summary="The user and organisation of the token")
def me(who: PrincipalDep) -> UserOut:
    return user_out(who)


@router.get(
    "/auth/tokens", response_model=list[TokenOut], summary="Your tokens (never their values)"
)
def my_tokens(s: SessionDep, who: PrincipalDep) -> list[TokenOut]:
    return [token_out(row, who) for row in accounts.tokens_of(s, who, who.user_id)]


@router.post(
    "/auth/tokens/{token_id}/revoke",
    response_model=TokenOut,
    summary="Revoke a token: your own, or anyone's for the administrator",
)
def revoke_token(
    token_id: str, s: SessionDep, who: PrincipalDep, request: Request, later: BackgroundTasks
) -> TokenOut:
    row = accounts.revoke_token(s, who, token_id)
    _forget(request, later)
    return token_out(row, who)


def _forget(request: Request, later: BackgroundTasks) -> None:
    """Stop honouring revoked tokens in this process now, and again once the change is committed
    (a request in between could have remembered the token as still valid)."""
    forget_tokens(request)
    later.add_task(forget_tokens, request)
