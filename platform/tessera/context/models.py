"""Models of the context, insight, ask, AI-list and graph endpoints (the spec's shapes)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, JsonValue

from tessera.wire import QueryModel, RequestModel, ResponseModel

MAX_CONTENT = 100_000


class AddContextTextRequest(RequestModel):
    content: str = Field(min_length=1, max_length=MAX_CONTENT)
    context: str | None = Field(default=None, max_length=2000)


class AddContextTextResponse(ResponseModel):
    artifact_id: int


class GetArtifactResponse(ResponseModel):
    operation_id: int
    status: Literal["unknown", "pending", "processing", "completed", "failed"]
    result: dict[str, JsonValue] | None = None
    error: str | None = None
    created_at: str
    completed_at: str | None = None


class InsightsQuery(QueryModel):
    last: str | None = Field(default=None, max_length=16, description="Rolling window: 30m, 2h, 7d, 2w")
    from_: str | None = Field(default=None, alias="from", max_length=40, description="RFC3339 start")
    to: str | None = Field(default=None, max_length=40, description="RFC3339 end")
    limit: int = Field(default=20, ge=1, le=100)


class InsightEntity(ResponseModel):
    id: str
    name: str
    type: str


class InsightResponse(ResponseModel):
    id: str
    workspace_id: str
    content: str
    type: str
    entities: list[InsightEntity]
    created_at: str


class InsightsResponse(ResponseModel):
    data: list[InsightResponse]


class QueryContextRequest(RequestModel):
    query: str = Field(min_length=1, max_length=2000)
    session_id: str | None = Field(default=None, max_length=64, description="Continue a conversation")


class QueryContextResponse(ResponseModel):
    answer: str
    entities_considered: list[dict[str, JsonValue]]
    signals_used: list[dict[str, JsonValue]]
    metadata: dict[str, JsonValue]
    session_id: str


class CreateAIListJobRequest(RequestModel):
    query: str = Field(min_length=1, max_length=1000)
    object_type: Literal["contact", "company"] = "contact"
    limit: int = Field(default=50, ge=1, le=100)
    include_attributes: bool = False


class IncludeAttributesQuery(QueryModel):
    include_attributes: bool | None = None


class AIListJobResponse(ResponseModel):
    message: dict[str, JsonValue]
    job_id: str
    status: str


class GraphQuery(QueryModel):
    limit: int = Field(default=1000, ge=1, le=5000)
    format: Literal["json", "html"] = "json"


class GraphResponse(ResponseModel):
    nodes: list[dict[str, JsonValue]]
    edges: list[dict[str, JsonValue]]
    relationship_definitions: list[dict[str, JsonValue]]
    context_edges: list[dict[str, JsonValue]]
    insight_nodes: list[dict[str, JsonValue]]
    insights: dict[str, list[dict[str, JsonValue]]]
    total_nodes: int
    total_edges: int
    total_context_edges: int
