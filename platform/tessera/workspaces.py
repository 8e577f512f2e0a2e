"""Workspaces: creation (with the default objects and a first all-scopes key) and lookup."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

import structlog
from sqlalchemy import insert, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from tessera.clock import Clock, utcnow
from tessera.db.engine import DEADLOCK_DETECTED, sqlstate, translated
from tessera.db.locks import ERASURE_ORDER
from tessera.db.notify import announce
from tessera.db.tables import workspaces
from tessera.db.tenant import Tenant
from tessera.keys import service as keys
from tessera.redis_client import RedisClient
from tessera.scopes import SCOPES

SeedHook = Callable[[Tenant], Awaitable[None]]

log = structlog.get_logger(__name__)
_ERASE_ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class NewWorkspace:
    workspace_id: int
    api_key: str
    api_key_id: int


async def _default_seed(tenant: Tenant) -> None:
    from tessera.registry.defaults import seed_default_objects

    await seed_default_objects(tenant)


async def create_workspace(engine: AsyncEngine, *, name: str, pepper: bytes, clock: Clock,
                           seed: SeedHook = _default_seed) -> NewWorkspace:
    """Create a workspace, its default objects and an API key holding every scope, in one
    transaction."""
    async with translated(), engine.begin() as conn:
        workspace_id = (await conn.execute(
            insert(workspaces).values(name=name).returning(workspaces.c.id))).scalar_one()
        tenant = Tenant(conn, workspace_id)
        await seed(tenant)
        row, key = await keys.create_key(
            tenant, pepper, name="admin", scopes=list(SCOPES), rate_limit_per_minute=None,
            expires_at=None, now=utcnow(clock), granter=None)
    return NewWorkspace(workspace_id=workspace_id, api_key=key, api_key_id=row.id)


async def workspace_exists(conn: AsyncConnection, workspace_id: int) -> bool:
    async with translated():
        found = (await conn.execute(select(workspaces.c.id).where(workspaces.c.id == workspace_id))).first()
    return found is not None


@dataclass(frozen=True, slots=True)
class ErasureReceipt:
    """Kept past the erasure so a replay with the same Idempotency-Key is answered its success."""

    receipt_hash: bytes
    request_hash: bytes
    erased_at: datetime
    expires_at: datetime


async def find_erasure_receipt(engine: AsyncEngine, receipt_hash: bytes) -> bytes | None:
    """The request fingerprint of an unexpired erasure receipt, or None."""
    async with translated(), engine.connect() as conn:
        row = (await conn.execute(text(
            "SELECT request_hash FROM erasure_receipts WHERE receipt_hash = :h AND expires_at > now()"),
            {"h": receipt_hash})).first()
    return bytes(row[0]) if row is not None else None


async def erase_workspace(engine: AsyncEngine, redis: RedisClient | None, workspace_id: int,
                          receipt: ErasureReceipt | None = None) -> bool:
    """Remove every trace of a workspace: its rows (one transaction), its Redis state and queued
    jobs, and, through the outbox (durable even if Meilisearch is down), its search documents.
    Every API process is told to forget the workspace's keys in the same transaction, and a
    ``receipt`` is stored in it. Returns False when there was no such workspace."""
    async with translated():
        found = await _erase_retrying(engine, workspace_id, receipt)
    if found is None:
        return False
    keys = [key_id for key_id, _prefix in found]
    if redis is not None:
        await redis.forget_workspace(keys, workspace_id)
        await redis.enqueue("relay_search", job_id="relay_search")
    return True


async def _erase_retrying(engine: AsyncEngine, workspace_id: int, receipt: ErasureReceipt | None
                          ) -> list[tuple[int, str]] | None:
    """The relays' locks keep them out of the way; a job that locks a row of the workspace and then
    inserts one referencing it can still meet the cascade the other way round. The database aborts
    one side; erasure is all or nothing, so it tries again."""
    for attempt in range(1, _ERASE_ATTEMPTS + 1):
        try:
            async with engine.begin() as conn:
                return await _erase_rows(conn, workspace_id, receipt)
        except DBAPIError as err:
            if sqlstate(err) != DEADLOCK_DETECTED or attempt == _ERASE_ATTEMPTS:
                raise
            log.warning("erasure_deadlock_retry", workspace_id=workspace_id, attempt=attempt)
    raise AssertionError("unreachable")


async def _erase_rows(conn: AsyncConnection, workspace_id: int, receipt: ErasureReceipt | None
                      ) -> list[tuple[int, str]] | None:
    """Delete the workspace's rows; its keys' (id, prefix), or None when there is no such workspace."""
    for lock in ERASURE_ORDER:  # no relay holds an outbox row or a child row of the workspace now
        await conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": lock})
    found = [(int(r[0]), str(r[1])) for r in (await conn.execute(
        text("SELECT id, prefix FROM api_keys WHERE workspace_id = :ws"), {"ws": workspace_id})).all()]
    # A send in flight locks its delivery, then its webhook: delete deliveries first, in that order
    # (the cascade from the workspace would take the webhook first).
    await conn.execute(text("DELETE FROM webhook_deliveries WHERE workspace_id = :ws"), {"ws": workspace_id})
    deleted = (await conn.execute(text("DELETE FROM workspaces WHERE id = :ws RETURNING id"),
                                  {"ws": workspace_id})).first()
    if deleted is None:
        return None
    if receipt is not None:
        await conn.execute(text(
            "INSERT INTO erasure_receipts (receipt_hash, request_hash, erased_at, expires_at) "
            "VALUES (:h, :r, :at, :until) ON CONFLICT (receipt_hash) DO NOTHING"),
            {"h": receipt.receipt_hash, "r": receipt.request_hash, "at": receipt.erased_at,
             "until": receipt.expires_at})
    # Every API process drops the keys (and the schema) from its caches when this commits,
    # instead of accepting the keys until their cache entries expire.
    for _key_id, prefix in found:
        await announce(conn, f"api_key:{prefix}")
    await announce(conn, f"schema:{workspace_id}")
    # Tables without a foreign key to the workspace (append-only logs) are cleared by hand.
    for table in ("timeline_events", "outbox", "events", "event_heads"):
        await conn.execute(text(f"DELETE FROM {table} WHERE workspace_id = :ws"), {"ws": workspace_id})
    await conn.execute(text("DELETE FROM maintenance_checkpoints WHERE name LIKE :p"),
                       {"p": f"reindex:{workspace_id}:%"})
    await conn.execute(text(
        "INSERT INTO outbox (workspace_id, topic, event_type, aggregate_type, aggregate_id) "
        "VALUES (:ws, 'search', 'workspace.erased', 'workspace', :ws)"), {"ws": workspace_id})
    return found
