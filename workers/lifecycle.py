"""Worker process start-up/shutdown and housekeeping jobs."""

from __future__ import annotations

from typing import Any

import structlog
from sqlalchemy import text

from search.client import MeiliClient, SearchUnavailable, TaskFailed
from search.engine import SearchEngine
from tessera.db.engine import create_engine
from tessera.logs import configure_logging
from tessera.settings import Settings
from workers.search_indexer import Schemas

log = structlog.get_logger(__name__)


def search_engine(settings: Settings) -> SearchEngine:
    client = MeiliClient(settings.meili_url, settings.meili_master_key.get_secret_value())
    return SearchEngine(client, f"{settings.meili_index_prefix}_records")


async def startup(ctx: dict[str, Any]) -> None:
    settings: Settings = ctx.get("settings") or Settings()
    configure_logging(settings.log_level, settings.log_format)
    ctx["settings"] = settings
    ctx["engine"] = create_engine(settings, pool_size=5)
    ctx["search"] = search_engine(settings)
    ctx["schemas"] = Schemas()
    try:
        await ctx["search"].ensure_index()
    except (SearchUnavailable, TaskFailed) as err:  # indexing catches up once Meilisearch is back
        log.warning("search_index_setup_deferred", error=str(err)[:200])
    log.info("worker_started")


async def shutdown(ctx: dict[str, Any]) -> None:
    if "search" in ctx:
        await ctx["search"].client.close()
    if "engine" in ctx:
        await ctx["engine"].dispose()


async def purge_expired(ctx: dict[str, Any]) -> int:
    """Delete idempotency records past their expiry (kept at least 24 h) and outbox rows done
    more than a day ago."""
    async with ctx["engine"].begin() as conn:
        keys = await conn.execute(text(
            "DELETE FROM idempotency_keys WHERE workspace_id IS NOT NULL AND expires_at <= now()"))
        done = await conn.execute(text(
            "DELETE FROM outbox WHERE workspace_id IS NOT NULL AND processed_at < now() - interval '1 day'"))
    return int(getattr(keys, "rowcount", 0) or 0) + int(getattr(done, "rowcount", 0) or 0)
