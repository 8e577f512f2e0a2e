"""Import and export jobs. Imports resume after a crash at the first unfinished batch (progress
is committed with each batch); exports are rebuilt from scratch."""

from __future__ import annotations

import tempfile
import zipfile
from datetime import UTC, datetime
from typing import Any

import orjson
import structlog
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tessera.changes import Actor
from tessera.db.sql import Params
from tessera.db.tenant import Tenant
from tessera.errors import BadRequest
from tessera.registry.repository import load_schema
from tessera.transfer.dump import csv_object, jsonl_dump
from tessera.transfer.files import CHUNK, append_chunk, read_chunks
from tessera.transfer.imports import MAX_ERRORS, Progress, iter_rows, plan_import
from tessera.transfer.imports import run_import as run_rows
from workers.deps import deps
from workers.job_errors import JobFailure
from workers.jobs import EXPORT, IMPORT, claim, fail, leased

log = structlog.get_logger(__name__)


@leased(IMPORT)
async def process_import(ctx: dict[str, Any], workspace_id: int, import_id: int) -> str:
    worker = deps(ctx)
    db = worker.engine
    job = await claim(db, IMPORT, workspace_id, import_id)
    if job is None:
        return "skipped"
    try:
        async with db.connect() as conn:
            schema = await load_schema(Tenant(conn, workspace_id))
        obj = schema.object_by_id(job["object_id"])
        if obj is None:
            raise JobFailure("the object was deleted")
        mapping = orjson.loads(job["mapping"]) if isinstance(job["mapping"], str) else job["mapping"]
        rows = iter_rows(read_chunks(db, "imports", workspace_id, import_id), job["format"],
                         worker.settings.import_max_record_chars)
        first = await anext(rows, None)
        if first is None:
            raise JobFailure("the file holds no rows")

        async def replay() -> Any:
            yield first
            async for item in rows:
                yield item

        plan = plan_import(obj, first[0], mapping or None, job["matching_attribute"], job["format"])
        stored_errors = job["failed_count"]

        async def checkpoint(tenant: Tenant, done: Progress) -> None:
            nonlocal stored_errors
            keep = done.errors[:max(0, MAX_ERRORS - stored_errors)]
            stored_errors += len(keep)
            if keep:
                params = Params()
                owner = params.add(import_id)
                refused = params.unnest([([e[0] for e in keep], "bigint"), ([e[1] for e in keep], "text"),
                                         ([e[2][:500] for e in keep], "text")])
                await tenant.fetch(
                    "INSERT INTO import_errors (workspace_id, import_id, row_number, column_name, message) "
                    f"SELECT $1, {owner}, * FROM {refused}", *params.values)
            params = Params()
            owner = params.add(import_id)
            await tenant.fetch(
                f"UPDATE imports SET processed_rows = processed_rows + {params.add(done.processed)}, "
                f"created_count = created_count + {params.add(done.created)}, "
                f"updated_count = updated_count + {params.add(done.updated)}, "
                f"failed_count = failed_count + {params.add(done.failed)}, updated_at = now() "
                f"WHERE workspace_id = $1 AND id = {owner}", *params.values)

        await run_rows(db, workspace_id, plan, replay(), schemas=worker.schemas_cache, ids=worker.ids,
                       actor=Actor("import", str(import_id)), now=lambda: datetime.now(UTC),
                       skip=job["processed_rows"], checkpoint=checkpoint)
        async with db.begin() as conn:
            await conn.execute(text(
                "UPDATE imports SET status = 'completed', completed_at = now(), updated_at = now(), error = NULL "
                "WHERE workspace_id = :ws AND id = :id"), {"ws": workspace_id, "id": import_id})
            await conn.execute(text("DELETE FROM import_chunks WHERE workspace_id = :ws AND import_id = :id"),
                               {"ws": workspace_id, "id": import_id})
    except Exception as err:  # report on the job: the user reads it from GET /v1/imports/{id}
        log.warning("import_failed", import_id=import_id, error_type=type(err).__name__)
        # A BadRequest is the file's own fault (an oversize field, an unclosed quote), like a
        # JobFailure: reading it again fails the same way, so the import fails now instead of
        # after every retry.
        await fail(db, IMPORT, workspace_id, import_id, job["attempts"], err,
                   final=isinstance(err, (BadRequest, JobFailure)))
        return "failed"
    await worker.redis_client.enqueue("relay_search", job_id="relay_search")
    return "completed"


async def _store(db: AsyncEngine, workspace_id: int, export_id: int, chunks: Any) -> int:
    size = seq = 0
    buffer = b""
    async for piece in chunks:
        buffer += piece
        while len(buffer) >= CHUNK:
            async with db.begin() as conn:
                await append_chunk(Tenant(conn, workspace_id), "exports", export_id, seq, buffer[:CHUNK])
            size, seq, buffer = size + CHUNK, seq + 1, buffer[CHUNK:]
    if buffer:
        async with db.begin() as conn:
            await append_chunk(Tenant(conn, workspace_id), "exports", export_id, seq, buffer)
        size += len(buffer)
    return size


async def _zip_of_csvs(db: AsyncEngine, workspace_id: int, counts: dict[str, int]) -> Any:
    async with db.connect() as conn:
        schema = await load_schema(Tenant(conn, workspace_id))
    with tempfile.TemporaryFile() as spool:
        with zipfile.ZipFile(spool, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for obj in schema.objects:
                with archive.open(f"{obj.slug}.csv", "w") as member:
                    async for piece in csv_object(db, workspace_id, obj, counts):
                        member.write(piece)
        spool.seek(0)
        while piece := spool.read(CHUNK):
            yield piece


@leased(EXPORT)
async def process_export(ctx: dict[str, Any], workspace_id: int, export_id: int) -> str:
    db = deps(ctx).engine
    job = await claim(db, EXPORT, workspace_id, export_id)
    if job is None:
        return "skipped"
    counts: dict[str, int] = {}
    try:
        async with db.begin() as conn:  # a retried export starts over
            await conn.execute(text("DELETE FROM export_chunks WHERE workspace_id = :ws AND export_id = :id"),
                               {"ws": workspace_id, "id": export_id})
        if job["format"] == "jsonl":
            source = jsonl_dump(db, workspace_id, job["object_slug"], counts)
        elif job["object_slug"] is not None:
            async with db.connect() as conn:
                obj = (await load_schema(Tenant(conn, workspace_id))).object(job["object_slug"])
            if obj is None:
                raise JobFailure("the object was deleted")
            source = csv_object(db, workspace_id, obj, counts)
        else:
            source = _zip_of_csvs(db, workspace_id, counts)
        size = await _store(db, workspace_id, export_id, source)
        async with db.begin() as conn:
            await conn.execute(text(
                "UPDATE exports SET status = 'completed', size_bytes = :size, counts = CAST(:counts AS jsonb), "
                "completed_at = now(), updated_at = now() WHERE workspace_id = :ws AND id = :id"),
                {"size": size, "counts": orjson.dumps(counts).decode(), "ws": workspace_id, "id": export_id})
    except Exception as err:  # report on the job
        log.warning("export_failed", export_id=export_id, error_type=type(err).__name__)
        await fail(db, EXPORT, workspace_id, export_id, job["attempts"], err, final=isinstance(err, JobFailure))
        return "failed"
    return "completed"
