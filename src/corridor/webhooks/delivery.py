"""One webhook POST, signed, with a timeout, redirects refused, and a short outcome.

The outcome's ``error`` is what gets stored and shown to the tenant: a class of failure
(``HTTP 503``, ``timeout``, ``connection failed``, ``refused target``), never the response body or
the socket error text, which would tell a tenant what runs inside the network.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import httpx

from corridor.webhooks.guard import Network, TargetRefused, check_target
from corridor.webhooks.signing import SIGNATURE_HEADER, sign


@dataclass(frozen=True)
class Outcome:
    ok: bool
    error: str | None = None  # safe to show to the tenant


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
