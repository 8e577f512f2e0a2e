"""Files of import and export jobs, kept in PostgreSQL in 1 MiB chunks (bounded memory both ways,
and any worker can read what any API process stored)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import BinaryIO

from sqlalchemy.ext.asyncio import AsyncEngine

from tessera.db.tenant import Tenant
from tessera.errors import PayloadTooLarge
from tessera.transfer import repository
from tessera.transfer.repository import FileKind

CHUNK = 1024 * 1024


async def store_file(tenant: Tenant, kind: FileKind, owner_id: int, source: BinaryIO, *, limit: int,
                     too_large: str | None = None) -> int:
    """Copy a file-like object into chunks; returns the byte count. ``PayloadTooLarge`` past
    ``limit`` (saying ``too_large`` when given)."""
    total = seq = 0
    while True:
        data = source.read(CHUNK)
        if not data:
            return total
        total += len(data)
        if total > limit:
            raise PayloadTooLarge(too_large or f"The file is larger than {limit} bytes")
        await repository.insert_chunk(tenant, kind, owner_id, seq, data)
        seq += 1


async def append_chunk(tenant: Tenant, kind: FileKind, owner_id: int, seq: int, data: bytes) -> None:
    await repository.insert_chunk(tenant, kind, owner_id, seq, data)


async def read_chunks(db: AsyncEngine, kind: FileKind, workspace_id: int, owner_id: int) -> AsyncIterator[bytes]:
    """The stored file, chunk by chunk (one short query per chunk)."""
    seq = 0
    while True:
        async with db.connect() as conn:
            data = await repository.get_chunk(Tenant(conn, workspace_id), kind, owner_id, seq)
        if data is None:
            return
        yield data
        seq += 1
