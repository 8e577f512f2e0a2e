"""The compounding cron: queue each scheduled job type (``COMPOUNDING_SCHEDULE``) for the
workspaces that are due, at most ``COMPOUNDING_WORKSPACES_PER_CYCLE`` per type and cycle, the
least recently run first.

A workspace is due for a job type when no run of that type (a real one: dry runs do not count)
is queued or running there, its interval has passed since the last run was queued, and insights
arrived since (the decay sweep: when it has any insights, since decay is about time passing
without new ones).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import structlog
from sqlalchemy import text

from tessera.changes import Actor, Changes, Stamp
from tessera.compounding.schedule import JobType, parse_schedule
from tessera.compounding.service import COMPOUNDING_JOB, arq_job_id, trigger_job
from tessera.db.tenant import Tenant
from workers.deps import deps

log = structlog.get_logger(__name__)

_DUE = (
    "SELECT w.id FROM workspaces w LEFT JOIN LATERAL (SELECT j.created_at FROM compounding_jobs j "
    "WHERE j.workspace_id = w.id AND j.job_type = :t AND NOT j.dry_run ORDER BY j.created_at DESC LIMIT 1) "
    "AS last ON true WHERE (last.created_at IS NULL OR last.created_at <= now() - make_interval(secs => :s)) "
    "AND NOT EXISTS (SELECT 1 FROM compounding_jobs p WHERE p.workspace_id = w.id AND p.job_type = :t "
    "AND NOT p.dry_run AND p.status IN ('pending', 'processing')) "
    "AND EXISTS (SELECT 1 FROM insights i WHERE i.workspace_id = w.id AND i.merged_into IS NULL "
    "AND (:any OR i.created_at > coalesce(last.created_at, '-infinity'))) "
    "ORDER BY last.created_at NULLS FIRST, w.id LIMIT :n")


async def schedule_compounding(ctx: dict[str, Any]) -> int:
    """Cron: queue the compounding runs that are due. Returns how many were queued."""
    worker = deps(ctx)
    schedule = parse_schedule(worker.settings.compounding_schedule)
    queued = 0
    for job_type, interval in schedule.items():
        async with worker.engine.connect() as conn:
            due = (await conn.execute(text(_DUE), {
                "t": job_type, "s": interval.total_seconds(), "any": job_type == "decay_sweep",
                "n": worker.settings.compounding_workspaces_per_cycle})).scalars().all()
        for workspace_id in due:
            queued += await queue_run(worker, int(workspace_id), job_type)
    if queued:
        log.info("compounding_runs_queued", count=queued)
    return queued


async def queue_run(worker: Any, workspace_id: int, job_type: JobType) -> int:
    """Store one scheduled run and queue it; 1 when queued."""
    changes = Changes(worker.ids, Stamp(Actor("compounding_schedule", job_type), datetime.now(UTC)))
    async with worker.engine.begin() as conn:
        tenant = Tenant(conn, workspace_id)
        job_id, _ = await trigger_job(tenant, changes, job_type, dry_run=False, trigger="schedule")
    # Queued by hand: this transaction has no unit of work to do it after commit. A lost entry is
    # found again by the stranded-job sweep (a row pending for more than 10 s).
    await worker.redis_client.enqueue(COMPOUNDING_JOB, workspace_id, job_id, job_id=arq_job_id(job_id))
    return 1
