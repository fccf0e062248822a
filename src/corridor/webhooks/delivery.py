"""One webhook POST, signed, with a timeout, redirects refused, and a short outcome.

The outcome's ``error`` is what gets stored and shown to the tenant: a class of failure
(``HTTP 503``, ``timeout``, ``connection failed``, ``refused target``), never the response body or
the socket error text, which would tell a tenant what runs inside the network.
"""

from __future__ import annotations

import functools
import ssl
from collections.abc import Iterable
from dataclasses import dataclass

import httpx

from corridor.webhooks.guard import Network, TargetRefused, check_target
from corridor.webhooks.signing import SIGNATURE_HEADER, sign


@dataclass(frozen=True)
class Outcome:
    ok: bool
    error: str | None = None  # safe to show to the tenant


#: Seconds a webhook target has to answer.
TIMEOUT_S = 5.0


@functools.cache
def _tls() -> ssl.SSLContext:
    # httpx's own default (the CA bundle, SSL_CERT_FILE honoured), built once per process.
    return httpx.create_ssl_context()


def http_client(timeout_s: float = TIMEOUT_S) -> httpx.Client:
    """An HTTP client for deliveries; close it when done (or use it as a context manager).

    Every client shares one TLS context per process. Building one loads and parses the whole CA
    bundle, 50-100 ms of CPU: paid per client, it was paid on every EPCIS capture that checked
    for alerts to send, and by every app's delivery thread whether or not it ever sent anything.
    """
    return httpx.Client(timeout=timeout_s, verify=_tls())


def backoff_s(first_s: float, attempts: int, cap_s: float = 6 * 3600) -> float:
    """Delay before the next attempt after ``attempts`` failed ones: doubling, capped."""
    return float(min(cap_s, first_s * 2 ** max(0, attempts - 1)))


def post(
    client: httpx.Client,
    url: str,
    body: bytes,
    secret: str,
    allowed: Iterable[Network] = (),
    extra_headers: dict[str, str] | None = None,
) -> Outcome:
    """POST ``body`` (JSON) to ``url`` signed with ``secret``."""
    try:
        check_target(url, allowed)
    except TargetRefused:
        return Outcome(False, "refused target")
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: sign(secret, body),
        **(extra_headers or {}),
    }
    try:
        response = client.post(url, content=body, headers=headers, follow_redirects=False)
    except httpx.TimeoutException:
        return Outcome(False, "timeout")
    except httpx.HTTPError:
        return Outcome(False, "connection failed")
    if 200 <= response.status_code < 300:
        return Outcome(True)
    return Outcome(False, f"HTTP {response.status_code}")
