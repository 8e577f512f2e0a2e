"""Models of ``POST /v1/search`` (``developer.SearchRequest`` / ``developer.SearchResponse``)."""

from __future__ import annotations

from pydantic import Field, JsonValue

from tessera.wire import RequestModel, ResponseModel


class SearchRequest(RequestModel):
    query: str = Field(min_length=1, max_length=500)
    object_types: list[str] | None = Field(default=None, min_length=1, max_length=50,
                                           description="Object slugs to search (beyond the spec; default all)")
    limit: int = Field(default=10, ge=1, le=100, description="Results per object type (beyond the spec)")
    filter: dict[str, JsonValue] | None = Field(default=None, description="Record query language; needs exactly one "
                                                                     "object type (beyond the spec)")


class SearchResult(ResponseModel):
    id: str
    primary_value: str
    matched_value: str
    score: float
    entity_definition_id: str


class SearchResponse(ResponseModel):
    results: dict[str, list[SearchResult]]
    errored_search_types: list[str]
    degraded: bool = Field(description="True when Meilisearch was unavailable and PostgreSQL answered")
