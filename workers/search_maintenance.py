"""``tessera search reindex`` and ``tessera search verify``: rebuild the index from PostgreSQL
(resumable, with a progress bar) and measure (or repair) drift between the two. Both cover the
memory index too (``workers.memory.maintenance``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection
from tqdm import tqdm

from schema_registry.definitions import ObjectDefinition
from search.documents import build_document
from search.engine import tenant_filter
from tessera.db.engine import create_engine
from tessera.settings import Settings
from workers.lifecycle import embedder, memory_index, search_engine
from workers.memory.maintenance import reindex_memory, verify_memory
from workers.search_indexer import Schemas, apply, confirm, documents_for, submit

FETCH_PAGE = 1000
CHUNK = 5000  # records per Meilisearch task of the reindex command (larger batches index faster)


async def _workspaces(conn: AsyncConnection, only: int | None) -> list[int]:
    if only is not None:
        found = (await conn.execute(text("SELECT id FROM workspaces WHERE id = :id"), {"id": only})).all()
        if not found:
            raise SystemExit(f"workspace {only} not found")
        return [only]
    return [r.id for r in (await conn.execute(text("SELECT id FROM workspaces ORDER BY id"))).all()]


async def _objects(conn: AsyncConnection, schemas: Schemas, workspace_id: int, slug: str | None
                   ) -> list[ObjectDefinition]:
    schema = await schemas.get(conn, workspace_id)
    objects = [o for o in schema.objects if not o.is_list and (slug is None or o.slug == slug)]
    if slug is not None and not objects:
        raise SystemExit(f"object '{slug}' not found in workspace {workspace_id}")
    return sorted(objects, key=lambda o: o.id)


async def _count(conn: AsyncConnection, workspace_id: int, object_ids: list[int]) -> int:
    return int((await conn.execute(text(
        "SELECT count(*) FROM records WHERE workspace_id = :ws AND object_id = ANY(CAST(:o AS bigint[]))"),
        {"ws": workspace_id, "o": object_ids})).scalar_one())


async def reindex(settings: Settings, *, workspace_id: int | None, object_slug: str | None,
                  restart: bool) -> int:
    """Upsert a document for every record in scope, in (workspace, object, id) order, saving a
    checkpoint after each chunk so an interrupted run resumes where it stopped."""
    db = create_engine(settings, pool_size=2)
    engine = search_engine(settings)
    name = f"reindex:{workspace_id or '*'}:{object_slug or '*'}"
    schemas = Schemas()
    done = 0
    try:
        await engine.ensure_index()
        async with db.connect() as conn:
            saved = None if restart else (await conn.execute(text(
                "SELECT value FROM maintenance_checkpoints WHERE name = :n"), {"n": name})).scalar()
            checkpoint = orjson.loads(saved) if isinstance(saved, str) else saved
            plan = []
            for ws in await _workspaces(conn, workspace_id):
                for obj in await _objects(conn, schemas, ws, object_slug):
                    plan.append((ws, obj.id))
            total = sum([await _count(conn, ws, [o]) for ws, o in plan])
            await conn.rollback()
        with tqdm(total=total, unit="rec", desc="reindex") as bar:
            for ws, object_id in plan:
                after = 0
                if checkpoint is not None:
                    if (ws, object_id) < (checkpoint["ws"], checkpoint["obj"]):
                        bar.update(await _scoped_count(db, ws, object_id))
                        continue
                    if (ws, object_id) == (checkpoint["ws"], checkpoint["obj"]):
                        after = int(checkpoint["after"])
                        bar.update(await _scoped_count(db, ws, object_id, upto=after))
                async for chunk_last, size in _chunks(db, engine, schemas, ws, object_id, after):
                    done += size
                    bar.update(size)
                    await _save(db, name, {"ws": ws, "obj": object_id, "after": chunk_last})
        async with db.begin() as conn:
            await conn.execute(text("DELETE FROM maintenance_checkpoints WHERE name = :n"), {"n": name})
        if object_slug is None:  # memory items belong to no object: a whole-workspace reindex covers them
            async with db.connect() as conn:
                workspaces = await _workspaces(conn, workspace_id)
            await reindex_memory(db, memory_index(settings, engine.client), embedder(settings), workspaces)
    finally:
        await engine.client.close()
        await db.dispose()
    return done


async def _scoped_count(db: Any, ws: int, object_id: int, upto: int | None = None) -> int:
    async with db.connect() as conn:
        sql = "SELECT count(*) FROM records WHERE workspace_id = :ws AND object_id = :o"
        if upto is not None:
            sql += " AND id <= :upto"
        return int((await conn.execute(text(sql), {"ws": ws, "o": object_id, "upto": upto})).scalar_one())


async def _chunks(db: Any, engine: Any, schemas: Schemas, ws: int, object_id: int, after: int
                  ) -> AsyncIterator[tuple[int, int]]:
    """Index an object's records chunk by chunk, yielding (last id, size) once Meilisearch has
    confirmed a chunk. One chunk stays in flight: the next is read from PostgreSQL and built
    while Meilisearch indexes the previous one."""
    in_flight: tuple[list[Any], int, int] | None = None
    while True:
        async with db.connect() as conn:
            ids = [r.id for r in (await conn.execute(text(
                "SELECT id FROM records WHERE workspace_id = :ws AND object_id = :o AND id > :after "
                "ORDER BY id LIMIT :n"), {"ws": ws, "o": object_id, "after": after, "n": CHUNK})).all()]
            documents, gone = await documents_for(conn, schemas, [(ws, i) for i in ids]) if ids else ([], [])
        tasks = await submit(engine, documents, gone) if ids else []
        if in_flight is not None:
            await confirm(engine, in_flight[0])
            yield in_flight[1], in_flight[2]
        if not ids:
            return
        in_flight = (tasks, ids[-1], len(ids))
        after = ids[-1]


async def _save(db: Any, name: str, value: dict[str, Any]) -> None:
    async with db.begin() as conn:
        await conn.execute(text(
            "INSERT INTO maintenance_checkpoints (name, value, updated_at) VALUES (:n, CAST(:v AS jsonb), now()) "
            "ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value, updated_at = now()"),
            {"n": name, "v": orjson.dumps(value).decode()})


def _comparable(document: dict[str, Any]) -> tuple[Any, ...]:
    return (document.get("object_id"), document.get("primary_value"), orjson.dumps(document.get("text"),
                                                                                   option=orjson.OPT_SORT_KEYS))


async def verify(settings: Settings, *, workspace_id: int | None, repair: bool) -> dict[str, Any]:
    """Compare every workspace's records with the index: documents missing, extra (no such
    record, or a record of a deleted object) and stale (content differs)."""
    db = create_engine(settings, pool_size=2)
    engine = search_engine(settings)
    schemas = Schemas()
    report: dict[str, Any] = {"workspaces": 0, "records": 0, "missing": 0, "extra": 0, "stale": 0}
    try:
        async with db.connect() as conn:
            workspaces = await _workspaces(conn, workspace_id)
        for ws in tqdm(workspaces, unit="ws", desc="verify", disable=len(workspaces) < 2):
            async with db.connect() as conn:
                objects = await _objects(conn, schemas, ws, None)
                rows = (await conn.execute(text(
                    "SELECT id, object_id, data FROM records WHERE workspace_id = :ws "
                    "AND object_id = ANY(CAST(:o AS bigint[]))"), {"ws": ws, "o": [o.id for o in objects]})).all()
            by_id = {o.id: o for o in objects}
            expected = {}
            for row in rows:
                data = orjson.loads(row.data) if isinstance(row.data, str) else row.data
                expected[str(row.id)] = build_document(by_id[row.object_id], row.id, ws, data)
            indexed: dict[str, dict[str, Any]] = {}
            offset = 0
            while True:
                page = await engine.client.fetch_documents(
                    engine.index_uid, filter_=tenant_filter(ws),
                    fields=["id", "object_id", "primary_value", "text"], limit=FETCH_PAGE, offset=offset)
                indexed.update({str(d["id"]): d for d in page})
                if len(page) < FETCH_PAGE:
                    break
                offset += FETCH_PAGE
            missing = [i for i in expected if i not in indexed]
            extra = [i for i in indexed if i not in expected]
            stale = [i for i in expected if i in indexed and _comparable(expected[i]) != _comparable(indexed[i])]
            report["workspaces"] += 1
            report["records"] += len(expected)
            report["missing"] += len(missing)
            report["extra"] += len(extra)
            report["stale"] += len(stale)
            if repair and (missing or extra or stale):
                await apply(engine, [expected[i] for i in missing + stale], extra)
        memory = await verify_memory(db, memory_index(settings, engine.client), embedder(settings), workspaces,
                                     repair=repair)
    finally:
        await engine.client.close()
        await db.dispose()
    report["memory"] = memory
    report["drift"] = report["missing"] + report["extra"] + report["stale"] + memory["missing"] + memory["extra"]
    report["repaired"] = repair
    return report

