"""Outgoing webhooks, one small package shared by tracking alerts and EPCIS subscriptions.

- :mod:`guard`: refuse targets on loopback, private, link-local and other internal addresses
  (server-side request forgery), unless the operator allows them in Settings;
- :mod:`signing`: an HMAC-SHA256 signature header the receiver checks with its secret;
- :mod:`delivery`: one POST with a timeout, classified into a short outcome that never echoes
  the target's answer or the network error text back to the caller.
"""

from corridor.webhooks.delivery import Outcome, backoff_s, http_client, post
from corridor.webhooks.guard import TargetRefused, check_target
from corridor.webhooks.signing import SIGNATURE_HEADER, sign, verify

__all__ = [
    "SIGNATURE_HEADER",
    "Outcome",
    "TargetRefused",
    "backoff_s",
    "check_target",
    "http_client",
    "post",
    "sign",
    "verify",
]
