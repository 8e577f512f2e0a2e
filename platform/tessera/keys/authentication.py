"""Bearer API-key authentication with a short-lived in-process cache.

A cache entry is dropped at once when this process changes the key, when another process
announces a change (PostgreSQL NOTIFY, see ``tessera.db.notify``) and after ``auth_cache_seconds``
in any case, so a revoked key stops working everywhere within that bound even if a notification
is lost. A lookup that was in flight when an invalidation arrived is read again and not cached,
so no answer and no entry is ever older than the last invalidation this process saw.
``last_used_at`` is written at most once a minute per key, off the request path.
"""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import Coroutine
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine

from tessera.clock import Clock, utcnow
from tessera.db.engine import translated
from tessera.errors import Unauthorized
from tessera.keys import repository
from tessera.keys.crypto import key_prefix, verify_key
from tessera.principal import Principal

log = structlog.get_logger(__name__)

LAST_USED_GRANULARITY_S = 60.0
_NEGATIVE_CACHE_MAX = 10_000


@dataclass(slots=True)
class _Entry:
    principal: Principal
    key_hash: bytes
    revoked_at: datetime | None
    fetched_at: float
    last_used_written: float
    verified: str | None = None
    """The key string last verified against ``key_hash``: later requests compare strings
    (constant time) instead of recomputing the HMAC."""


class Authenticator:
    def __init__(self, engine: AsyncEngine, pepper: bytes, *, cache_seconds: float, clock: Clock) -> None:
        self._engine = engine
        self._pepper = pepper
        self._ttl = cache_seconds
        self._clock = clock
        self._cache: dict[str, _Entry] = {}
        self._unknown: dict[str, float] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._generation = 0
        """Bumped by every invalidation; a lookup stores its row only if none arrived meanwhile."""

    def invalidate(self, prefix: str | None = None) -> None:
        """Forget one key (by prefix) or every key."""
        self._generation += 1
        if prefix is None:
            self._cache.clear()
            self._unknown.clear()
        else:
            self._cache.pop(prefix, None)
            self._unknown.pop(prefix, None)

    async def authenticate(self, authorization: str | None, *, fresh: bool = False) -> Principal:
        """The principal behind an ``Authorization`` header, or ``Unauthorized``. ``fresh`` reads
        the key from the database whatever the cache holds (long-lived streams re-check with it)."""
        if not authorization:
            raise Unauthorized("Missing API key: send 'Authorization: Bearer sk-...'")
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise Unauthorized("Malformed Authorization header: expected 'Bearer sk-...'")
        prefix = key_prefix(token)
        if prefix is None:
            raise Unauthorized("Invalid API key")
        now = self._clock()
        entry = await self._entry(prefix, now, fresh=fresh)
        if entry is None:
            raise Unauthorized("Invalid API key")
        if entry.verified is None or not hmac.compare_digest(entry.verified, token):
            if not verify_key(self._pepper, token, entry.key_hash):
                raise Unauthorized("Invalid API key")
            entry.verified = token
        if entry.revoked_at is not None:
            raise Unauthorized("API key has been revoked")
        expires_at = entry.principal.expires_at
        if expires_at is not None and expires_at <= utcnow(self._clock):
            raise Unauthorized("API key has expired")
        if now - entry.last_used_written >= LAST_USED_GRANULARITY_S:
            entry.last_used_written = now
            self._spawn(self._touch(entry.principal.api_key_id, utcnow(self._clock)))
        return entry.principal

    async def _entry(self, prefix: str, now: float, *, fresh: bool) -> _Entry | None:
        if not fresh:
            entry = self._cache.get(prefix)
            if entry is not None and now - entry.fetched_at < self._ttl:
                return entry
            missed = self._unknown.get(prefix)
            if missed is not None and now - missed < min(self._ttl, 5.0):
                return None
        # An invalidation that arrives during a lookup may be for a change the read did not see:
        # read again (that read starts after the change committed), and keep a row only when no
        # invalidation arrived while it was read.
        for _ in range(2):
            generation = self._generation
            async with translated(), self._engine.connect() as conn:
                row = await repository.find_by_prefix(conn, prefix)
            keep = generation == self._generation
            if keep:
                break
        if row is None:
            if keep:
                self._cache.pop(prefix, None)
                if len(self._unknown) >= _NEGATIVE_CACHE_MAX:
                    self._unknown.clear()
                self._unknown[prefix] = now
            return None
        key = row.key
        entry = _Entry(
            principal=Principal(
                api_key_id=key.id, workspace_id=key.workspace_id, name=key.name,
                prefix=key.prefix, scopes=frozenset(key.scopes),
                rate_limit_per_minute=key.rate_limit_per_minute, expires_at=key.expires_at,
            ),
            key_hash=row.key_hash,
            revoked_at=key.revoked_at,
            fetched_at=now,
            last_used_written=key.last_used_at.timestamp() if key.last_used_at else 0.0,
        )
        if keep:
            self._cache[prefix] = entry
        return entry

    async def _touch(self, key_id: int, at: datetime) -> None:
        try:
            async with self._engine.begin() as conn:
                await repository.touch_last_used(conn, key_id, at)
        except Exception as err:  # best effort: a missed last_used_at is not worth a failed request
            log.warning("last_used_at_update_failed", api_key_id=key_id, error_type=type(err).__name__)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:  # Any, Any: the yield/send types asyncio takes
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        """Wait for pending background writes (shutdown and tests)."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
