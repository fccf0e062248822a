"""Property-based requests generated from the OpenAPI schema: whatever they send, never a 5xx."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings

from corridor.api import create_app
from corridor.settings import PACKAGE_DATA_DIR, Settings
from corridor.store.accounts import issue_token
from corridor.store.db import Database
from corridor.store.seed import prepare

EXAMPLES_PER_OPERATION = 12


def test_no_server_errors_for_generated_requests(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'fuzz.db'}")
    logins = prepare(db, PACKAGE_DATA_DIR)
    admin_email = next(lg.email for lg in logins if lg.email.startswith("admin"))
    with db.session() as s:
        from sqlalchemy import select

        from corridor.store.models import User

        admin = s.scalar(select(User).where(User.email == admin_email))
        assert admin is not None
        token = issue_token(s, admin.id, "fuzz", None)
    app = create_app(Settings(var_dir=tmp_path), db)
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    headers = {"Authorization": f"Bearer {token}"}
    failures: list[str] = []
    statuses: list[int] = []
    tested = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path.endswith("/auth/logout"):
            continue  # it would revoke the token the other requests use
        if operation.path.endswith("/stream"):
            continue  # a live stream answers until its client leaves (tested on its own)
        tested += 1
        declared = {
            media
            for answer in operation.definition.raw.get("responses", {}).values()
            for media in answer.get("content", {})
        }

        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def check(case: schemathesis.Case) -> None:
            response = case.call(headers=headers)
            statuses.append(response.status_code)
            if response.status_code >= 500:
                failures.append(
                    f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:200]}"
                )
            elif response.status_code != 204:
                content_type = response.headers.get("content-type", [""])
                content_type = content_type[0] if isinstance(content_type, list) else content_type
                # JSON everywhere (errors are problem JSON), or what the operation documents.
                # check() runs within this iteration, so `declared` is this operation's.
                assert "json" in content_type or content_type.split(";")[0] in declared, (  # noqa: B023
                    case.formatted_path,
                    content_type,
                )

        check()
    db.dispose()
    assert tested >= 15
    assert len(statuses) >= tested * 3, "too few generated requests reached the app"
    assert any(200 <= code < 300 for code in statuses)
    assert any(400 <= code < 500 for code in statuses)
    assert failures == []
