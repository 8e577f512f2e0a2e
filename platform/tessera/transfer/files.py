"""Files of import and export jobs, kept in PostgreSQL in 1 MiB chunks (bounded memory both ways,
and any worker can read what any API process stored)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, BinaryIO

from sqlalchemy.ext.asyncio import AsyncEngine

from tessera.db.tenant import Tenant
from tessera.errors import PayloadTooLarge

CHUNK = 1024 * 1024
_TABLES = {"imports": ("import_chunks", "import_id"), "exports": ("export_chunks", "export_id")}


async def store_file(tenant: Tenant, kind: str, owner_id: int, source: BinaryIO, *, limit: int,
                     too_large: str | None = None) -> int:
    """Copy a file-like object into chunks; returns the byte count. ``PayloadTooLarge`` past
    ``limit`` (saying ``too_large`` when given)."""
    table, column = _TABLES[kind]
    total = seq = 0
    while True:
        data = source.read(CHUNK)
        if not data:
            return total
        total += len(data)
        if total > limit:
            raise PayloadTooLarge(too_large or f"The file is larger than {limit} bytes")
        await tenant.fetch(f"INSERT INTO {table} (workspace_id, {column}, seq, data) VALUES ($1, $2, $3, $4)",
                           owner_id, seq, data)
        seq += 1


async def append_chunk(tenant: Tenant, kind: str, owner_id: int, seq: int, data: bytes) -> None:
    table, column = _TABLES[kind]
    await tenant.fetch(f"INSERT INTO {table} (workspace_id, {column}, seq, data) VALUES ($1, $2, $3, $4)",
                       owner_id, seq, data)


async def read_chunks(db: AsyncEngine, kind: str, workspace_id: int, owner_id: int) -> AsyncIterator[bytes]:
    """The stored file, chunk by chunk (one short query per chunk)."""
    table, column = _TABLES[kind]
    seq = 0
    while True:
        async with db.connect() as conn:
            row: Any = await Tenant(conn, workspace_id).fetchrow(
                f"SELECT data FROM {table} WHERE workspace_id = $1 AND {column} = $2 AND seq = $3", owner_id, seq)
        if row is None:
            return
        yield bytes(row["data"])
        seq += 1
