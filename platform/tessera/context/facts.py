"""What ask hands the reasoner (``IntelligencePort.answer``) and what it gets back: plain JSON
documents, so a reasoner in another process (an LLM) reads them as they are."""

from __future__ import annotations

from typing import NotRequired, TypedDict

from tessera.wire import JsonObject


class InsightFactJson(TypedDict):
    id: int
    type: str
    content: str
    confidence: float
    created_at: str | None


class NoteFactJson(TypedDict):
    title: str
    excerpt: str
    """The note's first 300 characters."""


class TaskFactJson(TypedDict):
    title: str
    due_date: str | None


class RelationshipFactJson(TypedDict):
    predicate: str
    other: str
    """The related record's display name."""
    other_id: int


class EntityFactsJson(TypedDict):
    """What the workspace knows about one record the question is about."""

    id: int
    type: str
    """``PERSON``, ``COMPANY`` or the object's slug."""
    name: str
    reason: str
    """Why the record was taken to be what the question is about."""
    score: float
    attributes: JsonObject
    insights: list[InsightFactJson]
    notes: list[NoteFactJson]
    tasks: list[TaskFactJson]
    relationships: list[RelationshipFactJson]


class PassageJson(TypedDict):
    """A remembered passage recall chose, with the older passages it replaces."""

    id: int
    """The memory item's id."""
    source_type: str
    source_id: int
    context: str
    content: str
    sentence: str
    created_at: str | None
    score: float
    entity_ids: list[int]
    replaces: list[PassageJson]
    artifact_id: NotRequired[int]
    """The artifact the passage came from (an insight's: the one it was read in)."""


class AskFactsJson(TypedDict):
    entities: list[EntityFactsJson]
    workspace_wide: bool
    """No record matched: the question is about the workspace as a whole."""
    total_entities_searched: int
    terms: dict[str, list[str]]
    passages: list[PassageJson]
    recall_confidence: float
    answerable: bool
    """Recall is confident that the best passages answer the question."""


class AnswerJson(TypedDict):
    answer: str
    confidence: float
    passages_cited: list[int]
    """Ids of the passages (memory items) the answer rests on."""
    signals_used: list[JsonObject]
