"""Keeping the search index in step with PostgreSQL.

``relay_search`` drains the ``search`` topic of the outbox: it claims rows in batches
(``FOR UPDATE SKIP LOCKED``, under a cluster-wide advisory lock so one relay runs at a time and
index writes keep commit order), builds each document from the record's *current* state (never
from the event payload), upserts or deletes in Meilisearch, waits until Meilisearch confirms the
task, and only then marks the rows done, in the same transaction that claimed them. A crash at
any point leaves the rows unclaimed for the next run; re-applying a batch is harmless.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson
import structlog
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from schema_registry.workspace import WorkspaceSchema
from search.client import SearchUnavailable, TaskFailed
from search.documents import build_document
from search.engine import SearchEngine, tenant_filter
from search.memory import MemoryIndex
from tessera.db.locks import SEARCH_RELAY_LOCK
from tessera.db.tenant import Tenant
from tessera.registry.repository import load_schema, schema_version
from workers.deps import deps

log = structlog.get_logger(__name__)

BATCH = 1000
REINDEX_CHUNK = 2000


@dataclass
class Schemas:
    """Per-run cache of workspace schemas (validated by version)."""

    entries: dict[int, WorkspaceSchema] = field(default_factory=dict)

    async def get(self, conn: AsyncConnection, workspace_id: int) -> WorkspaceSchema:
        tenant = Tenant(conn, workspace_id)
        cached = self.entries.get(workspace_id)
        if cached is not None and cached.version == await schema_version(tenant):
            return cached
        schema = await load_schema(tenant)
        self.entries[workspace_id] = schema
        return schema


async def documents_for(conn: AsyncConnection, schemas: Schemas, keys: list[tuple[int, int]]
                     ) -> tuple[list[dict[str, Any]], list[str]]:
    """Documents for records that exist, and ids of those that are gone (or are list entries)."""
    if not keys:
        return [], []
    rows = (await conn.execute(text(
        "SELECT r.workspace_id, r.id, r.object_id, r.data FROM records r "
        "JOIN unnest(CAST(:ws AS bigint[]), CAST(:ids AS bigint[])) AS k(workspace_id, id) "
        "ON r.workspace_id = k.workspace_id AND r.id = k.id"),
        {"ws": [k[0] for k in keys], "ids": [k[1] for k in keys]})).all()
    found: dict[tuple[int, int], Any] = {(r.workspace_id, r.id): r for r in rows}
    # One schema check per workspace per batch, not per record.
    batch_schemas = {ws: await schemas.get(conn, ws) for ws in {r.workspace_id for r in rows}}
    documents, gone = [], []
    for workspace_id, record_id in keys:
        row = found.get((workspace_id, record_id))
        schema = batch_schemas.get(workspace_id) if row is not None else None
        obj = schema.object_by_id(row.object_id) if schema is not None and row is not None else None
        if row is None or obj is None or obj.is_list:
            gone.append(str(record_id))
            continue
        data = orjson.loads(row.data) if isinstance(row.data, str) else row.data
        documents.append(build_document(obj, record_id, workspace_id, data))
    return documents, gone


async def submit(engine: SearchEngine, documents: list[dict[str, Any]], gone: list[str]) -> list[Any]:
    """Enqueue the upserts and deletions in Meilisearch; the tasks to wait for."""
    tasks = []
    if documents:
        tasks.append(await engine.client.add_documents(engine.index_uid, documents))
    if gone:
        tasks.append(await engine.client.delete_documents(engine.index_uid, gone))
    return tasks


async def confirm(engine: SearchEngine, tasks: list[Any]) -> None:
    """Wait until Meilisearch has applied ``tasks`` (raises ``TaskFailed`` if one failed)."""
    for task in tasks:
        await engine.client.wait_for_task(task, wait_seconds=120)


async def apply(engine: SearchEngine, documents: list[dict[str, Any]], gone: list[str]) -> None:
    await confirm(engine, await submit(engine, documents, gone))


async def _reindex_step(conn: AsyncConnection, engine: SearchEngine, schemas: Schemas, workspace_id: int,
                        object_id: int, after: int) -> int | None:
    """Re-index the next chunk of an object's records; the last id done, or None when finished."""
    rows = (await conn.execute(text(
        "SELECT id FROM records WHERE workspace_id = :ws AND object_id = :obj AND id > :after "
        "ORDER BY id LIMIT :n"), {"ws": workspace_id, "obj": object_id, "after": after, "n": REINDEX_CHUNK})).all()
    if not rows:
        return None
    documents, gone = await documents_for(conn, schemas, [(workspace_id, r.id) for r in rows])
    await apply(engine, documents, gone)
    return int(rows[-1].id)


