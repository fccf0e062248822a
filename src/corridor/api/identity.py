"""Who a bearer token acts for, remembered for a few seconds per process.

Every request names its token; looking it up costs a session, a query joining the token, its user,
its organisation and the disabled users, and a hop to a worker thread. Under load that was one of
the larger shares of a request's CPU time, for an answer that almost never changes. So each
process keeps the answers for ``Settings.token_cache_s`` seconds (default 5), keyed by the token's
SHA-256 digest (the token itself is never kept):

* a token **revoked, or its user disabled, through this process** (logout, ``/auth/tokens/.../
  revoke``, ``/admin/users/.../disable``) stops working at once: those endpoints empty the cache;
* a change made **elsewhere** (another worker, the CLI, a user deleted by hand) takes effect within
  ``token_cache_s`` seconds, the bound the docs state (docs/service.md); 0 turns the cache off;
* only tokens that were valid are remembered: an unknown, revoked or expired token is looked up
  every time, so a wrong token can never be served from here, and a flood of random tokens does
  not grow the cache;
* a remembered token expires from the cache no later than the token itself expires.
"""

from __future__ import annotations

import hashlib
import time
from datetime import datetime

from corridor.store.accounts import Principal


class TokenCache:
    """A bounded map digest -> (principal, monotonic deadline); see the module docstring."""

    def __init__(self, ttl_s: float, size: int = 20_000) -> None:
        self.ttl_s = ttl_s
        self.size = size
        self._known: dict[str, tuple[Principal, float]] = {}

    @staticmethod
    def key(token: str) -> str:
        return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()

    def get(self, token: str) -> Principal | None:
        if self.ttl_s <= 0:
            return None
        key = self.key(token)
        found = self._known.get(key)
        if found is None:
            return None
        who, deadline = found
        if time.monotonic() >= deadline:
            self._known.pop(key, None)
            return None
        return who

    def put(self, token: str, who: Principal, expires_at: datetime | None = None) -> None:
        if self.ttl_s <= 0:
            return
        deadline = time.monotonic() + self.ttl_s
        if expires_at is not None:
            left = (expires_at - datetime.now(expires_at.tzinfo)).total_seconds()
            deadline = min(deadline, time.monotonic() + max(0.0, left))
        if len(self._known) >= self.size:
            self._known.clear()  # rare (more live tokens than `size`): start again
        self._known[self.key(token)] = (who, deadline)

    def forget_all(self) -> None:
        """After a revocation or a disabled user in this process: every token is looked up again."""
        self._known.clear()
