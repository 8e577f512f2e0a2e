"""The memory index's part of ``tessera search reindex`` and ``tessera search verify``: rebuild the
memory documents from ``memory_items`` (with a progress bar), and count (or repair) the items
missing from Meilisearch and the documents PostgreSQL no longer has."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from tqdm import tqdm

from search.engine import tenant_filter
from search.memory import MemoryIndex, build_memory_document
from workers.memory.embedding import Embedder
from workers.memory.indexer import mark_indexed, to_item

PAGE = 1000

_COLUMNS = ("workspace_id, id, source_type, source_id, position, context, content, entity_ids, created_at, vector, "
            "vector_model")


async def _upsert(db: AsyncEngine, index: MemoryIndex, embedder: Embedder, rows: list[Any]) -> None:
    vectors = embedder.vectors_of([r.content for r in rows], [r.vector for r in rows],
                                  [r.vector_model or "" for r in rows])
    documents = [build_memory_document(to_item(r), r.workspace_id, v) for r, v in zip(rows, vectors, strict=True)]
    await index.client.wait_for_task(await index.client.add_documents(index.index_uid, documents), wait_seconds=300)
    async with db.begin() as conn:
        await mark_indexed(conn, rows, vectors, embedder.model_id)


async def reindex_memory(db: AsyncEngine, index: MemoryIndex, embedder: Embedder, workspaces: list[int]) -> int:
    """Upsert the document of every memory item of ``workspaces``; returns how many."""
    await index.ensure_index()
    done = 0
    async with db.connect() as conn:
        total = int((await conn.execute(text("SELECT count(*) FROM memory_items WHERE workspace_id = ANY(:ws)"),
                                        {"ws": workspaces})).scalar_one())
    with tqdm(total=total, unit="item", desc="memory", disable=None) as bar:
        for workspace_id in workspaces:
            after = 0
            while True:
                async with db.connect() as conn:
                    rows = (await conn.execute(text(
                        f"SELECT {_COLUMNS} FROM memory_items WHERE workspace_id = :ws AND id > :after "
                        f"ORDER BY id LIMIT :n"), {"ws": workspace_id, "after": after, "n": PAGE})).all()
                if not rows:
                    break
                await _upsert(db, index, embedder, list(rows))
                after = rows[-1].id
                done += len(rows)
                bar.update(len(rows))
    return done


async def verify_memory(db: AsyncEngine, index: MemoryIndex, embedder: Embedder, workspaces: list[int], *,
                        repair: bool) -> dict[str, int]:
    """``items`` in PostgreSQL, ``missing`` from the index, ``extra`` documents the index holds for
    items that are gone; with ``repair``, both are fixed."""
    items = missing = extra = 0
    for workspace_id in workspaces:
        async with db.connect() as conn:
            ids = {r.id for r in (await conn.execute(text(
                "SELECT id FROM memory_items WHERE workspace_id = :ws"), {"ws": workspace_id})).all()}
        indexed: set[int] = set()
        offset = 0
        while True:
            page = await index.client.fetch_documents(index.index_uid, filter_=tenant_filter(workspace_id),
                                                      fields=["id"], limit=PAGE, offset=offset)
            indexed.update(int(d["id"]) for d in page)
            if len(page) < PAGE:
                break
            offset += PAGE
        lost, stale = sorted(ids - indexed), sorted(indexed - ids)
        items, missing, extra = items + len(ids), missing + len(lost), extra + len(stale)
        if repair and lost:
            async with db.connect() as conn:
                rows = (await conn.execute(text(
                    f"SELECT {_COLUMNS} FROM memory_items WHERE workspace_id = :ws "
                    f"AND id = ANY(CAST(:ids AS bigint[]))"),
                    {"ws": workspace_id, "ids": lost})).all()
            for start in range(0, len(rows), PAGE):
                await _upsert(db, index, embedder, list(rows[start:start + PAGE]))
        if repair and stale:
            await index.client.wait_for_task(await index.client.delete_documents(
                index.index_uid, [str(i) for i in stale]), wait_seconds=300)
    return {"items": items, "missing": missing, "extra": extra}
