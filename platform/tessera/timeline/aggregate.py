"""Fold bursts of updates into one timeline event (pure).

Rule: consecutive events of one page (newest first) are folded together when each is an
``updated`` event of the same resource by the same actor and happened within
``WINDOW_SECONDS`` of the next newer one. The folded event keeps the newest event's id, time and
resource payload, lists every original event in ``children`` (newest first) and merges
``field_changes``: for each field, the oldest ``old_value`` and the newest ``new_value``.
Folding never crosses a page boundary, so a cursor walk still meets every event exactly once,
either on its own or as a child.
"""

from __future__ import annotations

from dataclasses import replace

from tessera.timeline.repository import TimelineEvent
from tessera.wire import JsonObject, JsonValue

WINDOW_SECONDS = 60.0


def _same_burst(newer: TimelineEvent, older: TimelineEvent) -> bool:
    return (newer.event_type == older.event_type == "updated"
            and newer.resource_type == older.resource_type
            and newer.resource_id == older.resource_id
            and newer.actor_id == older.actor_id
            and (newer.created_at - older.created_at).total_seconds() <= WINDOW_SECONDS)


def _field_changes(payload: JsonObject) -> list[JsonObject]:
    changes = payload.get("field_changes", [])
    return [c for c in changes if isinstance(c, dict)] if isinstance(changes, list) else []


def _merge(group: list[TimelineEvent]) -> TimelineEvent:
    newest = group[0]
    merged: dict[str, JsonObject] = {}
    for event in reversed(group):  # oldest first
        for change in _field_changes(event.payload):
            name = change.get("field_name")
            if not isinstance(name, str):
                continue
            if name in merged:
                merged[name]["new_value"] = change.get("new_value")
            else:
                merged[name] = dict(change)
    payload = {k: v for k, v in newest.payload.items() if k != "field_changes"}
    payload["field_changes"] = list[JsonValue](c for c in merged.values() if c.get("old_value") != c.get("new_value"))
    return replace(newest, payload=payload, children=tuple(group))


def fold_bursts(events: list[TimelineEvent]) -> list[TimelineEvent]:
    """Events (newest first, as the API shows them) with bursts folded."""
    out: list[TimelineEvent] = []
    group: list[TimelineEvent] = []
    for event in events:
        if group and _same_burst(group[-1], event):
            group.append(event)
        else:
            if group:
                out.append(_merge(group) if len(group) > 1 else group[0])
            group = [event]
    if group:
        out.append(_merge(group) if len(group) > 1 else group[0])
    return out