async def relay_batch(db: AsyncEngine, engine: SearchEngine, schemas: Schemas, *, batch: int = BATCH,
                      memory: MemoryIndex | None = None) -> int:
    """Process one batch of the search outbox. Returns how many rows were completed (0: idle)."""
    async with db.connect() as conn, conn.begin():
        locked = (await conn.execute(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": SEARCH_RELAY_LOCK})).scalar()
        if not locked:
            return 0
        rows = (await conn.execute(text(
            "SELECT id, workspace_id, event_type, aggregate_id, payload FROM outbox "
            "WHERE topic = 'search' AND processed_at IS NULL AND available_at <= now() "
            "ORDER BY id LIMIT :n FOR UPDATE SKIP LOCKED"), {"n": batch})).all()
        if not rows:
            return 0
        records: dict[tuple[int, int], None] = {}
        done: list[int] = []
        for row in rows:
            if row.event_type.startswith("record."):
                records[(row.workspace_id, row.aggregate_id)] = None
                done.append(row.id)
            elif row.event_type == "object.deleted":
                task = await engine.client.delete_by_filter(
                    engine.index_uid, tenant_filter(row.workspace_id, row.aggregate_id))
                await engine.client.wait_for_task(task, wait_seconds=120)
                done.append(row.id)
            elif row.event_type == "workspace.erased":
                task = await engine.client.delete_by_filter(engine.index_uid, tenant_filter(row.workspace_id))
                await engine.client.wait_for_task(task, wait_seconds=120)
                if memory is not None:
                    await memory.delete_workspace(row.workspace_id)
                # The erasure leaves no row behind: this one goes once its work is done.
                await conn.execute(text("DELETE FROM outbox WHERE id = :id"), {"id": row.id})
            elif row.event_type == "object.reindex":
                payload = orjson.loads(row.payload) if isinstance(row.payload, str) else row.payload
                last = await _reindex_step(conn, engine, schemas, row.workspace_id, row.aggregate_id,
                                           int(payload.get("after", 0)))
                if last is None:
                    done.append(row.id)
                else:  # keep the row, remember how far we got
                    await conn.execute(text("UPDATE outbox SET payload = CAST(:p AS jsonb) WHERE id = :id"),
                                       {"p": orjson.dumps({"after": last}).decode(), "id": row.id})
            else:
                done.append(row.id)
        documents, gone = await documents_for(conn, schemas, list(records))
        await apply(engine, documents, gone)
        if done:
            await conn.execute(text("UPDATE outbox SET processed_at = now() WHERE id = ANY(CAST(:ids AS bigint[]))"),
                               {"ids": done})
        return len(rows)


async def relay_search(ctx: dict[str, Any]) -> int:
    """arq job: drain the search outbox until it is empty (or Meilisearch is unavailable)."""
    worker = deps(ctx)
    total = 0
    try:
        while True:
            processed = await relay_batch(worker.engine, worker.search, worker.schemas, memory=worker.memory_index)
            if processed == 0:
                return total
            total += processed
    except (SearchUnavailable, TaskFailed) as err:
        log.warning("search_relay_paused", error=str(err)[:200], processed=total)
        return total
