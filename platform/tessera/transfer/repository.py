"""SQL for import and export jobs: their rows (``imports``, ``exports``), the rows an import
refused (``import_errors``) and the chunks of their files (``import_chunks``, ``export_chunks``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import asyncpg
import orjson

from tessera.db.sql import WORKSPACE, Params
from tessera.db.tenant import Tenant

FileKind = Literal["imports", "exports"]
"""Whose file: an import's upload or an export's result."""
_CHUNKS: dict[FileKind, tuple[str, str]] = {"imports": ("import_chunks", "import_id"),
                                            "exports": ("export_chunks", "export_id")}


@dataclass(frozen=True, slots=True)
class ImportJob:
    """An import as its row holds it; the counts grow as its batches commit."""

    id: int
    object_id: int
    format: str
    mapping: dict[str, str]
    """Column -> attribute (``attribute.member``); empty: columns named like attribute slugs."""
    matching_attribute: str | None
    status: str
    total_bytes: int
    processed_rows: int
    created_count: int
    updated_count: int
    failed_count: int
    error: str | None
    created_at: datetime
    completed_at: datetime | None


@dataclass(frozen=True, slots=True)
class ImportRowError:
    """Why an import refused a row: its number in the file, the column(s) at fault ('' when none)."""

    row: int
    column: str
    message: str


@dataclass(frozen=True, slots=True)
class ExportJob:
    id: int
    object_slug: str | None
    """One object's records; None for the whole workspace."""
    format: str
    status: str
    size_bytes: int
    counts: dict[str, int]
    """Lines (JSON lines) or rows (CSV) written, by kind or object slug."""
    error: str | None
    created_at: datetime
    completed_at: datetime | None


def _import(row: asyncpg.Record) -> ImportJob:
    mapping = row["mapping"]  # jsonb: the driver hands it over as text
    return ImportJob(
        id=row["id"], object_id=row["object_id"], format=row["format"],
        mapping=orjson.loads(mapping) if isinstance(mapping, str) else mapping,
        matching_attribute=row["matching_attribute"], status=row["status"], total_bytes=row["total_bytes"],
        processed_rows=row["processed_rows"], created_count=row["created_count"], updated_count=row["updated_count"],
        failed_count=row["failed_count"], error=row["error"], created_at=row["created_at"],
        completed_at=row["completed_at"])


def _export(row: asyncpg.Record) -> ExportJob:
    counts = row["counts"]
    return ExportJob(
        id=row["id"], object_slug=row["object_slug"], format=row["format"], status=row["status"],
        size_bytes=row["size_bytes"], counts=orjson.loads(counts) if isinstance(counts, str) else counts,
        error=row["error"],
        created_at=row["created_at"], completed_at=row["completed_at"])


async def insert_import(tenant: Tenant, import_id: int, *, object_id: int, fmt: str, mapping: dict[str, str],
                        matching_attribute: str | None, actor_id: str, now: datetime) -> None:
    """A new import, ``uploading`` until its file is stored (``mark_uploaded``)."""
    params = Params()
    values = ", ".join([params.add(import_id), params.add(object_id), params.add(fmt),
                        params.add(orjson.dumps(mapping).decode(), "jsonb"), params.add(matching_attribute)])
    actor, at = params.add(actor_id), params.add(now)
    await tenant.fetch(
        "INSERT INTO imports (workspace_id, id, object_id, format, mapping, matching_attribute, status, "
        f"created_by_id, created_at, updated_at) VALUES ({WORKSPACE}, {values}, 'uploading', {actor}, {at}, {at})",
        *params.values)


async def mark_uploaded(tenant: Tenant, import_id: int, total_bytes: int) -> None:
    """The import's file is stored: it waits for a worker."""
    params = Params()
    job = params.add(import_id)
    await tenant.fetch(f"UPDATE imports SET status = 'pending', total_bytes = {params.add(total_bytes)} "
                       f"WHERE workspace_id = $1 AND id = {job}", *params.values)


async def get_import(tenant: Tenant, import_id: int) -> ImportJob | None:
    params = Params()
    row: asyncpg.Record | None = await tenant.fetchrow(
        f"SELECT * FROM imports WHERE workspace_id = $1 AND id = {params.add(import_id)}", *params.values)
    return _import(row) if row is not None else None


async def import_errors(tenant: Tenant, import_id: int, limit: int) -> list[ImportRowError]:
    """The first ``limit`` refused rows, in row order."""
    params = Params()
    rows: list[asyncpg.Record] = await tenant.fetch(
        f"SELECT row_number, column_name, message FROM import_errors WHERE workspace_id = $1 "
        f"AND import_id = {params.add(import_id)} ORDER BY row_number LIMIT {params.add(limit)}", *params.values)
    return [ImportRowError(r["row_number"], r["column_name"], r["message"]) for r in rows]


async def insert_export(tenant: Tenant, export_id: int, *, object_slug: str | None, fmt: str, now: datetime) -> None:
    params = Params()
    values = ", ".join(params.add(v) for v in (export_id, object_slug, fmt))
    at = params.add(now)
    await tenant.fetch(
        "INSERT INTO exports (workspace_id, id, object_slug, format, created_at, updated_at) "
        f"VALUES ({WORKSPACE}, {values}, {at}, {at})", *params.values)


async def get_export(tenant: Tenant, export_id: int) -> ExportJob | None:
    params = Params()
    row: asyncpg.Record | None = await tenant.fetchrow(
        f"SELECT * FROM exports WHERE workspace_id = $1 AND id = {params.add(export_id)}", *params.values)
    return _export(row) if row is not None else None


async def insert_chunk(tenant: Tenant, kind: FileKind, owner_id: int, seq: int, data: bytes) -> None:
    table, column = _CHUNKS[kind]
    params = Params()
    values = ", ".join(params.add(v) for v in (owner_id, seq, data))
    await tenant.fetch(f"INSERT INTO {table} (workspace_id, {column}, seq, data) VALUES ({WORKSPACE}, {values})",
                       *params.values)


async def get_chunk(tenant: Tenant, kind: FileKind, owner_id: int, seq: int) -> bytes | None:
    """Chunk ``seq`` (from 0) of a file; None past its end."""
    table, column = _CHUNKS[kind]
    params = Params()
    row: asyncpg.Record | None = await tenant.fetchrow(
        f"SELECT data FROM {table} WHERE workspace_id = $1 AND {column} = {params.add(owner_id)} "
        f"AND seq = {params.add(seq)}", *params.values)
    return bytes(row["data"]) if row is not None else None
