"""Artifacts (text fed in for extraction) and AI list jobs: created here, processed by workers."""

from __future__ import annotations

from typing import Any

import orjson

from tessera.changes import Changes
from tessera.context import memory
from tessera.db.tenant import Tenant
from tessera.errors import NotFound
from tessera.wire import iso, parse_id

ARTIFACT_JOB = "process_artifact"
LIST_JOB = "process_list_job"


async def create_artifact(tenant: Tenant, changes: Changes, *, content: str, context: str | None) -> int:
    """Store an artifact, remember its passages and queue its extraction (after commit)."""
    (artifact_id,) = await changes.ids.take(tenant.conn, 1)
    await tenant.fetch(
        "INSERT INTO artifacts (workspace_id, id, content, context, created_by_id, created_at, updated_at) "
        "VALUES ($1, $2, $3, $4, $5, $6, $6)", artifact_id, content, context or "", changes.actor.id, changes.now)
    await memory.remember(tenant, changes, "artifact", artifact_id, content, context=context or "",
                          created_at=changes.now)
    changes.enqueue(ARTIFACT_JOB, tenant.workspace_id, artifact_id, job_id=f"artifact:{artifact_id}")
    return artifact_id


def _json(value: Any) -> Any:
    return orjson.loads(value) if isinstance(value, str) else value


async def get_artifact(tenant: Tenant, raw_id: str) -> dict[str, Any]:
    artifact_id = parse_id(raw_id)
    row = await tenant.fetchrow(
        "SELECT id, status, result, error, created_at, completed_at FROM artifacts WHERE workspace_id = $1 AND id = $2",
        artifact_id) if artifact_id is not None else None
    if row is None:
        raise NotFound("Artifact not found")
    out: dict[str, Any] = {"operation_id": row["id"], "status": row["status"], "created_at": iso(row["created_at"])}
    if row["result"] is not None:
        out["result"] = _json(row["result"])
    if row["error"]:
        out["error"] = row["error"]
    if row["completed_at"] is not None:
        out["completed_at"] = iso(row["completed_at"])
    return out


async def create_list_job(tenant: Tenant, changes: Changes, body: Any) -> int:
    """Store an AI list job and queue it (after commit)."""
    (job_id,) = await changes.ids.take(tenant.conn, 1)
    await tenant.fetch(
        "INSERT INTO ai_list_jobs (workspace_id, id, query, object_type, result_limit, include_attributes, "
        "created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
        job_id, body.query, body.object_type, body.limit, body.include_attributes, changes.now)
    changes.enqueue(LIST_JOB, tenant.workspace_id, job_id, job_id=f"list:{job_id}")
    return job_id


async def get_list_job(tenant: Tenant, raw_id: str, include_attributes: bool | None) -> dict[str, Any]:
    job_id = parse_id(raw_id)
    row = await tenant.fetchrow(
        "SELECT id, status, interpretation, result, error, include_attributes, created_at FROM ai_list_jobs "
        "WHERE workspace_id = $1 AND id = $2", job_id) if job_id is not None else None
    if row is None:
        raise NotFound("List job not found")
    message: dict[str, Any] = {"job_id": str(row["id"]), "status": row["status"], "created_at": iso(row["created_at"])}
    if row["interpretation"]:
        message["query_interpretation"] = row["interpretation"]
    if row["status"] == "completed" and row["result"] is not None:
        entities = _json(row["result"])["entities"]
        show = row["include_attributes"] if include_attributes is None else include_attributes
        if not show:
            entities = [{k: v for k, v in e.items() if k != "attributes"} for e in entities]
        message["entities"] = entities
        message["count"] = len(entities)
    if row["status"] == "failed" and row["error"]:
        message["error"] = row["error"]
    return message
