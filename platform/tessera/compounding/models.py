"""Models of the compounding endpoints (the spec's ``compounding.*`` shapes)."""

from __future__ import annotations

from typing import Literal

from pydantic import JsonValue

from tessera.compounding.schedule import JobType
from tessera.wire import RequestModel, ResponseModel


class TriggerJobRequest(RequestModel):
    job_type: JobType
    dry_run: bool = False


class TriggerJobResponse(ResponseModel):
    job_run_id: str
    job_type: JobType
    workspace_id: int
    dry_run: bool
    status: Literal["accepted"]
    success: bool


class JobStatusResponse(ResponseModel):
    job_run_id: str
    job_type: JobType
    workspace_id: int
    status: Literal["accepted", "running", "completed", "failed"]
    dry_run: bool
    insights_scanned: int
    insights_affected: int
    candidates_created: int
    errors: int
    started_at: str
    completed_at: str | None = None
    duration_ms: int | None = None
    error_details: dict[str, JsonValue] | None = None
    result: dict[str, JsonValue] | None = None
    """Beyond the spec: what the run found (a metrics run's snapshot, the patterns or rules it
    wrote, what a dry run would change)."""
