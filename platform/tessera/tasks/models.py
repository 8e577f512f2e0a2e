"""Request and response models of tasks (``developer.CreateTaskRequest`` and friends)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from tessera.wire import QueryModel, RequestModel, ResponseModel, Rfc3339

Priority = Literal["unspecified", "low", "medium", "high", "urgent"]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
Id = Annotated[str, StringConstraints(min_length=1, max_length=40)]
AssigneeId = Annotated[str, StringConstraints(min_length=1, max_length=100)]


class CreateTaskRequest(RequestModel):
    title: Title
    description: str | None = Field(default=None, max_length=10_000)
    priority: Priority | None = None
    due_date: Rfc3339 | None = None
    entity_ids: list[Id] | None = Field(default=None, max_length=100)
    assignee_ids: list[AssigneeId] | None = Field(default=None, max_length=50)


class UpdateTaskRequest(RequestModel):
    title: Title | None = None
    description: str | None = Field(default=None, max_length=10_000, description="Empty string clears it")
    priority: Priority | Literal[""] | None = Field(default=None, description="Empty string clears it")
    due_date: Rfc3339 | None = Field(default=None, description="null clears it")
    is_completed: bool | None = None
    entity_ids: list[Id] | None = Field(default=None, max_length=100)
    assignee_ids: list[AssigneeId] | None = Field(default=None, max_length=50)


class ListTasksQuery(QueryModel):
    entity_id: str | None = Field(default=None, max_length=40)
    assignee_id: str | None = Field(default=None, max_length=100)
    search: str | None = Field(default=None, min_length=1, max_length=200)
    is_completed: bool | None = None
    include_archived: bool = False
    limit: int = Field(default=100, ge=1, le=500)
    offset: int = Field(default=0, ge=0, le=1_000_000)


class TaskResponse(ResponseModel):
    id: str
    title: str
    description: str
    priority: str
    due_date: str | None = None
    is_completed: bool
    completed_at: str | None = None
    assignee_ids: list[str]
    entity_ids: list[str]
    created_by: str
    created_by_id: str
    created_at: str
    updated_at: str
    archived_at: str | None = None


class ListTasksResponse(ResponseModel):
    data: list[TaskResponse]
    has_more: bool
    total: int = Field(description="Matching tasks, counted up to 10,000 (10,000 means at least that many)")
    next_offset: int | None = None
