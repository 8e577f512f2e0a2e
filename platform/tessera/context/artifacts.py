"""Artifacts (text fed in for extraction) and AI list jobs: created here, processed by workers."""

from __future__ import annotations

from tessera.changes import Changes
from tessera.context import memory, repository
from tessera.context.models import CreateAIListJobRequest
from tessera.context.repository import Artifact, ListJob
from tessera.db.tenant import Tenant
from tessera.errors import NotFound

ARTIFACT_JOB = "process_artifact"
LIST_JOB = "process_list_job"


async def create_artifact(tenant: Tenant, changes: Changes, *, content: str, context: str | None) -> int:
    """Store an artifact, remember its passages and queue its extraction (after commit)."""
    (artifact_id,) = await changes.ids.take(tenant.conn, 1)
    await repository.insert_artifact(tenant, artifact_id, content=content, context=context or "",
                                     created_by_id=changes.actor.id, now=changes.now)
    await memory.remember(tenant, changes, "artifact", artifact_id, content, context=context or "",
                          created_at=changes.now)
    changes.enqueue(ARTIFACT_JOB, tenant.workspace_id, artifact_id, job_id=f"artifact:{artifact_id}")
    return artifact_id


async def get_artifact(tenant: Tenant, artifact_id: int | None) -> Artifact:
    """The artifact, or 404 (also for an id that cannot be one of ours: ``artifact_id`` None)."""
    artifact = await repository.get_artifact(tenant, artifact_id) if artifact_id is not None else None
    if artifact is None:
        raise NotFound("Artifact not found")
    return artifact


async def create_list_job(tenant: Tenant, changes: Changes, request: CreateAIListJobRequest) -> int:
    """Store an AI list job and queue it (after commit)."""
    (job_id,) = await changes.ids.take(tenant.conn, 1)
    await repository.insert_list_job(tenant, job_id, query=request.query, object_type=request.object_type,
                                     limit=request.limit, include_attributes=request.include_attributes,
                                     now=changes.now)
    changes.enqueue(LIST_JOB, tenant.workspace_id, job_id, job_id=f"list:{job_id}")
    return job_id


async def get_list_job(tenant: Tenant, job_id: int | None) -> ListJob:
    """The job, or 404 (also for an id that cannot be one of ours: ``job_id`` None)."""
    job = await repository.get_list_job(tenant, job_id) if job_id is not None else None
    if job is None:
        raise NotFound("List job not found")
    return job
