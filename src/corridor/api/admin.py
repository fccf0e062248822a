"""Organisations, users and their standing, for the corridor administrator."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, BackgroundTasks, Request, status
from pydantic import BaseModel, ConfigDict, Field

from corridor.api.account_schemas import AccountOut, TokenOut
from corridor.api.auth import token_out
from corridor.api.deps import AdminDep, SessionDep, forget_tokens
from corridor.api.schemas import OrganisationCreate, OrganisationOut, UserCreate, UserOut
from corridor.store import accounts
from corridor.store.models import ApiToken, Organisation, User

router = APIRouter(prefix="/admin", tags=["admin"])


def account_out(user: User, org: Organisation, disabled: bool) -> AccountOut:
    return AccountOut(
        id=user.id,
        email=user.email,
        name=user.name,
        organisation_id=org.id,
        organisation=org.name,
        kind=org.kind,
        country=org.country,
        disabled=disabled,
    )


@router.post("/organisations", response_model=OrganisationOut, status_code=status.HTTP_201_CREATED)
def create_organisation(body: OrganisationCreate, s: SessionDep, _: AdminDep) -> OrganisationOut:
    org = accounts.create_organisation(s, body.name, body.kind, body.country)
    return OrganisationOut(id=org.id, name=org.name, kind=org.kind, country=org.country)


@router.post("/users", response_model=UserOut, status_code=status.HTTP_201_CREATED)
def create_user(body: UserCreate, s: SessionDep, _: AdminDep) -> UserOut:
    user = accounts.create_user(s, body.organisation_id, body.email, body.name, body.password)
    org = s.get(Organisation, user.organisation_id)
    assert org is not None
    return UserOut(
        id=user.id,
        email=user.email,
        name=user.name,
        organisation_id=org.id,
        organisation=org.name,
        kind=org.kind,
        country=org.country,
    )


@router.get("/users", response_model=list[AccountOut], summary="Every user, with its standing")
def list_users(s: SessionDep, _: AdminDep) -> list[AccountOut]:
    return [account_out(user, org, disabled) for user, org, disabled in accounts.all_users(s)]


def _account(s: SessionDep, user: User) -> AccountOut:
    org = s.get(Organisation, user.organisation_id)
    assert org is not None
    return account_out(user, org, accounts.is_disabled(s, user.id))


@router.post(
    "/users/{user_id}/disable",
    response_model=AccountOut,
    summary="Disable a user: no login, and every token it holds is revoked",
)
def disable_user(
    user_id: str, s: SessionDep, who: AdminDep, request: Request, later: BackgroundTasks
) -> AccountOut:
    account = _account(s, accounts.disable_user(s, user_id, who))
    # Its tokens stop working in this process now and after the commit (api/identity.py).
    forget_tokens(request)
    later.add_task(forget_tokens, request)
    return account


@router.post(
    "/users/{user_id}/enable",
    response_model=AccountOut,
    summary="Let a disabled user log in again (its old tokens stay revoked)",
)
def enable_user(user_id: str, s: SessionDep, _: AdminDep) -> AccountOut:
    return _account(s, accounts.enable_user(s, user_id))


@router.get("/users/{user_id}/tokens", response_model=list[TokenOut], summary="A user's tokens")
def user_tokens(user_id: str, s: SessionDep, who: AdminDep) -> list[TokenOut]:
    return [token_out(row, who) for row in accounts.tokens_of(s, who, user_id)]


@router.get(
    "/organisations", response_model=list[OrganisationOut], summary="Every organisation, by name"
)
def list_organisations(s: SessionDep, _: AdminDep) -> list[OrganisationOut]:
    rows = accounts.all_organisations(s)
    return [OrganisationOut(id=o.id, name=o.name, kind=o.kind, country=o.country) for o in rows]


class TokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=80, examples=["ERP integration"])
    ttl_days: int | None = Field(default=None, ge=1, le=3650, description="None: no expiry")


class TokenCreated(TokenOut):
    token: str = Field(description="The token's value: shown this once, only its hash is kept")


@router.post(
    "/users/{user_id}/tokens",
    response_model=TokenCreated,
    status_code=status.HTTP_201_CREATED,
    summary="Issue an API token for a user (its value is shown once)",
)
def create_token(user_id: str, body: TokenCreate, s: SessionDep, who: AdminDep) -> TokenCreated:
    user = s.get(User, user_id)
    if user is None:
        raise accounts.AccountError("user_id", f"no user {user_id!r}", code="not_found")
    if accounts.is_disabled(s, user.id):
        raise accounts.AccountError("user_id", "the user is disabled", code="conflict")
    ttl = timedelta(days=body.ttl_days) if body.ttl_days else None
    value = accounts.issue_token(s, user.id, body.name, ttl)
    holder = accounts.principal_for(s, value)
    assert holder is not None
    row = s.get(ApiToken, holder.token_id)
    assert row is not None
    return TokenCreated(**token_out(row, who).model_dump(), token=value)
