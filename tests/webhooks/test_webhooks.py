"""SSRF guard, HMAC signatures and delivery outcomes that do not leak internals."""

import hashlib
import hmac
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import ClassVar

import httpx
import pytest

from corridor.webhooks import TargetRefused, backoff_s, check_target, post, sign, verify
from corridor.webhooks.guard import parse_allowed


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/x",
        "http://localhost/x",
        "http://10.1.2.3/x",
        "http://192.168.0.1/x",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/x",
        "http://[::ffff:127.0.0.1]/x",
        "http://0.0.0.0/x",
        "ftp://example.org/x",
        "http://user:pw@93.184.216.34/x",
    ],
)
def test_internal_targets_refused(url):
    with pytest.raises(TargetRefused):
        check_target(url)


def test_public_and_allowed_targets_pass():
    check_target("https://93.184.216.34/hook")
    check_target("http://127.0.0.1:9/x", parse_allowed(["127.0.0.0/8"]))


def test_signature_is_hmac_sha256_over_timestamp_and_body():
    header = sign("s3cret", b'{"a":1}', timestamp=1700000000)
    expected = hmac.new(b"s3cret", b'1700000000.{"a":1}', hashlib.sha256).hexdigest()
    assert header == f"t=1700000000,v1={expected}"
    assert verify("s3cret", b'{"a":1}', header, now=1700000100)
    assert not verify("other", b'{"a":1}', header, now=1700000100)
    assert not verify("s3cret", b'{"a":2}', header, now=1700000100)
    assert not verify("s3cret", b'{"a":1}', header, now=1700009999)  # replayed too late


def test_backoff_doubles_and_caps():
    assert [backoff_s(30, n) for n in (1, 2, 3)] == [30, 60, 120]
    assert backoff_s(30, 40) == 6 * 3600


class _Echo(BaseHTTPRequestHandler):
    seen: ClassVar[list] = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Echo.seen.append((self.headers["Corridor-Signature"], body))
        self.send_response(503)
        self.end_headers()
        self.wfile.write(b"internal secret details")

    def log_message(self, *args):
        pass


def test_post_signs_and_reports_only_a_class_of_failure():
    server = HTTPServer(("127.0.0.1", 0), _Echo)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/hook"
    try:
        with httpx.Client(timeout=2) as client:
            assert post(client, url, b"{}", "k").error == "refused target"  # loopback not allowed
            outcome = post(client, url, b"{}", "k", parse_allowed(["127.0.0.1/32"]))
            closed = post(
                client, "http://127.0.0.1:9/x", b"{}", "k", parse_allowed(["127.0.0.1/32"])
            )
    finally:
        server.shutdown()
        server.server_close()
    assert outcome.error == "HTTP 503"
    assert closed.error == "connection failed"
    header, body = _Echo.seen[0]
    assert verify("k", body, header)


def test_unresolvable_names_wait_for_delivery_to_be_checked():
    check_target("https://not-yet-deployed.invalid/hook", registering=True)
    with pytest.raises(TargetRefused):
        check_target("https://not-yet-deployed.invalid/hook")
