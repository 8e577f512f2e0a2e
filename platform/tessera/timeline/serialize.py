"""Timeline events as the API shows them (``TimelineEvent`` / ``TimelineResponse``)."""

from __future__ import annotations

from typing import NotRequired, TypedDict

from tessera.timeline.repository import TimelineEvent
from tessera.timeline.service import HistoryEntry
from tessera.wire import JsonObject, JsonValue, iso


class TimelineEventJson(TypedDict):
    id: str
    resource_type: str
    resource_id: str
    event_type: str
    event_payload: JsonObject
    event_timestamp: str | None
    created_by: str
    created_by_id: str
    is_aggregated: bool
    children: list[TimelineEventJson]


class TimelineResponseJson(TypedDict):
    data: list[TimelineEventJson]
    has_next_page: bool
    next_cursor: NotRequired[str]


def event_to_json(event: TimelineEvent) -> TimelineEventJson:
    return {"id": str(event.id), "resource_type": event.resource_type, "resource_id": str(event.resource_id),
            "event_type": event.event_type, "event_payload": event.payload,
            "event_timestamp": iso(event.created_at), "created_by": event.actor, "created_by_id": event.actor_id,
            "is_aggregated": event.is_aggregated, "children": [event_to_json(c) for c in event.children]}


class HistoryActorJson(TypedDict):
    type: str
    id: str


class HistoryEntryJson(TypedDict):
    value: JsonValue
    active_from: str | None
    active_until: str | None
    actor: HistoryActorJson


class AttributeHistoryJson(TypedDict):
    data: list[HistoryEntryJson]


def history_to_json(entry: HistoryEntry) -> HistoryEntryJson:
    return {"value": entry.value, "active_from": iso(entry.active_from), "active_until": iso(entry.active_until),
            "actor": {"type": entry.actor, "id": entry.actor_id}}
