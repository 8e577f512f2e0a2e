"""Request and response models of notes."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from tessera.wire import QueryModel, RequestModel, ResponseModel

MAX_CONTENT = 100_000
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


class CreateNoteRequest(RequestModel):
    title: Title
    content: str | None = Field(default=None, max_length=MAX_CONTENT, description="Markdown, up to 100,000 chars")
    entity_id: str | None = Field(default=None, max_length=40)


class UpdateNoteRequest(RequestModel):
    title: Title | None = None
    content: str | None = Field(default=None, max_length=MAX_CONTENT)
    entity_id: str | None = Field(default=None, max_length=40, description="Change (or, with null, drop) the record")


class ListNotesQuery(QueryModel):
    entity_id: str | None = Field(default=None, max_length=40)
    include_archived: bool = False


class NoteResponse(ResponseModel):
    id: str
    title: str
    content: str
    entity_id: str | None = None
    created_by: str
    created_by_id: str
    created_at: str
    updated_at: str
    archived_at: str | None = None


class ListNotesResponse(ResponseModel):
    data: list[NoteResponse]
