"""Worker process start-up/shutdown and housekeeping jobs."""

from __future__ import annotations

from typing import Any

import structlog
from sqlalchemy import text

from tessera.db.engine import create_engine
from tessera.logs import configure_logging
from tessera.settings import Settings

log = structlog.get_logger(__name__)


async def startup(ctx: dict[str, Any]) -> None:
    settings = Settings()
    configure_logging(settings.log_level, settings.log_format)
    ctx["settings"] = settings
    ctx["engine"] = create_engine(settings, pool_size=5)
    log.info("worker_started")


async def shutdown(ctx: dict[str, Any]) -> None:
    engine = ctx.get("engine")
    if engine is not None:
        await engine.dispose()


async def purge_expired_idempotency_keys(ctx: dict[str, Any]) -> int:
    """Delete idempotency records past their expiry (kept at least 24 h)."""
    async with ctx["engine"].begin() as conn:
        result = await conn.execute(text(
            "DELETE FROM idempotency_keys WHERE workspace_id IS NOT NULL AND expires_at <= now()"))
    return int(result.rowcount or 0)
