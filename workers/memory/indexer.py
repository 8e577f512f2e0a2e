"""Keeping the memory index in step with ``memory_items``.

``relay_memory`` drains the ``memory`` topic of the outbox the way ``relay_search`` drains
``search``: it claims rows (``FOR UPDATE SKIP LOCKED`` under an advisory lock, so index writes
keep commit order), reads each source's *current* items, embeds them, replaces the source's
documents in Meilisearch, waits until Meilisearch confirms, and only then marks the items indexed
and the rows done, in the transaction that claimed them. A crash anywhere (``kill -9`` included)
leaves the rows for the next run; re-applying a batch is harmless.
"""

from __future__ import annotations

from typing import Any

import structlog
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from search.client import SearchUnavailable, TaskFailed
from search.memory import MemoryIndex, build_memory_document
from tessera.changes import MEMORY
from tessera.context.memory import MemoryItem
from tessera.db.locks import MEMORY_RELAY_LOCK
from workers.deps import deps
from workers.memory.embedding import Embedder, Vectors, to_blob

log = structlog.get_logger(__name__)

BATCH = 500
"""Outbox rows (sources) per batch at most..."""
MAX_ITEMS = 1000
"""...and about this many memory items (~7 s of embedding on one core); one large source may exceed it."""
WINDOW = 5000
"""The oldest pending rows the fair ordering looks at."""


def to_item(row: Any) -> MemoryItem:
    """A ``MemoryItem`` from a row of ``memory_items`` columns read through SQLAlchemy."""
    return MemoryItem(id=row.id, source_type=row.source_type, source_id=row.source_id, position=row.position,
                      context=row.context, content=row.content, entity_ids=tuple(row.entity_ids),
                      created_at=row.created_at)


async def mark_indexed(conn: AsyncConnection, rows: list[Any], vectors: Vectors, model: str) -> None:
    """Record that ``rows`` (with ``workspace_id`` and ``id``) are in the index, with their vectors."""
    await conn.execute(text(
        "UPDATE memory_items m SET indexed_at = now(), vector = k.v, vector_model = :model "
        "FROM unnest(CAST(:ws AS bigint[]), CAST(:ids AS bigint[]), CAST(:vs AS bytea[])) AS k(ws, id, v) "
        "WHERE m.workspace_id = k.ws AND m.id = k.id"),
        {"ws": [r.workspace_id for r in rows], "ids": [r.id for r in rows], "vs": [to_blob(v) for v in vectors],
         "model": model})


async def relay_memory_batch(db: AsyncEngine, index: MemoryIndex, embedder: Embedder, *, batch: int = BATCH) -> int:
    """Index one batch of the memory outbox. Returns how many rows were completed (0: idle)."""
    async with db.connect() as conn, conn.begin():
        if not (await conn.execute(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": MEMORY_RELAY_LOCK})).scalar():
            return 0
        # Fair shares: of the oldest pending rows, each workspace's first ones come first, so one
        # workspace's backlog does not hold up another's (its items are found meanwhile through
        # PostgreSQL full text). A batch stops at about MAX_ITEMS items: embedding is the cost.
        rows = (await conn.execute(text(
            "WITH pending AS (SELECT id, workspace_id, aggregate_type, aggregate_id FROM outbox WHERE topic = :topic "
            "AND processed_at IS NULL AND available_at <= now() ORDER BY id LIMIT :window), "
            "ranked AS (SELECT p.*, row_number() OVER (PARTITION BY workspace_id ORDER BY id) AS turn, "
            "(SELECT count(*) FROM memory_items m WHERE m.workspace_id = p.workspace_id "
            "AND m.source_type = p.aggregate_type AND m.source_id = p.aggregate_id) AS items FROM pending p) "
            "SELECT id, workspace_id, aggregate_type, aggregate_id, items FROM ranked ORDER BY turn, id LIMIT :n"),
            {"topic": MEMORY, "window": WINDOW, "n": batch})).all()
        kept: list[Any] = []
        total = 0
        for row in rows:
            if kept and total + row.items > MAX_ITEMS:
                break
            kept.append(row)
            total += row.items
        rows = (await conn.execute(text(
            "SELECT id, workspace_id, aggregate_type, aggregate_id FROM outbox WHERE id = ANY(CAST(:ids AS bigint[])) "
            "AND processed_at IS NULL ORDER BY id FOR UPDATE SKIP LOCKED"), {"ids": [r.id for r in kept]})).all()
        if not rows:
            return 0
        sources: dict[int, set[tuple[str, int]]] = {}
        for row in rows:
            sources.setdefault(row.workspace_id, set()).add((row.aggregate_type, row.aggregate_id))
        keys = [(ws, kind, source_id) for ws, found in sources.items() for kind, source_id in sorted(found)]
        items = (await conn.execute(text(
            "SELECT m.workspace_id, m.id, m.source_type, m.source_id, m.position, m.context, m.content, "
            "m.entity_ids, m.created_at, m.vector, m.vector_model FROM memory_items m "
            "JOIN unnest(CAST(:ws AS bigint[]), CAST(:kinds AS text[]), "
            "CAST(:ids AS bigint[])) AS k(ws, kind, sid) ON m.workspace_id = k.ws AND m.source_type = k.kind "
            "AND m.source_id = k.sid ORDER BY m.workspace_id, m.id"),
            {"ws": [k[0] for k in keys], "kinds": [k[1] for k in keys], "ids": [k[2] for k in keys]})).all()
        vectors = embedder.vectors_of([i.content for i in items], [i.vector for i in items],
                                      [i.vector_model or "" for i in items])
        documents: dict[int, list[dict[str, Any]]] = {}
        for row, vector in zip(items, vectors, strict=True):
            documents.setdefault(row.workspace_id, []).append(
                build_memory_document(to_item(row), row.workspace_id, vector))
        tasks = []
        for workspace_id, found in sources.items():
            tasks += await index.replace_sources(workspace_id, [f"{k}:{s}" for k, s in sorted(found)],
                                                 documents.get(workspace_id, []))
        for task in tasks:
            await index.client.wait_for_task(task, wait_seconds=120)
        if items:
            await mark_indexed(conn, list(items), vectors, embedder.model_id)
        await conn.execute(text("UPDATE outbox SET processed_at = now() WHERE id = ANY(CAST(:ids AS bigint[]))"),
                           {"ids": [r.id for r in rows]})
        return len(rows)


async def relay_memory(ctx: dict[str, Any]) -> int:
    """arq job: drain the memory outbox until it is empty (or Meilisearch is unavailable)."""
    worker = deps(ctx)
    total = 0
    try:
        if not worker.memory_index_ready.is_set():  # its embedder must exist before a document carries vectors
            await worker.memory_index.ensure_index()
            worker.memory_index_ready.set()
        while True:
            processed = await relay_memory_batch(worker.engine, worker.memory_index, worker.embedder)
            if processed == 0:
                return total
            total += processed
    except (SearchUnavailable, TaskFailed) as err:
        log.warning("memory_relay_paused", error=str(err)[:200], processed=total)
        return total
