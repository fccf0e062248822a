"""Bad input is refused at the edge (issue 9, items 4, 11 and 12)."""

from __future__ import annotations

import json
import stat
from typing import Any

import anyio
import pytest
from fastapi.testclient import TestClient

from corridor.api import create_app
from corridor.api.middleware import CSP, DOCS_CSP
from corridor.settings import Settings
from corridor.store import files
from corridor.store.db import Database
from tests.api.test_auth import FORWARDER, cheap_hashes, service  # noqa: F401

LIMIT = 64 * 1024
EVENT_TIME = "epcisBody.eventList[0].eventTime"


@pytest.fixture
def edge(seeded, tmp_path):
    app, passwords = service(seeded, tmp_path, max_body_bytes=LIMIT)
    with TestClient(app, raise_server_exceptions=False) as client:
        client.app_ref = app  # type: ignore[attr-defined]
        client.forwarder = {  # type: ignore[attr-defined]
            "Authorization": "Bearer "
            + client.post(
                "/api/v1/auth/login", json={"email": FORWARDER, "password": passwords[FORWARDER]}
            ).json()["token"]
        }
        yield client


def post_raw(client: TestClient, path: str, text: str, **headers: str):
    """JSON text sent as written (escapes such as \\ud800 survive, unlike ``json=``)."""
    return client.post(
        path, content=text.encode(), headers={"content-type": "application/json", **headers}
    )


def error(response) -> dict[str, Any]:
    return response.json()["error"]


# -- item 4: large bodies -------------------------------------------------------------------


class Upload:
    """An ASGI client that sends a body in 16 KiB chunks and counts how many the server pulled."""

    def __init__(self, total: int, content_length: bool) -> None:
        self.total, self.content_length = total, content_length
        self.pulled = 0
        self.messages: list[dict[str, Any]] = []

    async def receive(self) -> dict[str, Any]:
        chunk = 16 * 1024
        self.pulled += 1
        more = self.pulled * chunk < self.total
        return {"type": "http.request", "body": b" " * chunk, "more_body": more}

    async def send(self, message: dict[str, Any]) -> None:
        self.messages.append(message)

    def run(self, app) -> int:
        headers = [(b"content-type", b"application/json")]
        if self.content_length:
            headers.append((b"content-length", str(self.total).encode()))
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": "/api/v1/auth/login",
            "raw_path": b"/api/v1/auth/login",
            "root_path": "",
            "query_string": b"",
            "headers": headers,
            "client": ("127.0.0.1", 5000),
            "server": ("testserver", 80),
            "state": {},
        }
        anyio.run(app, scope, self.receive, self.send)
        start = next(m for m in self.messages if m["type"] == "http.response.start")
        return int(start["status"])


def check_a_50_mb_login_body_is_refused_before_a_byte_is_read(edge):
    upload = Upload(50 * 1024 * 1024, content_length=True)
    assert upload.run(edge.app_ref) == 413
    assert upload.pulled == 0


def check_a_streamed_body_is_cut_off_at_the_limit(edge):
    upload = Upload(50 * 1024 * 1024, content_length=False)
    assert upload.run(edge.app_ref) == 413
    assert upload.pulled == LIMIT // (16 * 1024) + 1  # the chunk that crossed the limit, no more
    body = json.loads(b"".join(m.get("body", b"") for m in upload.messages[1:]))
    assert body["error"]["code"] == "too_large"


def check_a_body_over_the_limit_is_413_and_under_it_reaches_the_endpoint(edge):
    # (EPCIS capture streams its documents past the edge and applies limits of its own.)
    big = {"origin": "xian", "padding": "x" * LIMIT}
    refused = edge.post("/api/v1/routes", json=big, headers=edge.forwarder)
    assert refused.status_code == 413
    assert error(refused) == {
        "code": "too_large",
        "field": "body",
        "reason": f"the body is larger than {LIMIT} bytes",
    }
    wrong = edge.post("/api/v1/auth/login", json={"email": FORWARDER, "password": "not it, no"})
    assert wrong.status_code == 401  # the body read by the edge is handed on intact


# -- item 11 (non-tracking) and item 5.2: what no endpoint should see ------------------------


def check_json_nested_deeper_than_the_limit_is_400(edge):
    for depth in (935, 5000):
        text = "[" * depth + "]" * depth
        for path in ("/api/v1/auth/login", "/api/v1/routes", "/api/v1/epcis/capture"):
            answer = post_raw(edge, path, text, **edge.forwarder)
            assert answer.status_code == 400, (path, answer.text)
            if path != "/api/v1/epcis/capture":  # capture checks depth itself (docs/tracking.md)
                assert error(answer)["code"] == "too_deep"


