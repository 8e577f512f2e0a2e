"""Request and response models of briefs, playbooks and agent skills (the shapes the vendor's MCP
client sends and reads: ``mcp/dist/tools/playbooks.js``, ``skills.js``, ``brief-sync.js``,
``skill-sync.js``)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from tessera.wire import QueryModel, RequestModel, ResponseModel

ContextId = Annotated[str, StringConstraints(min_length=1, max_length=40)]


class ListBriefsQuery(QueryModel):
    scope_type: int | None = Field(
        default=None, ge=1, le=3, description="1 entity briefs, 2 workspace playbooks, 3 private briefs; omit for all")
    limit: int = Field(default=50, ge=1, le=200)
    offset: int = Field(default=0, ge=0, le=100_000)


class HistoryQuery(QueryModel):
    limit: int = Field(default=10, ge=1, le=50)


class CompileBriefRequest(RequestModel):
    context_id: ContextId | None = Field(
        default=None, description="The record id to compile a brief of; omit to compile the workspace playbook")
    is_private: bool = Field(default=False, description="A brief visible only to the API key that compiles it")


class ListSkillsQuery(QueryModel):
    limit: int = Field(default=50, ge=1, le=200)
    offset: int = Field(default=0, ge=0, le=100_000)


class CompileSkillsRequest(RequestModel):
    force: bool = Field(default=False, description="Recompile every skill, even the unchanged ones")


class BriefResponse(ResponseModel):
    id: str
    title: str
    slug: str | None = None
    scope_type: int
    context_id: str | None = None
    is_private: bool
    input_hash: str
    version: int
    created_at: str
    updated_at: str
    compiled_at: str
    content: str | None = None


class BriefListResponse(ResponseModel):
    data: list[BriefResponse]
    total: int
    limit: int
    offset: int
    has_more: bool


class CompileBriefResponse(BriefResponse):
    status: Literal["created", "updated", "unchanged"]


class BriefVersionResponse(ResponseModel):
    version: int
    input_hash: str
    created_at: str
    summary: str
    changes: dict[str, list[str]]


class BriefHistoryResponse(ResponseModel):
    id: str
    version: int
    data: list[BriefVersionResponse]


class SkillResponse(ResponseModel):
    id: str
    slug: str
    name: str
    title: str
    description: str
    trigger: str
    confidence: float
    rule_id: str
    version: int
    input_hash: str
    created_at: str
    updated_at: str
    content: str | None = None


class SkillListResponse(ResponseModel):
    data: list[SkillResponse]
    total: int
    limit: int
    offset: int
    has_more: bool


class CompileSkillsResponse(ResponseModel):
    created: int
    updated: int
    unchanged: int
    removed: int
    total: int
    data: list[SkillResponse]
