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

A token in steady use would still be looked up once per ``token_cache_s`` on each worker: under
load (1,000 clients each asking every two seconds or so, with a 5 s bound) that was about one
request in three, each a thread hop, a session and a query. So a thread of each process
(:func:`refresher`) asks the database about every token used since its last round, all in one
statement, twice per bound, and renews the ones still valid (``renew``): the deadline of an entry
is always at most ``token_cache_s`` after a moment at which the database still said yes, so the
bound above holds as before; a token it finds gone is dropped at once. An answer that was asked
before a revocation through this process (``forget_all``) is never applied after it: the cache
counts its generations, and ``put``/``renew`` of an older generation are ignored.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from datetime import datetime

from corridor.api.errors import log
from corridor.store.accounts import Principal

#: What the refresher asks the database: the digests -> (principal, expiry) still valid.
Lookup = Callable[[list[str]], dict[str, tuple[Principal, datetime | None]]]


class TokenCache:
    """A bounded map digest -> (principal, monotonic deadline); see the module docstring."""

    def __init__(self, ttl_s: float, size: int = 20_000) -> None:
        self.ttl_s = ttl_s
        self.size = size
        self._known: dict[str, tuple[Principal, float]] = {}
        self._used: set[str] = set()
        self._lock = threading.Lock()  # put / renew / forget_all; get reads without it
        self.generation = 0

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
        self._used.add(key)
        return who

    def put(
        self,
        token: str,
        who: Principal,
        expires_at: datetime | None = None,
        generation: int | None = None,
    ) -> None:
        """Remember ``who`` for ``token``; ``generation`` (of before the lookup) refuses an
        answer that a revocation through this process has overtaken."""
        if self.ttl_s <= 0:
            return
        deadline = _deadline(time.monotonic(), self.ttl_s, expires_at)
        with self._lock:
            if generation is not None and generation != self.generation:
                return
            if len(self._known) >= self.size:
                self._known.clear()  # rare (more live tokens than `size`): start again
            self._known[self.key(token)] = (who, deadline)

    def forget_all(self) -> None:
        """After a revocation or a disabled user in this process: every token is looked up again."""
        with self._lock:
            self.generation += 1
            self._known.clear()
            self._used = set()

    def due(self) -> tuple[int, list[str]]:
        """(generation, digests of the entries used since the last call): what to renew."""
        with self._lock:
            used, self._used = self._used, set()
            return self.generation, [key for key in used if key in self._known]

    def renew(
        self,
        generation: int,
        asked_at: float,
        asked: list[str],
        valid: dict[str, tuple[Principal, datetime | None]],
    ) -> None:
        """Apply the database's answer, asked at monotonic ``asked_at``, about ``asked``: the
        valid ones get a new deadline, the others are dropped (unless a revocation came since)."""
        with self._lock:
            if generation != self.generation:
                return
            for key in asked:
                found = valid.get(key)
                if found is None:
                    self._known.pop(key, None)
                else:
                    self._known[key] = (found[0], _deadline(asked_at, self.ttl_s, found[1]))

    def refresh(self, lookup: Lookup) -> int:
        """One round: ask ``lookup`` about the tokens used since the last round; their number."""
        generation, asked = self.due()
        if asked:
            asked_at = time.monotonic()
            self.renew(generation, asked_at, asked, lookup(asked))
        return len(asked)


def _deadline(moment: float, ttl_s: float, expires_at: datetime | None) -> float:
    deadline = moment + ttl_s
    if expires_at is not None:
        left = (expires_at - datetime.now(expires_at.tzinfo)).total_seconds()
        deadline = min(deadline, moment + max(0.0, left))
    return deadline


def refresher(cache: TokenCache, lookup: Lookup, stop: threading.Event) -> threading.Thread | None:
    """A daemon thread that runs ``cache.refresh(lookup)`` twice per ``ttl_s`` until ``stop``
    (none when the cache is off)."""
    if cache.ttl_s <= 0:
        return None

    def run() -> None:
        while not stop.wait(max(0.1, cache.ttl_s / 2)):
            try:
                cache.refresh(lookup)
            except Exception:  # the database is away: entries simply expire meanwhile
                log.warning("token cache refresh failed", exc_info=True)

    thread = threading.Thread(target=run, name="corridor-token-refresh", daemon=True)
    thread.start()
    return thread