def check_the_depth_limit_is_the_setting(edge):
    def nested(levels: int) -> str:
        return '{"a":' * levels + "1" + "}" * levels

    deep = post_raw(edge, "/api/v1/routes", nested(33), **edge.forwarder)
    assert error(deep)["code"] == "too_deep"
    at_limit = post_raw(edge, "/api/v1/routes", nested(32), **edge.forwarder)
    assert at_limit.status_code == 422
    assert error(at_limit)["code"] == "invalid"  # the endpoint's own validation: no origin


def check_non_finite_numbers_are_422_naming_the_field(edge):
    for number in ("NaN", "Infinity", "-Infinity", "1e309", "-1e309"):
        route = f'{{"origin":"xian","destination":"duisburg","ready":"2026-03-03T08:00:00Z","tonnes":{number}}}'
        answer = post_raw(edge, "/api/v1/routes", route, **edge.forwarder)
        assert answer.status_code == 422, number
        assert error(answer)["field"] == "tonnes"
        login = post_raw(edge, "/api/v1/auth/login", f'{{"email":"a@b.c","password":{number}}}')
        assert login.status_code == 422, number
        assert error(login)["field"] == "password"


def check_a_lone_surrogate_is_422_anywhere(edge):
    document = '{"type":"EPCISDocument","epcisBody":{"eventList":[{"eventID":"ni:\\ud800"}]}}'
    answer = post_raw(edge, "/api/v1/epcis/capture", document, **edge.forwarder)
    # EPCIS capture answers its ValidationException, 400, as GS1's REST binding defines.
    assert answer.status_code == 400, answer.text
    assert "surrogate" in error(answer)["reason"]  # event-level naming: tests/tracking
    key = post_raw(edge, "/api/v1/auth/login", '{"email":"a@b.c","\\udc00":"x"}')
    assert key.status_code == 422


def check_dates_beyond_utc_are_422_naming_the_field(edge, moment):
    document = {
        "type": "EPCISDocument",
        "epcisBody": {"eventList": [{"type": "ObjectEvent", "eventTime": moment}]},
    }
    answer = edge.post("/api/v1/epcis/capture", json=document, headers=edge.forwarder)
    assert answer.status_code == 400, answer.text  # the binding's ValidationException
    assert error(answer)["reason"]  # a full document at these bounds: tests/tracking
    route = {"origin": "xian", "destination": "duisburg", "ready": moment}
    answer = edge.post("/api/v1/routes", json=route, headers=edge.forwarder)
    assert answer.status_code == 422
    assert error(answer)["field"] == "ready"
    query = edge.get(
        "/api/v1/epcis/events", params={"GE_eventTime": moment}, headers=edge.forwarder
    )
    assert query.status_code == 422
    assert error(query)["field"] == "GE_eventTime"


def check_dates_outside_the_accepted_years_are_422(edge):
    route = {"origin": "xian", "destination": "duisburg", "ready": "2201-01-01T00:00:00Z"}
    answer = edge.post("/api/v1/routes", json=route, headers=edge.forwarder)
    assert answer.status_code == 422
    assert error(answer) == {
        "code": "invalid",
        "field": "ready",
        "reason": "a date between the years 1900 and 2200",
    }


def check_query_parameters_are_bounded_and_finite(edge):
    many = [("MATCH_epc", f"urn:epc:id:sgtin:0614141.107346.{i}") for i in range(1000)]
    answer = edge.get("/api/v1/epcis/events", params=many, headers=edge.forwarder)
    assert answer.status_code == 422
    assert error(answer)["field"] == "query"
    for value in ("1e309", "NaN", "-inf"):
        answer = edge.get("/api/v1/epcis/events?perPage=" + value, headers=edge.forwarder)
        assert answer.status_code == 422, value
        assert error(answer)["field"] == "perPage"


# -- item 12: hardening ---------------------------------------------------------------------


def _assert_hardened(response, csp: str = CSP) -> None:
    assert response.headers["content-security-policy"] == csp
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"


