"""HMAC-SHA256 signatures of webhook bodies, so a receiver knows a call came from this server.

Header ``Corridor-Signature: t=<unix seconds>,v1=<hex>`` where the MAC covers ``"<t>." + body``:
the timestamp lets the receiver refuse replays older than a few minutes.
"""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_HEADER = "Corridor-Signature"


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The signature header value for ``body``."""
    moment = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{moment}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={moment},v1={mac}"


def verify(
    secret: str, body: bytes, header: str, tolerance_s: int = 300, now: int | None = None
) -> bool:
    """Does ``header`` sign ``body`` with ``secret``, within ``tolerance_s`` of ``now``?"""
    try:
        fields = dict(part.split("=", 1) for part in header.split(","))
        moment = int(fields["t"])
    except (ValueError, KeyError):
        return False
    current = int(time.time()) if now is None else now
    if abs(current - moment) > tolerance_s:
        return False
    expected = sign(secret, body, moment).split("v1=", 1)[1]
    return hmac.compare_digest(expected, fields.get("v1", ""))
