"""Context as the API shows it: artifacts, AI list jobs, insights (also as the stream's payload),
and the documents of ask and the graph. Pure functions of the rows."""

from __future__ import annotations

from datetime import datetime
from typing import NotRequired, TypedDict

import orjson

from tessera.context.insights import EntityRef, NamedInsight
from tessera.context.repository import Artifact, ListJob
from tessera.wire import JsonObject, JsonValue, iso


class ArtifactJson(TypedDict):
    """``developer.GetArtifactResponse``: ``result``, ``error`` and ``completed_at`` once there are any."""

    operation_id: int
    status: str
    created_at: str | None
    result: NotRequired[JsonValue]
    error: NotRequired[str]
    completed_at: NotRequired[str | None]


class ArtifactCreatedJson(TypedDict):
    artifact_id: int


class ListJobStatusJson(TypedDict):
    job_id: str
    status: str


class ListJobCreatedJson(ListJobStatusJson):
    """``developer.AIListJobResponse`` of a job just queued: its status, also under ``message``."""

    message: ListJobStatusJson


class ListJobJson(ListJobStatusJson):
    created_at: str | None
    query_interpretation: NotRequired[str]
    entities: NotRequired[list[JsonObject]]
    count: NotRequired[int]
    error: NotRequired[str]


class ListJobReplyJson(ListJobJson):
    """``developer.AIListJobResponse``: the job, and the same again under ``message``."""

    message: ListJobJson


class EntityRefJson(TypedDict):
    id: str
    name: str
    type: str


class InsightJson(TypedDict):
    """``developer.InsightResponse``."""

    id: str
    workspace_id: str
    content: str
    type: str
    entities: list[EntityRefJson]
    created_at: str | None


class InsightListJson(TypedDict):
    data: list[InsightJson]


def artifact_to_json(artifact: Artifact) -> ArtifactJson:
    out: ArtifactJson = {"operation_id": artifact.id, "status": artifact.status,
                         "created_at": iso(artifact.created_at)}
    if artifact.result is not None:
        out["result"] = artifact.result
    if artifact.error:
        out["error"] = artifact.error
    if artifact.completed_at is not None:
        out["completed_at"] = iso(artifact.completed_at)
    return out


def _entities(result: JsonValue) -> list[JsonObject]:
    """The ranked entities of a finished job's ``{"entities": [...]}``."""
    entities = result.get("entities") if isinstance(result, dict) else None
    return [e for e in entities if isinstance(e, dict)] if isinstance(entities, list) else []


def list_job_to_json(job: ListJob, include_attributes: bool | None) -> ListJobJson:
    """The job; a finished job's entities carry their attributes when ``include_attributes`` says
    so (None: as the job was created)."""
    message: ListJobJson = {"job_id": str(job.id), "status": job.status, "created_at": iso(job.created_at)}
    if job.interpretation:
        message["query_interpretation"] = job.interpretation
    if job.status == "completed" and job.result is not None:
        entities = _entities(job.result)
        show = job.include_attributes if include_attributes is None else include_attributes
        if not show:
            entities = [{k: v for k, v in e.items() if k != "attributes"} for e in entities]
        message["entities"] = entities
        message["count"] = len(entities)
    if job.status == "failed" and job.error:
        message["error"] = job.error
    return message


def list_job_reply(job: ListJob, include_attributes: bool | None) -> ListJobReplyJson:
    message = list_job_to_json(job, include_attributes)
    return {"message": message, **message}


def list_job_created(job_id: int) -> ListJobCreatedJson:
    message: ListJobStatusJson = {"job_id": str(job_id), "status": "pending"}
    return {"message": message, **message}


def entity_ref_to_json(ref: EntityRef) -> EntityRefJson:
    return {"id": str(ref.id), "name": ref.name, "type": ref.type}


def insight_to_json(named: NamedInsight, workspace_id: int) -> InsightJson:
    insight = named.insight
    return {"id": str(insight.id), "workspace_id": str(workspace_id), "content": insight.content,
            "type": insight.type, "entities": [entity_ref_to_json(e) for e in named.entities],
            "created_at": iso(insight.created_at)}


def insight_list_to_json(insights: list[NamedInsight], workspace_id: int) -> InsightListJson:
    return {"data": [insight_to_json(i, workspace_id) for i in insights]}


def stream_payload(workspace_id: int, workspace_name: str, insights: list[InsightJson], now: datetime) -> bytes:
    """The ``data`` of an ``insight.replay`` / ``insight.batch.created`` event."""
    return orjson.dumps({"workspace": {"id": str(workspace_id), "name": workspace_name}, "insights": insights,
                         "insight_count": len(insights), "emitted_at": iso(now)})


class EntityReferenceJson(TypedDict):
    """A record an answer rests on; ``count`` is how many memory items mention it."""

    id: int
    name: str
    type: str
    count: int


class EntityConsideredJson(TypedDict):
    id: int
    name: str
    type: str
    reason: str
    insights_matched: int
    score: float


class RankedPassageJson(TypedDict):
    memory_item_id: int
    source_type: str
    source_id: int
    score: float


class AskMetadataJson(TypedDict):
    query_type: str
    """``entity_specific`` or ``workspace_wide``."""
    total_entities_searched: int
    confidence: float
    retrieval: str
    degraded: bool
    recall_confidence: float
    recall_residual: float
    passages_considered: int
    answered_from_memory: bool
    passages_ranked: list[RankedPassageJson]
    not_answered_because: NotRequired[str]
    degraded_reason: NotRequired[str]
    resolved_query: NotRequired[str]
    """The question as retrieval read it, when it was a follow-up."""


class AskJson(TypedDict):
    """``developer.QueryContextResponse`` (and ``entity_references``, beyond the spec)."""

    answer: str
    entities_considered: list[EntityConsideredJson]
    entity_references: list[EntityReferenceJson]
    signals_used: list[JsonObject]
    metadata: AskMetadataJson
    session_id: str
