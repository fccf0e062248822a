"""``corridor admin disable-user / enable-user / list-tokens / revoke-token`` on a real database."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from corridor.api import create_app
from corridor.cli import app as cli
from corridor.settings import Settings, get_settings
from corridor.store import accounts
from corridor.store.models import ApiToken, User
from tests.api.test_auth import FORWARDER, cheap_hashes  # noqa: F401

runner = CliRunner()


@pytest.fixture
def env(seeded, tmp_path, monkeypatch):
    monkeypatch.setenv("CORRIDOR_DATABASE_URL", seeded.db.url)
    monkeypatch.setenv("CORRIDOR_VAR_DIR", str(tmp_path / "var"))
    get_settings.cache_clear()
    yield seeded
    get_settings.cache_clear()


def _token(db, email: str) -> tuple[str, str]:
    with db.session() as s:
        user = s.scalar(select(User).where(User.email == email))
        value = accounts.issue_token(s, user.id, "script", None)
        row = s.scalar(select(ApiToken).where(ApiToken.user_id == user.id))
        return value, row.id


def test_disable_list_revoke_enable(env, tmp_path):
    passwords, db = env.passwords, env.db
    value, token_id = _token(db, FORWARDER)
    headers = {"Authorization": f"Bearer {value}"}
    # The CLI is another process: its changes reach a running server within token_cache_s
    # (tests/api/test_identity.py); the cache is off here to check the CLI's effect itself.
    settings = Settings(var_dir=tmp_path / "var", token_cache_s=0)
    with TestClient(create_app(settings, db)) as client:
        assert client.get("/api/v1/me", headers=headers).status_code == 200

        listed = runner.invoke(cli, ["admin", "list-tokens", "--email", FORWARDER])
        assert listed.exit_code == 0, listed.output
        assert token_id in listed.output
        assert "active" in listed.output
        assert value not in listed.output

        revoked = runner.invoke(cli, ["admin", "revoke-token", token_id])
        assert revoked.exit_code == 0, revoked.output
        assert client.get("/api/v1/me", headers=headers).status_code == 401

        value, _ = _token(db, FORWARDER)
        headers = {"Authorization": f"Bearer {value}"}
        disabled = runner.invoke(cli, ["admin", "disable-user", "--email", FORWARDER])
        assert disabled.exit_code == 0, disabled.output
        assert client.get("/api/v1/me", headers=headers).status_code == 401
        login = {"email": FORWARDER, "password": passwords[FORWARDER]}
        assert client.post("/api/v1/auth/login", json=login).status_code == 401
        assert (
            "(disabled)"
            in runner.invoke(cli, ["admin", "list-tokens", "--email", FORWARDER]).output
        )
        refused = runner.invoke(cli, ["admin", "create-token", "--email", FORWARDER])
        assert refused.exit_code == 2
        assert "disabled" in refused.output

        enabled = runner.invoke(cli, ["admin", "enable-user", "--email", FORWARDER])
        assert enabled.exit_code == 0, enabled.output
        assert client.post("/api/v1/auth/login", json=login).status_code == 200


def test_bad_input_names_the_field_without_a_traceback(env):
    for args, field in (
        (["admin", "disable-user", "--email", "nobody@example.org"], "email"),
        (["admin", "list-tokens", "--email", "nobody@example.org"], "email"),
        (["admin", "revoke-token", "no-such-token"], "token_id"),
    ):
        result = runner.invoke(cli, args)
        assert result.exit_code == 2, (args, result.output)
        assert f"{field}:" in result.output
        assert "Traceback" not in result.output
