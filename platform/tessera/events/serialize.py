"""Change stream events as JSON: the body a webhook receiver gets, with the event's cursor as ``id``."""

from __future__ import annotations

from typing import TypedDict

from tessera.events.repository import StoredEvent
from tessera.wire import JsonObject, iso


class EventJson(TypedDict):
    id: str
    type: str
    timestamp: str | None
    data: JsonObject


class EventListJson(TypedDict):
    data: list[EventJson]
    has_more: bool
    next_cursor: str


def event_to_json(event: StoredEvent) -> EventJson:
    return {"id": str(event.position), "type": event.event_type, "timestamp": iso(event.created_at),
            "data": event.data}
