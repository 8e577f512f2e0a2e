"""Compounding job runs: created here (and by the worker's schedule), run by ``workers.compounding``."""

from __future__ import annotations

import uuid

from tessera.changes import Changes
from tessera.compounding import repository
from tessera.compounding.repository import JobRun
from tessera.compounding.schedule import JobType
from tessera.db.tenant import Tenant
from tessera.errors import NotFound

COMPOUNDING_JOB = "process_compounding_job"


def arq_job_id(job_id: int) -> str:
    """The arq job id of a run's row (the worker's ``JobKind`` uses the same prefix)."""
    return f"compounding:{job_id}"


async def trigger_job(tenant: Tenant, changes: Changes, job_type: JobType, *, dry_run: bool,
                      trigger: str = "api") -> tuple[int, uuid.UUID]:
    """Store a run and queue it (after commit); returns its row id and its ``job_run_id``."""
    (job_id,) = await changes.ids.take(tenant.conn, 1)
    run_id = uuid.uuid4()
    await repository.insert_job(tenant, job_id, run_id, job_type, dry_run=dry_run, trigger=trigger, now=changes.now)
    changes.enqueue(COMPOUNDING_JOB, tenant.workspace_id, job_id, job_id=arq_job_id(job_id))
    return job_id, run_id


def parse_run_id(raw: str) -> uuid.UUID | None:
    """A ``job_run_id`` as the uuid it stands for; None when it cannot be one (it then names no run)."""
    if len(raw) > 64:
        return None
    try:
        return uuid.UUID(raw)
    except ValueError:
        return None


async def get_job(tenant: Tenant, run_id: uuid.UUID | None) -> JobRun:
    """The run, or 404 (also for a ``job_run_id`` that is no uuid: the spec answers only 404 here)."""
    job = await repository.get_job(tenant, run_id) if run_id is not None else None
    if job is None:
        raise NotFound("Compounding job not found")
    return job
