"""Generated requests over the whole API, on SQLite and PostgreSQL: whatever they send, never a 5xx.

Two kinds, both from the OpenAPI document:

- Hypothesis fuzzing, operation by operation, with schemathesis' generated (mostly invalid)
  parameters and bodies;
- a stateful run: schemathesis infers OpenAPI links between operations (the id a POST answers
  is the path parameter of a GET, the shipment a declaration names, ...) and Hypothesis drives
  a state machine along them, so requests reach resources that exist and the states they move to.

Each request carries a token issued for it alone (an admin's for /admin, a forwarder's
otherwise), so that a generated logout or revocation does not silence the rest of the run. The
budget is small (the suite must stay fast); CI runs the same code, and every 5xx found is a bug.
"""

from __future__ import annotations

from typing import Any

import argon2
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from sqlalchemy import select

from corridor.api import create_app
from corridor.settings import Settings
from corridor.store import accounts
from corridor.store.models import User

EXAMPLES_PER_OPERATION = 4
STATEFUL_RUNS = 8
STATEFUL_STEPS = 10
#: Disabling would lock out the forwarder every other request acts as (test_auth covers it); the
#: notice stream is open for up to an hour by design (the access matrix reads it bounded).
EXCLUDED = r"(/admin/users/\{user_id\}/disable|/notices/stream)$"


@pytest.fixture
def target(seeded, tmp_path, monkeypatch):
    monkeypatch.setattr(accounts, "_hasher", argon2.PasswordHasher(1, 8, 1))
    monkeypatch.setattr(accounts, "_dummy_hash", None)
    db = seeded.db
    with db.session() as s:
        users = {
            email: s.scalar(select(User.id).where(User.email == email))
            for email in ("admin@demo.corridor", "forwarder@demo.corridor")
        }
    app = create_app(
        Settings(
            var_dir=tmp_path / "var",
            login_max_per_account=10**6,
            login_max_per_address=10**6,
            # The requests are under test, not the background delivery rounds (tested on their
            # own): a round every 2 s would spend a sixth of the run's CPU time here.
            webhook_poll_s=3600,
        ),
        db,
    )

    def headers(path: str) -> dict[str, str]:
        email = "admin@demo.corridor" if "/admin/" in path else "forwarder@demo.corridor"
        with db.session() as s:
            return {
                "Authorization": "Bearer " + accounts.issue_token(s, users[email], "fuzz", None)
            }

    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app).exclude(
        path_regex=EXCLUDED
    )
    yield schema, headers
    # schemathesis starts the app's lifespan once and keeps it until the process exits: its job
    # consumers would go on taking jobs from this database after the pool hands it to the next
    # test (which then saw jobs run that nobody consumes there). Stop it with the test.
    from schemathesis.python.asgi import shutdown_lifespans

    shutdown_lifespans()


#: Streams that stay open until their deadline unless told to send what is there and close: a
#: generated request that opens one would wait out that deadline (40 s per run, doing nothing).
#: The fuzzer still generates every other parameter of them.
BOUNDED_STREAMS = {"/api/v1/capacity/stream": {"once": "true"}}


def _bounded(case: schemathesis.Case) -> schemathesis.Case:
    if (bound := BOUNDED_STREAMS.get(case.path)) is not None:
        case.query = {**(case.query or {}), **bound}
    return case


def _record(failures: list[str], statuses: list[int], case: Any, response: Any) -> None:
    statuses.append(response.status_code)
    if response.status_code >= 500:
        failures.append(
            f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:300]}"
        )


QUIET = {
    "deadline": None,
    "database": None,
    "suppress_health_check": list(HealthCheck),
    "phases": [Phase.explicit, Phase.generate],
}


def test_fuzzing_every_operation_gives_no_server_error(target):
    schema, headers = target
    failures: list[str] = []
    statuses: list[int] = []
    tested = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        tested += 1
        declared = {
            media
            for answer in operation.definition.raw.get("responses", {}).values()
            for media in answer.get("content", {})
        }

        @settings(max_examples=EXAMPLES_PER_OPERATION, **QUIET)
        @given(case=operation.as_strategy())
        def check(case: schemathesis.Case) -> None:
            response = _bounded(case).call(headers=headers(case.path))
            _record(failures, statuses, case, response)
            kind = response.headers.get("content-type", [""])
            kind = kind[0] if isinstance(kind, list) else kind
            if response.status_code >= 400:  # every error is the one JSON error body
                assert "json" in kind, (case.formatted_path, response.status_code, kind)
            elif response.status_code != 204:
                # JSON, or what the operation documents (the Atom feed, CAP alerts).
                # check() runs within this iteration, so `declared` is this operation's.
                assert "json" in kind or kind.split(";")[0] in declared, (  # noqa: B023
                    case.formatted_path,
                    kind,
                )

        check()
    assert tested >= 35
    assert len(statuses) >= tested * 2, "too few generated requests reached the app"
    assert any(200 <= code < 300 for code in statuses)
    assert any(400 <= code < 500 for code in statuses)
    assert failures == []


def test_stateful_walks_along_the_links_give_no_server_error(target):
    schema, headers = target
    failures: list[str] = []
    statuses: list[int] = []

    class Workflow(schema.as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case: schemathesis.Case) -> dict[str, Any]:
            _bounded(case)
            return {"headers": headers(case.path)}

        def validate_response(self, response: Any, case: schemathesis.Case, **_: Any) -> None:
            _record(failures, statuses, case, response)

    Workflow.run(
        settings=settings(max_examples=STATEFUL_RUNS, stateful_step_count=STATEFUL_STEPS, **QUIET)
    )
    assert len(statuses) >= STATEFUL_RUNS, "the state machine made too few requests"
    assert failures == []
