"""SQL of compounding job rows (the jobs' own reads and writes live with them, in ``workers``)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import orjson

from tessera.db.sql import WORKSPACE, Params
from tessera.db.tenant import Tenant
from tessera.wire import JsonObject

_COLUMNS = ("id, run_id, job_type, dry_run, trigger, status, insights_scanned, insights_affected, candidates_created, "
            "errors, error, error_details, result, created_at, updated_at, completed_at")


@dataclass(frozen=True, slots=True)
class JobRun:
    """One run of a compounding job, as its row holds it."""

    id: int
    run_id: uuid.UUID
    job_type: str
    dry_run: bool
    trigger: str
    status: str
    insights_scanned: int
    insights_affected: int
    candidates_created: int
    errors: int
    error: str | None
    error_details: JsonObject | None
    result: JsonObject | None
    created_at: datetime
    completed_at: datetime | None


def _object(stored: object) -> JsonObject | None:
    decoded = orjson.loads(stored) if isinstance(stored, str | bytes) else stored
    return decoded if isinstance(decoded, dict) else None


async def insert_job(tenant: Tenant, job_id: int, run_id: uuid.UUID, job_type: str, *, dry_run: bool,
                     trigger: str, now: datetime) -> None:
    params = Params()
    await tenant.fetch(
        "INSERT INTO compounding_jobs (workspace_id, id, run_id, job_type, dry_run, trigger, created_at, updated_at) "
        f"VALUES ({WORKSPACE}, {params.add(job_id)}, {params.add(run_id)}, {params.add(job_type)}, "
        f"{params.add(dry_run)}, {params.add(trigger)}, {params.add(now)}, {params.add(now)})", *params.values)


async def get_job(tenant: Tenant, run_id: uuid.UUID) -> JobRun | None:
    params = Params()
    row = await tenant.fetchrow(
        f"SELECT {_COLUMNS} FROM compounding_jobs WHERE workspace_id = {WORKSPACE} AND run_id = {params.add(run_id)}",
        *params.values)
    if row is None:
        return None
    return JobRun(id=row["id"], run_id=row["run_id"], job_type=row["job_type"], dry_run=row["dry_run"],
                  trigger=row["trigger"], status=row["status"], insights_scanned=row["insights_scanned"],
                  insights_affected=row["insights_affected"], candidates_created=row["candidates_created"],
                  errors=row["errors"], error=row["error"], error_details=_object(row["error_details"]),
                  result=_object(row["result"]), created_at=row["created_at"], completed_at=row["completed_at"])
