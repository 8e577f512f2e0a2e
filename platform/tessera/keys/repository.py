"""SQL for API keys. Management goes through a ``Tenant``; only authentication looks a key up
across workspaces, by its prefix."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from tessera.db.engine import translated
from tessera.db.tables import api_keys
from tessera.db.tenant import Tenant

KeyRow = dict[str, Any]

_PUBLIC = (
    api_keys.c.id, api_keys.c.workspace_id, api_keys.c.name, api_keys.c.prefix,
    api_keys.c.scopes, api_keys.c.rate_limit_per_minute, api_keys.c.expires_at,
    api_keys.c.revoked_at, api_keys.c.last_used_at, api_keys.c.created_at,
)


async def find_by_prefix(conn: AsyncConnection, prefix: str) -> KeyRow | None:
    """Authentication's lookup: the key row (with its hash) for a prefix, in any workspace."""
    async with translated():
        row = (await conn.execute(
            select(*_PUBLIC, api_keys.c.key_hash).where(api_keys.c.prefix == prefix)
        )).mappings().first()
    return dict(row) if row else None


async def touch_last_used(conn: AsyncConnection, key_id: int, at: datetime) -> None:
    async with translated():
        await conn.execute(api_keys.update().where(api_keys.c.id == key_id).values(last_used_at=at))


async def insert_key(tenant: Tenant, *, name: str, prefix: str, key_hash: bytes, scopes: list[str],
                     rate_limit_per_minute: int | None, expires_at: datetime | None) -> KeyRow:
    stmt = tenant.insert(api_keys).values(
        name=name, prefix=prefix, key_hash=key_hash, scopes=scopes,
        rate_limit_per_minute=rate_limit_per_minute, expires_at=expires_at,
    ).returning(*_PUBLIC)
    return dict((await tenant.execute(stmt)).mappings().one())


async def list_keys(tenant: Tenant) -> list[KeyRow]:
    stmt = tenant.select(api_keys, *_PUBLIC).order_by(api_keys.c.created_at, api_keys.c.id)
    return [dict(r) for r in (await tenant.execute(stmt)).mappings()]


async def get_key(tenant: Tenant, key_id: int, *, for_update: bool = False) -> KeyRow | None:
    stmt = tenant.select(api_keys, *_PUBLIC).where(api_keys.c.id == key_id)
    if for_update:
        stmt = stmt.with_for_update()
    row = (await tenant.execute(stmt)).mappings().first()
    return dict(row) if row else None


async def update_key(tenant: Tenant, key_id: int, **values: Any) -> KeyRow:
    stmt = tenant.update(api_keys).where(api_keys.c.id == key_id).values(**values).returning(*_PUBLIC)
    return dict((await tenant.execute(stmt)).mappings().one())
