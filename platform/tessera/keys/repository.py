"""SQL for API keys. Management goes through a ``Tenant``; only authentication looks a key up
across workspaces, by its prefix."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TypedDict

from sqlalchemy import RowMapping, select
from sqlalchemy.ext.asyncio import AsyncConnection

from tessera.db.engine import translated
from tessera.db.tables import api_keys
from tessera.db.tenant import Tenant


@dataclass(frozen=True, slots=True)
class ApiKey:
    """An API key as its managers see it: everything but the hash."""

    id: int
    workspace_id: int
    name: str
    prefix: str
    scopes: tuple[str, ...]
    rate_limit_per_minute: int | None
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class StoredApiKey:
    """A key with its peppered hash: what authentication reads."""

    key: ApiKey
    key_hash: bytes


class KeyChanges(TypedDict, total=False):
    """The columns an update sets; a column left out keeps its value."""

    name: str
    scopes: list[str]
    rate_limit_per_minute: int | None
    expires_at: datetime | None
    revoked_at: datetime


_PUBLIC = (
    api_keys.c.id, api_keys.c.workspace_id, api_keys.c.name, api_keys.c.prefix,
    api_keys.c.scopes, api_keys.c.rate_limit_per_minute, api_keys.c.expires_at,
    api_keys.c.revoked_at, api_keys.c.last_used_at, api_keys.c.created_at,
)


def _key(row: RowMapping) -> ApiKey:
    return ApiKey(
        id=row["id"], workspace_id=row["workspace_id"], name=row["name"], prefix=row["prefix"],
        scopes=tuple(row["scopes"]), rate_limit_per_minute=row["rate_limit_per_minute"],
        expires_at=row["expires_at"], revoked_at=row["revoked_at"], last_used_at=row["last_used_at"],
        created_at=row["created_at"])


async def find_by_prefix(conn: AsyncConnection, prefix: str) -> StoredApiKey | None:
    """Authentication's lookup: the key (with its hash) for a prefix, in any workspace."""
    async with translated():
        row = (await conn.execute(
            select(*_PUBLIC, api_keys.c.key_hash).where(api_keys.c.prefix == prefix)
        )).mappings().first()
    return StoredApiKey(_key(row), bytes(row["key_hash"])) if row else None


async def touch_last_used(conn: AsyncConnection, key_id: int, at: datetime) -> None:
    async with translated():
        await conn.execute(api_keys.update().where(api_keys.c.id == key_id).values(last_used_at=at))


async def insert_key(tenant: Tenant, *, name: str, prefix: str, key_hash: bytes, scopes: list[str],
                     rate_limit_per_minute: int | None, expires_at: datetime | None) -> ApiKey:
    stmt = tenant.insert(api_keys).values(
        name=name, prefix=prefix, key_hash=key_hash, scopes=scopes,
        rate_limit_per_minute=rate_limit_per_minute, expires_at=expires_at,
    ).returning(*_PUBLIC)
    return _key((await tenant.execute(stmt)).mappings().one())


async def list_keys(tenant: Tenant) -> list[ApiKey]:
    stmt = tenant.select(api_keys, *_PUBLIC).order_by(api_keys.c.created_at, api_keys.c.id)
    return [_key(r) for r in (await tenant.execute(stmt)).mappings()]


async def get_key(tenant: Tenant, key_id: int, *, for_update: bool = False) -> ApiKey | None:
    stmt = tenant.select(api_keys, *_PUBLIC).where(api_keys.c.id == key_id)
    if for_update:
        stmt = stmt.with_for_update()
    row = (await tenant.execute(stmt)).mappings().first()
    return _key(row) if row else None


async def update_key(tenant: Tenant, key_id: int, changes: KeyChanges) -> ApiKey:
    stmt = tenant.update(api_keys).where(api_keys.c.id == key_id).values(**changes).returning(*_PUBLIC)
    return _key((await tenant.execute(stmt)).mappings().one())
