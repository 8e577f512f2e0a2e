"""Models of the timeline and attribute-history endpoints."""

from __future__ import annotations

from pydantic import Field, JsonValue

from tessera.wire import QueryModel, ResponseModel


class TimelineQuery(QueryModel):
    limit: int = Field(default=50, ge=1, le=100)
    cursor: str | None = Field(default=None, max_length=500)
    aggregate: bool = Field(default=True, description="Fold bursts of updates into one event (beyond the spec)")


class FieldChange(ResponseModel):
    field_name: str
    old_value: JsonValue = None
    new_value: JsonValue = None


class TimelineEvent(ResponseModel):
    id: str
    resource_type: str
    resource_id: str
    event_type: str
    event_payload: dict[str, JsonValue]
    event_timestamp: str
    created_by: str
    created_by_id: str
    is_aggregated: bool
    children: list[TimelineEvent]


class TimelineResponse(ResponseModel):
    data: list[TimelineEvent]
    has_next_page: bool
    next_cursor: str | None = None


class HistoryActor(ResponseModel):
    type: str
    id: str


class HistoryEntry(ResponseModel):
    value: JsonValue
    active_from: str
    active_until: str | None
    actor: HistoryActor


class AttributeHistoryResponse(ResponseModel):
    data: list[HistoryEntry]
