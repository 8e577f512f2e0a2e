"""The compounding job: one run of one job type over one workspace, its row in
``compounding_jobs`` (leased, claimed, failed and requeued by ``workers.jobs``, kind
``COMPOUNDING``).

The work and the row's ``completed`` mark commit in one transaction, so a worker that dies mid-run
leaves nothing half-written: the stranded-job sweep queues the run again and it starts over. The
work of every job type is idempotent (merges are decided from what is still active, patterns and
rules are upserted by fingerprint, decay is computed from the last reinforcement, a snapshot is
keyed by its run), so a rerun or a retry never duplicates anything. Runs of one workspace take
turns (a transaction-level advisory lock): a consolidation never races a pattern detection.

A dry run does the same work in a transaction it then rolls back, and records its counters in a
transaction of its own: its counts are exactly what a real run would change.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, Final

import orjson
import structlog

from tessera.changes import Actor, Changes, Stamp
from tessera.db.sql import Params
from tessera.db.tenant import Tenant
from workers.compounding import consolidation, decay, metrics, patterns, synthesis
from workers.compounding.runs import Outcome, RunContext
from workers.deps import WorkerDeps, deps
from workers.jobs import COMPOUNDING, MAX_ATTEMPTS, claim, fail, leased

log = structlog.get_logger(__name__)

WORK: Final[dict[str, Callable[[RunContext], Awaitable[Outcome]]]] = {
    "consolidation": consolidation.consolidate,
    "pattern_detection": patterns.detect_patterns,
    "playbook_synthesis": synthesis.synthesize,
    "decay_sweep": decay.sweep,
    "metrics": metrics.snapshot,
}


class DryRunDone(Exception):
    """Raised to roll a dry run's transaction back once its outcome is known."""


async def lock_workspace(tenant: Tenant) -> None:
    """Wait for the workspace's other compounding run (if any) to commit or roll back."""
    await (await tenant.driver()).execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
                                          f"tessera:compounding:{tenant.workspace_id}")


async def _mark_completed(tenant: Tenant, job_id: int, outcome: Outcome, now: datetime) -> None:
    params = Params()
    job = params.add(job_id)
    scanned, affected, created, errors = (params.add(n) for n in (
        outcome.insights_scanned, outcome.insights_affected, outcome.candidates_created, outcome.errors))
    result = params.add(orjson.dumps(outcome.result).decode(), "jsonb")
    at = params.add(now)
    await tenant.fetch(
        f"UPDATE compounding_jobs SET status = 'completed', insights_scanned = {scanned}, "
        f"insights_affected = {affected}, candidates_created = {created}, errors = errors + {errors}, "
        f"result = {result}, error = NULL, completed_at = {at}, updated_at = {at} "
        f"WHERE workspace_id = $1 AND id = {job} AND status <> 'completed'", *params.values)


async def run_job(worker: WorkerDeps, workspace_id: int, job: dict[str, Any]) -> Outcome | None:
    """Do a claimed run's work and mark it completed (for a dry run: do it, roll it back, then
    mark it). None when it was completed meanwhile."""
    db = worker.engine
    now = datetime.now(UTC)
    changes = Changes(worker.ids, Stamp(Actor("compounding", str(job["id"])), now))
    work = WORK[job["job_type"]]
    outcome: Outcome | None = None
    with contextlib.suppress(DryRunDone):
        async with db.begin() as conn:
            tenant = Tenant(conn, workspace_id)
            await lock_workspace(tenant)
            params = Params()
            current = await tenant.fetchrow(
                f"SELECT status FROM compounding_jobs WHERE workspace_id = $1 AND id = {params.add(job['id'])} "
                "FOR UPDATE", *params.values)
            if current is None or current["status"] == "completed":
                return None
            run = RunContext(tenant=tenant, changes=changes, settings=worker.settings, now=now, job_id=job["id"],
                             embedder=worker.embedder)
            outcome = await work(run)
            if job["dry_run"]:
                raise DryRunDone
            await changes.flush(tenant)
            await _mark_completed(tenant, job["id"], outcome, datetime.now(UTC))
    if outcome is not None and job["dry_run"]:
        async with db.begin() as conn:
            outcome.result = {"dry_run": True, **outcome.result}
            await _mark_completed(Tenant(conn, workspace_id), job["id"], outcome, datetime.now(UTC))
    return outcome


@leased(COMPOUNDING)
async def process_compounding_job(ctx: dict[str, Any], workspace_id: int, job_id: int) -> str:
    """arq job: run one compounding job (idempotent: a completed run is left alone)."""
    worker = deps(ctx)
    db = worker.engine
    job = await claim(db, COMPOUNDING, workspace_id, job_id)
    if job is None:
        return "skipped"
    try:
        outcome = await run_job(worker, workspace_id, job)
    except Exception as err:  # report any failure on the run itself; the sweep retries it
        log.warning("compounding_job_failed", job_id=job_id, job_type=job["job_type"], error_type=type(err).__name__)
        with contextlib.suppress(Exception):
            await fail(db, COMPOUNDING, workspace_id, job_id, job["attempts"], err)
            async with db.begin() as conn:
                params = Params()
                job_row = params.add(job_id)
                max_attempts = params.add(MAX_ATTEMPTS, "int")
                await Tenant(conn, workspace_id).fetch(
                    "UPDATE compounding_jobs SET errors = errors + 1, error_details = jsonb_build_object("
                    "'message', error, 'attempt', attempts, 'will_retry', status = 'pending', 'max_attempts', "
                    f"{max_attempts}) WHERE workspace_id = $1 AND id = {job_row}", *params.values)
        return "failed"
    if outcome is None:
        return "skipped"
    log.info("compounding_job_completed", job_id=job_id, job_type=job["job_type"], dry_run=job["dry_run"],
             scanned=outcome.insights_scanned, affected=outcome.insights_affected,
             created=outcome.candidates_created)
    if not job["dry_run"] and job["job_type"] == "consolidation" and outcome.insights_affected:
        await worker.redis_client.enqueue("relay_memory", job_id="relay_memory")
    return "completed"
