"""Compounding job runs as the spec's JSON (``compounding.TriggerJobResponse``, ``JobStatusResponse``)."""

from __future__ import annotations

import uuid
from typing import Final

from tessera.compounding.repository import JobRun
from tessera.wire import JsonObject, iso

STATUS: Final = {"pending": "accepted", "processing": "running", "completed": "completed", "failed": "failed"}
"""Row status -> the spec's: a row waits ``pending`` (accepted) and runs ``processing`` (running)."""


def trigger_to_json(run_id: uuid.UUID, job_type: str, workspace_id: int, dry_run: bool) -> JsonObject:
    return {"job_run_id": str(run_id), "job_type": job_type, "workspace_id": workspace_id, "dry_run": dry_run,
            "status": "accepted", "success": True}


def job_to_json(job: JobRun, workspace_id: int) -> JsonObject:
    """A run's status; ``completed_at`` and ``duration_ms`` once it ended, ``error_details`` when
    it failed, ``result`` (beyond the spec) once it completed."""
    out: JsonObject = {
        "job_run_id": str(job.run_id), "job_type": job.job_type, "workspace_id": workspace_id,
        "status": STATUS[job.status], "dry_run": job.dry_run, "insights_scanned": job.insights_scanned,
        "insights_affected": job.insights_affected, "candidates_created": job.candidates_created,
        "errors": job.errors, "started_at": iso(job.created_at)}
    if job.completed_at is not None:
        out["completed_at"] = iso(job.completed_at)
        out["duration_ms"] = max(0, round((job.completed_at - job.created_at).total_seconds() * 1000))
    if job.status == "failed" or job.error_details:
        out["error_details"] = job.error_details or {"message": job.error or "the job failed"}
    if job.result is not None:
        out["result"] = job.result
    return out
