"""Organisations, users and tokens: who may log in, and as whom a request acts.

Passwords are hashed with Argon2id (``argon2-cffi``); bearer tokens are random 256-bit values of
which only the SHA-256 is stored, so the database alone never grants access. A login for an
unknown or disabled address verifies against a dummy hash of the same cost, so that the answer
takes as long as for a wrong password and the timing does not tell which addresses exist.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pycountry
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Dialect, case, delete, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from corridor.errors import CorridorError
from corridor.store.accounts_tables import DisabledUser, LoginThrottle
from corridor.store.models import ApiToken, Organisation, OrgKind, User, UTCDateTime

_hasher = PasswordHasher()
_dummy_hash: str | None = None
MIN_PASSWORD = 10


def set_password_cost(time_cost: int, memory_kib: int) -> None:
    """Argon2id cost of the hashes made from now on (Settings.argon2_*; tests use a low cost).

    Verification reads the cost stored in each hash, so changing it never locks anyone out.
    Parallelism is 4 lanes (RFC 9106), 1 below the 32 KiB that four lanes need.
    """
    global _hasher, _dummy_hash
    lanes = 4 if memory_kib >= 32 else 1
    _hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=lanes)
    _dummy_hash = None  # the dummy must cost what a real verification costs


class AccountError(CorridorError):
    """A request about accounts that cannot be done; ``field`` and ``reason`` say why."""

    def __init__(self, field: str, reason: str, code: str = "invalid") -> None:
        super().__init__(code, field, reason)


def dummy_hash() -> str:
    """A hash of a random password at the current cost, verified when there is no real one."""
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = _hasher.hash(secrets.token_urlsafe(16))
    return _dummy_hash


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


def normalise_email(email: str) -> str:
    return email.strip().lower()


def login(session: Session, email: str, password: str, ttl: timedelta) -> tuple[str, User]:
    """Check a password and issue a login token.

    Unknown, password-less and disabled users get the same error as a wrong password, after the
    same Argon2 work (a dummy hash), so neither the answer nor its timing reveals an address.
    """
    user = session.scalar(select(User).where(User.email == normalise_email(email)))
    stored = user.password_hash if user is not None and user.password_hash else None
    try:
        _hasher.verify(stored or dummy_hash(), password)
        ok = stored is not None
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok or user is None or session.get(DisabledUser, user.id) is not None:
        raise AccountError("password", "wrong e-mail or password", code="unauthorized")
    return issue_token(session, user.id, "web login", ttl), user


def principal_for(session: Session, token: str) -> Principal | None:
    """Who a bearer token acts for, or None if it is unknown, revoked or expired, or its user is
    gone or disabled (one query: a token never outlives the user it acts for)."""
    found = principal_until(session, token)
    return None if found is None else found[0]


def _principal_columns() -> Any:
    return select(
        ApiToken.id,
        ApiToken.revoked,
        ApiToken.expires_at,
        User.id,
        User.email,
        User.name,
        Organisation.id,
        Organisation.name,
        Organisation.kind,
        Organisation.country,
        ApiToken.token_hash,
    )


def _valid(row: Any, moment: datetime) -> tuple[Principal, datetime | None] | None:
    token_id, revoked, expires_at, user_id, email, name, org_id, org_name, kind, country, _ = row
    if revoked:
        return None
    expires = None
    if expires_at is not None:
        expires = expires_at if expires_at.tzinfo else expires_at.replace(tzinfo=UTC)
        if expires <= moment:
            return None
    who = Principal(user_id, email, name, org_id, org_name, OrgKind(kind), country, token_id)
    return who, expires


def _principals(digests: Any) -> Any:
    return (
        _principal_columns()
        .join(User, User.id == ApiToken.user_id)
        .join(Organisation, Organisation.id == User.organisation_id)
        .outerjoin(DisabledUser, DisabledUser.user_id == User.id)
        .where(digests, DisabledUser.user_id.is_(None))
    )


def principal_until(session: Session, token: str) -> tuple[Principal, datetime | None] | None:
    """:func:`principal_for` and the moment the token expires (None: never), for a cache.

    One indexed query over the columns needed (no ORM objects are built: it runs on every request
    whose token is not remembered by the API's cache)."""
    found = session.execute(_principals(ApiToken.token_hash == _digest(token))).first()
    return None if found is None else _valid(found, now())


#: Token digests asked about in one statement by :func:`principals_by_digest`.
DIGESTS_PER_QUERY = 500


def principals_by_digest(
    session: Session, digests: list[str]
) -> dict[str, tuple[Principal, datetime | None]]:
    """:func:`principal_until` for many tokens at once, by their SHA-256 hex digests (what the
    API's token cache keeps): the tokens still valid, each with its principal and expiry. A digest
    missing from the answer is unknown, revoked or expired, or its user is gone or disabled."""
    moment = now()
    out: dict[str, tuple[Principal, datetime | None]] = {}
    for start in range(0, len(digests), DIGESTS_PER_QUERY):
        chunk = digests[start : start + DIGESTS_PER_QUERY]
        for row in session.execute(_principals(ApiToken.token_hash.in_(chunk))):
            valid = _valid(row, moment)
            if valid is not None:
                out[row[-1]] = valid
    return out


def revoke(session: Session, token_id: str) -> None:
    row = session.get(ApiToken, token_id)
    if row is not None:
        row.revoked = True


# -- tokens and users, as their owner or the administrator manages them ----------------------


def find_user(session: Session, email: str) -> User:
    user = session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None:
        raise AccountError("email", f"no user {email}", code="not_found")
    return user


def _user_visible(session: Session, who: Principal | None, user_id: str) -> User:
    """The user ``user_id`` if ``who`` may manage them (itself, or anyone for the admin and for
    the operator at the command line, ``who`` None).

    Anyone else's user answers not_found, as an unknown one does, so ids reveal nothing.
    """
    user = session.get(User, user_id)
    if user is None or (
        who is not None and who.kind is not OrgKind.ADMIN and user.id != who.user_id
    ):
        raise AccountError("user_id", f"no user {user_id!r}", code="not_found")
    return user


def tokens_of(session: Session, who: Principal | None, user_id: str) -> list[ApiToken]:
    """The tokens of ``user_id``, newest first (never their values: only hashes are stored)."""
    user = _user_visible(session, who, user_id)
    return list(
        session.scalars(
            select(ApiToken)
            .where(ApiToken.user_id == user.id)
            .order_by(ApiToken.created_at.desc(), ApiToken.id)
        )
    )


def revoke_token(session: Session, who: Principal | None, token_id: str) -> ApiToken:
    """Revoke one token: the caller's own, or anyone's for the admin (``who`` None: the CLI).

    Revoking twice is harmless: the outcome, a revoked token, is the same.
    """
    row = session.get(ApiToken, token_id)
    if row is None or (
        who is not None and who.kind is not OrgKind.ADMIN and row.user_id != who.user_id
    ):
        raise AccountError("token_id", f"no token {token_id!r}", code="not_found")
    session.execute(update(ApiToken).where(ApiToken.id == row.id).values(revoked=True))
    session.refresh(row)
    return row


def all_users(session: Session) -> list[tuple[User, Organisation, bool]]:
    """Every user with its organisation and whether it is disabled, by organisation and e-mail."""
    rows = session.execute(
        select(User, Organisation, DisabledUser.user_id)
        .join(Organisation, Organisation.id == User.organisation_id)
        .outerjoin(DisabledUser, DisabledUser.user_id == User.id)
        .order_by(Organisation.name, User.email)
    ).all()
    return [(user, org, disabled is not None) for user, org, disabled in rows]


def is_disabled(session: Session, user_id: str) -> bool:
    return session.get(DisabledUser, user_id) is not None


def disable_user(session: Session, user_id: str, by: Principal | None) -> User:
    """Disable a user and revoke every token they hold; idempotent.

    The admin cannot disable itself: the last administrator locking itself out would leave only
    the CLI to repair it. Revoking the tokens as well means enabling the user again does not
    bring old, possibly leaked, tokens back to life.
    """
    user = session.get(User, user_id)
    if user is None:
        raise AccountError("user_id", f"no user {user_id!r}", code="not_found")
    if by is not None and by.user_id == user.id:
        raise AccountError("user_id", "you cannot disable yourself", code="conflict")
    if session.get(DisabledUser, user.id) is None:
        session.execute(
            _upsert(session.get_bind().dialect, DisabledUser)
            .values(user_id=user.id, disabled_at=now(), disabled_by=by.user_id if by else None)
            .on_conflict_do_nothing(index_elements=["user_id"])
        )
    session.execute(update(ApiToken).where(ApiToken.user_id == user.id).values(revoked=True))
    return user


def enable_user(session: Session, user_id: str) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise AccountError("user_id", f"no user {user_id!r}", code="not_found")
    session.execute(delete(DisabledUser).where(DisabledUser.user_id == user.id))
    return user


# -- login throttle: counters shared by every worker through the database -------------------


def _upsert(dialect: Dialect, table: type[DisabledUser] | type[LoginThrottle]) -> Any:
    module: Any = postgresql if dialect.name == "postgresql" else sqlite
    return module.insert(table)


def throttle_hit(session: Session, key: str, window: timedelta) -> tuple[int, datetime]:
    """Count one attempt under ``key``; returns the attempts in the current window and its start.

    One atomic INSERT ... ON CONFLICT DO UPDATE ... RETURNING: concurrent attempts are each
    counted exactly once, whichever worker they reach. A window older than ``window`` restarts.
    """
    moment = now()
    expired = LoginThrottle.window_start <= moment - window
    start = literal(moment, UTCDateTime())
    statement = (
        _upsert(session.get_bind().dialect, LoginThrottle)
        .values(key=key, window_start=moment, count=1)
        .on_conflict_do_update(
            index_elements=["key"],
            set_={
                "count": case((expired, 1), else_=LoginThrottle.count + 1),
                "window_start": case((expired, start), else_=LoginThrottle.window_start),
            },
        )
        .returning(LoginThrottle.count, LoginThrottle.window_start)
    )
    count, window_start = session.execute(statement).one()
    if isinstance(window_start, str):  # SQLite RETURNING bypasses the column type on some versions
        window_start = datetime.fromisoformat(window_start)
    if window_start.tzinfo is None:
        window_start = window_start.replace(tzinfo=UTC)
    return int(count), window_start


def throttle_forgive(session: Session, key: str, *, reset: bool) -> None:
    """A successful login: forget the key's attempts (``reset``) or only the successful one."""
    if reset:
        session.execute(delete(LoginThrottle).where(LoginThrottle.key == key))
    else:
        session.execute(
            update(LoginThrottle)
            .where(LoginThrottle.key == key, LoginThrottle.count > 0)
            .values(count=LoginThrottle.count - 1)
        )


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


def all_organisations(session: Session) -> list[Organisation]:
    """Every organisation by name (the administrator's list)."""
    return list(session.scalars(select(Organisation).order_by(Organisation.name, Organisation.id)))
