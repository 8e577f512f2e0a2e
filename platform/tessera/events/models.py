"""Models of the change stream endpoints (``GET /v1/events``, ``GET /v1/events/stream``)."""

from __future__ import annotations

from pydantic import Field, JsonValue

from tessera.wire import QueryModel, ResponseModel

OBJECT_HELP = "Only events of these objects or lists (slugs; comma-separated, or the parameter repeated)"
TYPE_HELP = ("Only these event types (record.created, record.*, ...; comma-separated, or the parameter "
             "repeated)")
CURSOR_HELP = "An event id (or a page's next_cursor): events after it"


class EventsQuery(QueryModel):
    cursor: str | None = Field(default=None, max_length=40, description=CURSOR_HELP + "; none: the oldest kept")
    limit: int = Field(default=100, ge=1, le=500)
    object: str | None = Field(default=None, max_length=2000, description=OBJECT_HELP)
    type: str | None = Field(default=None, max_length=2000, description=TYPE_HELP)


class StreamQuery(QueryModel):
    cursor: str | None = Field(default=None, max_length=40,
                               description=CURSOR_HELP + "; Last-Event-ID wins; none: from now on")
    object: str | None = Field(default=None, max_length=2000, description=OBJECT_HELP)
    type: str | None = Field(default=None, max_length=2000, description=TYPE_HELP)


class EventResponse(ResponseModel):
    id: str = Field(description="The event's position in the workspace's stream: the cursor after it")
    type: str
    timestamp: str
    data: dict[str, JsonValue] = Field(description="What a webhook receiver gets in data")


class EventListResponse(ResponseModel):
    data: list[EventResponse]
    has_more: bool
    next_cursor: str = Field(description="Where the next page starts (also when this one was empty: poll with it)")
