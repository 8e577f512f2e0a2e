"""A record's timeline: one page of its events, newest first, with what the reader may not see of
notes taken out and, on request, bursts of updates folded into one event."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

import orjson

from schema_registry.definitions import AttributeDefinition
from tessera.db.tenant import Tenant
from tessera.records.repository import RecordRow
from tessera.records.repository import attribute_history as history_of
from tessera.records.values import read_value
from tessera.timeline import repository
from tessera.timeline.aggregate import fold_bursts
from tessera.timeline.repository import TimelineEvent
from tessera.wire import JsonValue


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """A value an attribute held (in its read form), from when until when, set by whom."""

    value: JsonValue
    active_from: datetime
    active_until: datetime | None
    """None for the current value."""
    actor: str
    actor_id: str


@dataclass(frozen=True, slots=True)
class TimelinePage:
    events: list[TimelineEvent]
    has_next_page: bool
    last_id: int | None
    """The id of the page's last (oldest) event as stored, before folding: the next page's cursor."""


def redact_notes(events: Sequence[TimelineEvent], readable: set[int]) -> list[TimelineEvent]:
    """Note events keep the note's id and title; its content (in ``note`` and in the content
    ``field_changes``) stays only for notes in ``readable``: the caller holds ``note.read`` and the
    note is not archived. ``record.read`` alone must not read notes through the timeline."""
    out = []
    for event in events:
        if event.resource_type != "note" or event.resource_id in readable:
            out.append(event)
            continue
        payload = dict(event.payload)
        note = payload.get("note")
        if isinstance(note, dict):
            payload["note"] = {k: v for k, v in note.items() if k != "content"}
        changes = payload.get("field_changes")
        if isinstance(changes, list):
            payload["field_changes"] = list[JsonValue](
                {"field_name": c["field_name"]} if c.get("field_name") == "content" else c
                for c in changes if isinstance(c, dict))
        out.append(replace(event, payload=payload))
    return out


async def record_timeline(tenant: Tenant, record_id: int, *, limit: int, before: int | None, aggregate: bool,
                          reads_notes: bool) -> TimelinePage:
    """``limit`` events of the record older than the event ``before`` (None: the newest).
    ``reads_notes``: the caller holds ``note.read``."""
    events = await repository.record_events(tenant, record_id, limit=limit + 1, before=before)
    has_next = len(events) > limit
    events = events[:limit]
    readable: set[int] = set()
    note_ids = sorted({e.resource_id for e in events if e.resource_type == "note"})
    if reads_notes and note_ids:
        readable = await repository.unarchived_notes(tenant, note_ids)
    shown = redact_notes(events, readable)
    if aggregate:
        shown = fold_bursts(shown)
    return TimelinePage(shown, has_next, events[-1].id if has_next and events else None)


async def attribute_history(tenant: Tenant, record: RecordRow, attribute: AttributeDefinition) -> list[HistoryEntry]:
    """The attribute's past values on the record, oldest first, then its current one (active since
    its value metadata says, else since the record was made)."""
    out = []
    for row in await history_of(tenant, record.id, attribute.id):
        stored = row["value"]
        out.append(HistoryEntry(read_value(attribute, orjson.loads(stored) if isinstance(stored, str) else stored),
                                row["active_from"], row["active_until"], row["actor"], row["actor_id"]))
    current = record.data.get(str(attribute.id))
    if current:
        meta = record.value_meta.get(str(attribute.id), {})
        since = datetime.fromisoformat(meta["since"]) if "since" in meta else record.created_at
        out.append(HistoryEntry(read_value(attribute, current), since, None, meta.get("actor", record.created_by),
                                meta.get("actor_id", record.created_by_id)))
    return out
