"""The domain event of notes: created, updated (with what changed) or archived; it goes on the
timeline of the record the note is about (before and after the change)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tessera.changes import DomainEvent, EventRows
from tessera.wire import JsonObject, JsonValue


@dataclass(frozen=True, slots=True)
class NoteEvent(DomainEvent):
    kind: str
    """``created``, ``updated`` or ``archived``."""
    note_id: int
    note: JsonObject
    """``developer.NoteResponse`` (the webhook body)."""
    title: str
    content: str
    records: Sequence[int]
    changes: list[JsonObject] | None = None

    def render(self, rows: EventRows, *, webhooks: bool) -> None:
        data = dict(self.note)
        if self.changes is not None:
            data["field_changes"] = list[JsonValue](self.changes)
        rows.webhook(f"note.{self.kind}", "note", self.note_id, data, deliver=webhooks)
        payload: JsonObject = {"note": {"id": str(self.note_id), "title": self.title, "content": self.content}}
        if self.changes is not None:
            payload["field_changes"] = list[JsonValue](self.changes)
        for record_id in self.records:
            rows.timeline(record_id, "note", self.note_id, self.kind, payload)
