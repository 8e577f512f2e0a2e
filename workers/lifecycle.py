"""Worker process start-up/shutdown and housekeeping jobs."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from search.client import MeiliClient, SearchUnavailable, TaskFailed
from search.engine import SearchEngine
from search.memory import MemoryIndex
from tessera.db.engine import create_engine
from tessera.db.ids import IdAllocator
from tessera.logs import configure_logging
from tessera.records import repository as records_repository
from tessera.redis_client import RedisClient
from tessera.registry.cache import SchemaCache
from tessera.settings import Settings
from workers.deps import DEPS_KEY, WorkerDeps, deps
from workers.intelligence import build_extractor
from workers.leases import JobLeases
from workers.memory.embedding import DIMENSIONS, Embedder, shared_embedder
from workers.search_indexer import Schemas
from workers.webhook_delivery import DeliverySender, delivery_client

log = structlog.get_logger(__name__)


def search_engine(settings: Settings) -> SearchEngine:
    client = MeiliClient(settings.meili_url, settings.meili_master_key.get_secret_value())
    return SearchEngine(client, f"{settings.meili_index_prefix}_records")


def memory_index(settings: Settings, client: MeiliClient) -> MemoryIndex:
    return MemoryIndex(client, f"{settings.meili_index_prefix}_memory", DIMENSIONS)


def embedder(settings: Settings) -> Embedder:
    """The process's embedding model, quantized into ``MODEL_CACHE_DIR`` on first use."""
    return shared_embedder(Path(settings.model_cache_dir) if settings.model_cache_dir else None)


async def startup(ctx: dict[str, Any]) -> None:
    """arq ``on_startup``: build the process's ``WorkerDeps`` from ``ctx["settings"]`` (read from
    the environment when absent) and store them under ``DEPS_KEY``; ``ctx["clock"]``, when given,
    is the webhook sender's clock."""
    settings: Settings = ctx.get("settings") or Settings()
    configure_logging(settings.log_level, settings.log_format)
    engine = create_engine(settings, pool_size=5)
    search = search_engine(settings)
    http = delivery_client(settings)
    worker = WorkerDeps(
        settings=settings, engine=engine, search=search, memory_index=memory_index(settings, search.client),
        memory_index_ready=asyncio.Event(), embedder=embedder(settings), schemas=Schemas(),
        schemas_cache=SchemaCache(ttl_seconds=settings.schema_cache_seconds, clock=time.time), ids=IdAllocator(),
        leases=JobLeases(settings.asyncpg_dsn), redis_client=RedisClient(settings.redis_url), http=http,
        webhook_sender=DeliverySender(engine, http, settings, clock=ctx.get("clock", time.time)),
        extractor=build_extractor(llm_base_url=settings.llm_base_url, llm_model=settings.llm_model,
                                  llm_api_key=settings.llm_api_key.get_secret_value(),
                                  timeout_s=settings.llm_timeout_seconds))
    ctx[DEPS_KEY] = worker
    try:
        await worker.search.ensure_index()
        await worker.memory_index.ensure_index()
        worker.memory_index_ready.set()
    except (SearchUnavailable, TaskFailed) as err:  # indexing catches up once Meilisearch is back
        log.warning("search_index_setup_deferred", error=str(err)[:200])
    log.info("worker_started")


async def shutdown(ctx: dict[str, Any]) -> None:
    """arq ``on_shutdown``: close what ``startup`` opened (nothing when it did not get that far).
    Runs once: a second call (a test's teardown, after a cancelled worker skipped it) does nothing."""
    if DEPS_KEY not in ctx:
        return
    worker = deps(ctx)
    del ctx[DEPS_KEY]
    await worker.search.client.close()
    await worker.webhook_sender.close()  # before the client its sends use
    await worker.http.aclose()
    await worker.redis_client.close()
    await worker.leases.close()
    await worker.engine.dispose()


