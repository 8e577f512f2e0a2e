"""Workspaces: creation (with the default objects and a first all-scopes key) and lookup."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from tessera.clock import Clock, utcnow
from tessera.context.memory import MEMORY_RELAY_LOCK
from tessera.db.engine import translated
from tessera.db.notify import announce
from tessera.db.tables import workspaces
from tessera.db.tenant import Tenant
from tessera.keys import service as keys
from tessera.redis_client import RedisClient
from tessera.scopes import SCOPES

SeedHook = Callable[[Tenant], Awaitable[None]]


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
    async with translated(), engine.begin() as conn:
        # The memory relay locks outbox rows, then memory items; the cascade below takes items,
        # then this deletes outbox rows. Holding the relay's lock keeps the two from deadlocking.
        await conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": MEMORY_RELAY_LOCK})
        found = (await conn.execute(text("SELECT id, prefix FROM api_keys WHERE workspace_id = :ws"),
                                    {"ws": workspace_id})).all()
        keys = [r[0] for r in found]
        deleted = (await conn.execute(text("DELETE FROM workspaces WHERE id = :ws RETURNING id"),
                                      {"ws": workspace_id})).first()
        if deleted is None:
            return False
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
        for table in ("timeline_events", "outbox"):
            await conn.execute(text(f"DELETE FROM {table} WHERE workspace_id = :ws"), {"ws": workspace_id})
        await conn.execute(text("DELETE FROM maintenance_checkpoints WHERE name LIKE :p"),
                           {"p": f"reindex:{workspace_id}:%"})
        await conn.execute(text(
            "INSERT INTO outbox (workspace_id, topic, event_type, aggregate_type, aggregate_id) "
            "VALUES (:ws, 'search', 'workspace.erased', 'workspace', :ws)"), {"ws": workspace_id})
    if redis is not None:
        await redis.forget_workspace(keys, workspace_id)
        await redis.enqueue("relay_search", job_id="relay_search")
    return True
