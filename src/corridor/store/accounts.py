"""Organisations, users and tokens: who may log in, and as whom a request acts.

Passwords are hashed with Argon2id (``argon2-cffi``); bearer tokens are random 256-bit values of
which only the SHA-256 is stored, so the database alone never grants access.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pycountry
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from corridor.store.models import ApiToken, Organisation, OrgKind, User

_hasher = PasswordHasher()
MIN_PASSWORD = 10


def set_password_cost(time_cost: int, memory_kib: int) -> None:
    """Argon2id cost of the hashes made from now on (Settings.argon2_*; tests use a low cost).

    Verification reads the cost stored in each hash, so changing it never locks anyone out.
    Parallelism is 4 lanes (RFC 9106), 1 below the 32 KiB that four lanes need.
    """
    global _hasher
    lanes = 4 if memory_kib >= 32 else 1
    _hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=lanes)


class AccountError(ValueError):
    """A request about accounts that cannot be done; ``field`` and ``reason`` say why."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


@dataclass(frozen=True)
class Principal:
    """The user a request acts for, with the organisation that bounds what it may see and do."""

    user_id: str
    email: str
    name: str
    organisation_id: str
    organisation_name: str
    kind: OrgKind
    country: str | None
    token_id: str


def now() -> datetime:
    return datetime.now(UTC)


def _slug(text: str) -> str:
    return (
        "".join(ch if ch.isalnum() else "-" for ch in text.lower()).strip("-")[:50]
        or uuid.uuid4().hex[:8]
    )


def create_organisation(
    session: Session, name: str, kind: str, country: str | None = None
) -> Organisation:
    name = name.strip()
    if not name:
        raise AccountError("name", "an organisation needs a name")
    try:
        org_kind = OrgKind(kind)
    except ValueError:
        raise AccountError(
            "kind", f"{kind!r} is not one of {', '.join(k.value for k in OrgKind)}"
        ) from None
    if org_kind is OrgKind.CUSTOMS:
        if not country or pycountry.countries.get(alpha_2=country.upper()) is None:
            raise AccountError(
                "country", "a customs authority is bound to one country (ISO 3166 alpha-2)"
            )
        country = country.upper()
    elif country:
        raise AccountError("country", "only a customs authority is bound to a country")
    if session.scalar(select(Organisation).where(Organisation.name == name)):
        raise AccountError("name", f"an organisation named {name!r} already exists")
    org = Organisation(
        id=_slug(name), name=name, kind=org_kind.value, country=country, created_at=now()
    )
    if session.get(Organisation, org.id):
        org.id = f"{org.id}-{uuid.uuid4().hex[:6]}"
    session.add(org)
    session.flush()
    return org


def create_user(
    session: Session, organisation_id: str, email: str, name: str, password: str
) -> User:
    email = email.strip().lower()
    if "@" not in email or len(email) > 254:
        raise AccountError("email", "not an e-mail address")
    if session.get(Organisation, organisation_id) is None:
        raise AccountError("organisation", f"unknown organisation {organisation_id!r}")
    if len(password) < MIN_PASSWORD:
        raise AccountError("password", f"at least {MIN_PASSWORD} characters")
    if session.scalar(select(User).where(User.email == email)):
        raise AccountError("email", f"a user {email} already exists")
    user = User(
        id=uuid.uuid4().hex,
        organisation_id=organisation_id,
        email=email,
        name=name.strip() or email,
        password_hash=_hasher.hash(password),
        created_at=now(),
    )
    session.add(user)
    session.flush()
    return user


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(session: Session, user_id: str, name: str, ttl: timedelta | None) -> str:
    """A new bearer token for ``user_id``; the clear value is returned once and never stored."""
    token = "cor_" + secrets.token_urlsafe(32)
    session.add(
        ApiToken(
            id=uuid.uuid4().hex,
            user_id=user_id,
            token_hash=_digest(token),
            name=name,
            created_at=now(),
            expires_at=None if ttl is None else now() + ttl,
            revoked=False,
        )
    )
    session.flush()
    return token


def login(session: Session, email: str, password: str, ttl: timedelta) -> tuple[str, User]:
    """Check a password and issue a login token; the same error for unknown user and bad password."""
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    try:
        if user is None or user.password_hash is None:
            raise VerificationError
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        raise AccountError("password", "wrong e-mail or password") from None
    return issue_token(session, user.id, "web login", ttl), user


def principal_for(session: Session, token: str) -> Principal | None:
    """Who a bearer token acts for, or None if it is unknown, revoked or expired."""
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(token)))
    if row is None or row.revoked:
        return None
    if row.expires_at is not None:
        expires = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=UTC)
        if expires <= now():
            return None
    user = session.get(User, row.user_id)
    assert user is not None
    org = session.get(Organisation, user.organisation_id)
    assert org is not None
    return Principal(
        user.id, user.email, user.name, org.id, org.name, OrgKind(org.kind), org.country, row.id
    )


def revoke(session: Session, token_id: str) -> None:
    row = session.get(ApiToken, token_id)
    if row is not None:
        row.revoked = True


def principal_by_email(session: Session, email: str) -> Principal | None:
    """Who a user acts as when a command names them (the CLI's ``--as``), or None if unknown."""
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        return None
    org = session.get(Organisation, user.organisation_id)
    assert org is not None
    return Principal(
        user.id, user.email, user.name, org.id, org.name, OrgKind(org.kind), org.country, "cli"
    )
