"""Debounced brief refresh: a sweep finds the entity briefs whose record got enough new context
(notes, texts, insights naming it) and queues one job row per workspace; the job recompiles them,
one transaction per brief, counting as it goes. Recompiling is idempotent (an unchanged input makes
no new version), so a job that runs twice writes once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import structlog

from schema_registry.definitions import ObjectType
from tessera.briefs import repository
from tessera.briefs.refresh import RefreshPolicy, due_briefs
from tessera.briefs.service import BriefService
from tessera.db.tenant import Tenant
from tessera.records.repository import get_records
from tessera.settings import Settings
from workers.deps import deps
from workers.jobs import BRIEF_REFRESH, claim, fail, leased

log = structlog.get_logger(__name__)
MAX_WORKSPACES = 1_000


def policy_of(settings: Settings) -> RefreshPolicy:
    return RefreshPolicy(threshold=settings.brief_refresh_threshold,
                         quiet=timedelta(seconds=settings.brief_refresh_quiet_seconds),
                         max_wait=timedelta(seconds=settings.brief_refresh_max_wait_seconds))


async def schedule_brief_refreshes(ctx: dict[str, Any], now: datetime | None = None) -> int:
    """Cron: queue a refresh job for every workspace with briefs due a recompile. Returns how many
    jobs were queued."""
    worker = deps(ctx)
    settings = worker.settings
    policy = policy_of(settings)
    at = now or datetime.now(UTC)
    async with worker.engine.connect() as conn:
        workspaces = await repository.workspaces_with_briefs(conn, limit=MAX_WORKSPACES)
    queued = 0
    for workspace_id in workspaces:
        async with worker.engine.begin() as conn:
            tenant = Tenant(conn, workspace_id)
            due = await due_briefs(tenant, at, policy, limit=settings.brief_refresh_batch)
            row_id = await repository.queue_refresh(tenant, due) if due else None
        if row_id is not None:
            queued += 1
            await worker.redis_client.enqueue(BRIEF_REFRESH.function, workspace_id, row_id,
                                              job_id=BRIEF_REFRESH.job_id(row_id))
    return queued


@leased(BRIEF_REFRESH)
async def refresh_briefs(ctx: dict[str, Any], workspace_id: int, row_id: int) -> str:
    """arq job: recompile the briefs of one refresh row (a finished row is left alone)."""
    worker = deps(ctx)
    db = worker.engine
    job = await claim(db, BRIEF_REFRESH, workspace_id, row_id)
    if job is None:
        return "skipped"
    try:
        async with db.begin() as conn:
            tenant = Tenant(conn, workspace_id)
            await repository.restart_refresh(tenant, row_id)
            briefs = await repository.entity_briefs_by_id(tenant, list(job["brief_ids"]))
        for brief in briefs:
            async with db.begin() as conn:
                tenant = Tenant(conn, workspace_id)
                now = datetime.now(UTC)
                current = await repository.by_key(tenant, brief.key)
                rows = await get_records(tenant, [brief.record_id]) if brief.record_id is not None else []
                schema = await worker.schemas_cache.for_write(tenant)
                obj = schema.object_by_id(rows[0].object_id) if rows else None
                if current is None or obj is None or obj.type == ObjectType.LIST:
                    continue  # the brief or its record is gone
                compiled = await BriefService(tenant, schema, now, brief.owner_key_id or 0).compile_record(
                    obj, rows[0], owner_key_id=brief.owner_key_id)
                await repository.count_refreshed(tenant, row_id, changed=compiled.outcome == "updated", now=now)
        async with db.begin() as conn:
            await repository.complete_refresh(Tenant(conn, workspace_id), row_id, datetime.now(UTC))
    except Exception as err:  # report any failure on the job itself
        log.warning("brief_refresh_failed", row_id=row_id, error_type=type(err).__name__)
        await fail(db, BRIEF_REFRESH, workspace_id, row_id, job["attempts"], err)
        return "failed"
    log.info("briefs_refreshed", workspace_id=workspace_id, row_id=row_id, briefs=len(briefs))
    return "completed"
