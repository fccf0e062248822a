from datetime import timedelta

import pytest
from sqlalchemy import select, text

from corridor.store import migrate
from corridor.store.accounts import (
    AccountError,
    create_organisation,
    create_user,
    issue_token,
    login,
    principal_for,
    revoke,
)
from corridor.store.models import ApiToken


@pytest.fixture
def session(db):
    migrate.upgrade(db)
    with db.session() as s:
        yield s


def test_customs_authority_is_bound_to_a_country(session):
    with pytest.raises(AccountError) as caught:
        create_organisation(session, "Customs X", "customs")
    assert caught.value.field == "country"
    org = create_organisation(session, "Georgia Revenue Service", "customs", "ge")
    assert org.country == "GE"
    with pytest.raises(AccountError, match="only a customs authority"):
        create_organisation(session, "Fwd", "forwarder", "GE")
    with pytest.raises(AccountError, match="kind"):
        create_organisation(session, "Fwd", "shipper")


def test_password_is_hashed_and_checked(session):
    org = create_organisation(session, "Fwd", "forwarder")
    user = create_user(session, org.id, "Ann@Example.org", "Ann", "correct horse battery")
    assert user.email == "ann@example.org"
    assert "correct horse" not in (user.password_hash or "")
    assert user.password_hash.startswith("$argon2id$")
    token, found = login(session, "ann@example.org", "correct horse battery", timedelta(hours=1))
    assert found.id == user.id
    assert principal_for(session, token).email == "ann@example.org"
    with pytest.raises(AccountError, match="wrong e-mail or password"):
        login(session, "ann@example.org", "wrong password!", timedelta(hours=1))
    with pytest.raises(AccountError, match="wrong e-mail or password"):
        login(session, "nobody@example.org", "whatever12345", timedelta(hours=1))
    with pytest.raises(AccountError, match="at least 10"):
        create_user(session, org.id, "bob@example.org", "Bob", "short")
    with pytest.raises(AccountError, match="already exists"):
        create_user(session, org.id, "ANN@example.org", "Ann 2", "another password")


def test_tokens_are_stored_hashed_and_expire_or_are_revoked(session):
    org = create_organisation(session, "Fwd", "forwarder")
    user = create_user(session, org.id, "c@example.org", "C", "a long password")
    token = issue_token(session, user.id, "api", timedelta(days=1))
    stored = session.scalars(select(ApiToken.token_hash)).all()
    assert token not in stored
    who = principal_for(session, token)
    assert who is not None
    revoke(session, who.token_id)
    assert principal_for(session, token) is None
    expired = issue_token(session, user.id, "old", timedelta(seconds=-1))
    assert principal_for(session, expired) is None
    assert principal_for(session, "cor_not-a-token") is None
    session.execute(text("SELECT 1"))