async def purge_expired(ctx: dict[str, Any]) -> int:
    """Delete idempotency records and erasure receipts past their expiry (kept at least 24 h),
    outbox rows done more than a day ago, the files of exports past their retention (the export
    reads ``expired``) and of failed imports and exports (nothing reads them again), and ask
    sessions past ``ASK_SESSION_TTL_HOURS``, and change-stream events past ``EVENTS_RETENTION_DAYS``
    (``purge_events``)."""
    worker = deps(ctx)
    retention_s = worker.settings.export_retention_days * 86_400
    async with worker.engine.begin() as conn:
        expired = await conn.execute(text(
            "WITH gone AS (UPDATE exports SET status = 'expired', updated_at = now() WHERE status = 'completed' "
            "AND completed_at <= now() - make_interval(secs => :secs) RETURNING workspace_id, id) "
            "DELETE FROM export_chunks c USING gone "
            "WHERE c.workspace_id = gone.workspace_id AND c.export_id = gone.id"),
            {"secs": retention_s})
        failed_exports = await conn.execute(text(
            "DELETE FROM export_chunks c USING exports e WHERE e.workspace_id = c.workspace_id "
            "AND e.id = c.export_id AND e.status = 'failed'"))
        failed_imports = await conn.execute(text(
            "DELETE FROM import_chunks c USING imports i WHERE i.workspace_id = c.workspace_id "
            "AND i.id = c.import_id AND i.status = 'failed'"))
    async with worker.engine.begin() as conn:
        keys = await conn.execute(text(
            "DELETE FROM idempotency_keys WHERE workspace_id IS NOT NULL AND expires_at <= now()"))
        done = await conn.execute(text(
            "DELETE FROM outbox WHERE workspace_id IS NOT NULL AND processed_at < now() - interval '1 day'"))
        receipts = await conn.execute(text("DELETE FROM erasure_receipts WHERE expires_at <= now()"))
        sessions = await conn.execute(text(
            "DELETE FROM ask_sessions WHERE workspace_id IS NOT NULL "
            "AND updated_at < now() - make_interval(secs => :s)"), {"s": worker.settings.ask_session_ttl_hours * 3600})
    purged = await purge_events(worker.engine, worker.settings.events_retention_days * 86_400)
    return purged + sum(int(getattr(r, "rowcount", 0) or 0) for r in (keys, done, receipts, expired, failed_exports,
                                                                       failed_imports, sessions))


async def purge_events(engine: AsyncEngine, retention_s: float) -> int:
    """Delete, in each workspace, every change-stream event up to its newest one older than the
    retention, and raise the workspace's ``purged_through`` to it: a cursor below it answers 410,
    so a client learns it missed events instead of silently skipping them."""
    async with engine.begin() as conn:
        result = await conn.execute(text(
            "WITH cut AS (SELECT workspace_id, max(position) AS top FROM events WHERE position IS NOT NULL "
            "AND created_at < now() - make_interval(secs => :secs) GROUP BY workspace_id), "
            "heads AS (UPDATE event_heads h SET purged_through = GREATEST(h.purged_through, cut.top) FROM cut "
            "WHERE h.workspace_id = cut.workspace_id) "
            "DELETE FROM events e USING cut WHERE e.workspace_id = cut.workspace_id AND e.position <= cut.top"),
            {"secs": retention_s})
    return int(getattr(result, "rowcount", 0) or 0)


ANALYZED_TABLES = (*records_repository.TABLES, "tasks", "task_entities")


async def analyze_after_bulk_writes(ctx: dict[str, Any]) -> list[str]:
    """Refresh planner statistics of the tables a bulk load has changed by more than 5 % (and
    10,000 rows) since their last ANALYZE. Without them, the first queries after a large import
    planned a nested loop that took seconds; autovacuum gets there too, but minutes later."""
    async with deps(ctx).engine.connect() as conn:
        stale = [r.relname for r in (await conn.execute(text(
            "SELECT relname FROM pg_stat_user_tables WHERE relname = ANY(:tables) AND n_mod_since_analyze > 10000 "
            "AND n_mod_since_analyze > 0.05 * GREATEST(n_live_tup, 1)"), {"tables": list(ANALYZED_TABLES)})).all()]
        await conn.rollback()
        for table in stale:
            if table in ANALYZED_TABLES:  # names from our own list only
                await conn.execute(text(f"ANALYZE {table}"))
                await conn.commit()
    if stale:
        log.info("tables_analyzed", tables=stale)
    return stale
