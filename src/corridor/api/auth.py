"""Log in and out; who am I."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request, status

from corridor.api.deps import PrincipalDep, SessionDep
from corridor.api.schemas import LoginRequest, LoginResponse, UserOut
from corridor.store import accounts

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


@router.post(
    "/auth/login", response_model=LoginResponse, summary="Exchange e-mail and password for a token"
)
def login(body: LoginRequest, s: SessionDep, request: Request) -> LoginResponse:
    ttl = timedelta(hours=request.app.state.settings.token_ttl_hours)
    try:
        token, _ = accounts.login(s, body.email, body.password, ttl)
    except accounts.AccountError:
        from corridor.api.errors import ApiError

        raise ApiError(401, "unauthorized", "password", "wrong e-mail or password") from None
    who = accounts.principal_for(s, token)
    assert who is not None
    return LoginResponse(token=token, expires_at=accounts.now() + ttl, user=user_out(who))


@router.post(
    "/auth/logout", status_code=status.HTTP_204_NO_CONTENT, summary="Revoke the token used"
)
def logout(s: SessionDep, who: PrincipalDep) -> None:
    accounts.revoke(s, who.token_id)


@router.get("/me", response_model=UserOut, summary="The user and organisation of the token")
def me(who: PrincipalDep) -> UserOut:
    return user_out(who)