def check_every_response_carries_the_security_headers(edge):
    for path, expected in (
        ("/", 200),
        ("/app.js", 200),
        ("/api/v1/health", 200),
        ("/api/v1/me", 401),
        ("/api/v1/no-such-thing", 404),
    ):
        response = edge.get(path)
        assert response.status_code == expected, path
        _assert_hardened(response)
        assert "strict-transport-security" not in response.headers
    _assert_hardened(edge.post("/api/v1/auth/login", content=b"x" * (LIMIT + 1)))
    _assert_hardened(edge.get("/docs"), DOCS_CSP)
    assert edge.get("/api/v1/health").headers["cache-control"] == "no-store"


def check_an_unexpected_error_is_a_logged_500_with_the_headers(edge):
    def broken() -> None:
        raise RuntimeError("a bug")

    routes = edge.app_ref.router.routes
    edge.app_ref.add_api_route("/api/v1/broken-on-purpose", broken)
    routes.insert(0, routes.pop())  # ahead of the dashboard mounted at /
    answer = edge.get("/api/v1/broken-on-purpose")
    assert answer.status_code == 500
    assert error(answer)["code"] == "internal"
    assert "a bug" not in answer.text
    _assert_hardened(answer)


def check_hsts_when_served_over_tls(seeded, tmp_path):
    app, _ = service(seeded, tmp_path, tls=True)
    with TestClient(app) as client:
        hsts = client.get("/api/v1/health").headers["strict-transport-security"]
    assert hsts.startswith("max-age=31536000")


# -- the tests: one per concern, each over SQLite and PostgreSQL (the checks above are their parts;
# -- grouped so that the suite pays for few database set-ups)


def test_large_bodies_are_refused_early(edge):
    """Issue 9 item 4: a 50 MB body to /auth/login blocked the server 41 s; a 50 MB event was
    stored."""
    check_a_50_mb_login_body_is_refused_before_a_byte_is_read(edge)
    check_a_streamed_body_is_cut_off_at_the_limit(edge)
    check_a_body_over_the_limit_is_413_and_under_it_reaches_the_endpoint(edge)


def test_deep_json_is_400(edge):
    """Issue 9 item 11: JSON nested 935 levels or deeper gave 500."""
    check_json_nested_deeper_than_the_limit_is_400(edge)
    check_the_depth_limit_is_the_setting(edge)


def test_values_no_endpoint_should_see_are_422(edge):
    """Issue 9 items 8 and 11: NaN, Infinity, 1e309 and lone surrogates (in an eventID) gave 500."""
    check_non_finite_numbers_are_422_naming_the_field(edge)
    check_a_lone_surrogate_is_422_anywhere(edge)


def test_dates_and_queries_are_range_checked(edge):
    """Issue 9 item 11: eventTime at the UTC bounds, in a body or as a query filter, and 1,000
    MATCH_epc values gave 500."""
    for moment in ("9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00"):
        check_dates_beyond_utc_are_422_naming_the_field(edge, moment)
    check_dates_outside_the_accepted_years_are_422(edge)
    check_query_parameters_are_bounded_and_finite(edge)


def test_responses_are_hardened(edge, seeded, tmp_path):
    """Issue 9 item 12: no CSP, X-Frame-Options, X-Content-Type-Options, HSTS, Referrer-Policy."""
    check_every_response_carries_the_security_headers(edge)
    check_an_unexpected_error_is_a_logged_500_with_the_headers(edge)
    check_hsts_when_served_over_tls(seeded, tmp_path)


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_var_and_the_database_are_owner_only(tmp_path):
    var = tmp_path / "var"
    url = f"sqlite:///{var / 'corridor.db'}"
    files.secure(var, url)  # what `corridor serve` does before it opens the database
    db = Database(url)
    try:
        create_app(Settings(var_dir=var), _prepared(db))
        assert _mode(var) == 0o700
        for name in ("corridor.db", "corridor.db-wal", "corridor.db-shm"):
            assert _mode(var / name) == 0o600, name
    finally:
        db.dispose()


def test_an_existing_var_is_tightened_at_start(tmp_path):
    var = tmp_path / "var"
    var.mkdir(mode=0o755)
    (var / "corridor.db").touch(mode=0o644)
    var.chmod(0o755)
    db = Database(f"sqlite:///{var / 'corridor.db'}")
    try:
        create_app(Settings(var_dir=var), _prepared(db))
        assert _mode(var) == 0o700
        assert _mode(var / "corridor.db") == 0o600
    finally:
        db.dispose()


def _prepared(db: Database) -> Database:
    from corridor.settings import PACKAGE_DATA_DIR
    from corridor.store.seed import prepare

    prepare(db, PACKAGE_DATA_DIR, demo=False)
    return db
