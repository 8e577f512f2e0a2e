"""The domain events of records and list entries, and the timeline, search and webhook rows each
one tells of itself. A list entry's events go on the listed record's timeline; entries are not
search documents of their own."""

from __future__ import annotations

from dataclasses import dataclass

from schema_registry.definitions import ObjectDefinition
from tessera.changes import SEARCH, DomainEvent, EventRows
from tessera.records.repository import RecordRow
from tessera.records.serialize import entity_payload, entry_payload, entry_to_json, filter_state, record_to_json
from tessera.wire import JsonObject, JsonValue


@dataclass(frozen=True, slots=True)
class RecordCreated(DomainEvent):
    obj: ObjectDefinition
    row: RecordRow
    workspace_id: int

    def render(self, rows: EventRows, *, webhooks: bool) -> None:
        row = self.row
        rows.timeline(row.id, "entity", row.id, "created", entity_payload(self.obj, row.id, row.data))
        rows.outbox(SEARCH, "record.created", "record", row.id, {"object_id": str(self.obj.id)})
        rows.webhook("record.created", "record", row.id, record_to_json(self.obj, row, self.workspace_id),
                     filter_state(self.obj, row), deliver=webhooks)


@dataclass(frozen=True, slots=True)
class RecordUpdated(DomainEvent):
    obj: ObjectDefinition
    row: RecordRow
    changes: list[JsonObject]
    workspace_id: int

    def render(self, rows: EventRows, *, webhooks: bool) -> None:
        row = self.row
        rows.timeline(row.id, "entity", row.id, "updated", entity_payload(self.obj, row.id, row.data, self.changes))
        rows.outbox(SEARCH, "record.updated", "record", row.id, {"object_id": str(self.obj.id)})
        data = record_to_json(self.obj, row, self.workspace_id)
        data["field_changes"] = list[JsonValue](self.changes)
        rows.webhook("record.updated", "record", row.id, data, filter_state(self.obj, row), deliver=webhooks)


@dataclass(frozen=True, slots=True)
class RecordDeleted(DomainEvent):
    obj: ObjectDefinition
    row: RecordRow

    def render(self, rows: EventRows, *, webhooks: bool) -> None:
        row = self.row
        rows.timeline(row.id, "entity", row.id, "deleted", entity_payload(self.obj, row.id, row.data))
        rows.outbox(SEARCH, "record.deleted", "record", row.id, {"object_id": str(self.obj.id)})
        rows.webhook("record.deleted", "record", row.id,
                     {"id": str(row.id), "object_id": str(self.obj.id), "type": self.obj.slug},
                     filter_state(self.obj, row), deliver=webhooks)


@dataclass(frozen=True, slots=True)
class EntryCreated(DomainEvent):
    lst: ObjectDefinition
    parent_obj: ObjectDefinition | None
    row: RecordRow
    workspace_id: int

    def render(self, rows: EventRows, *, webhooks: bool) -> None:
        row, parent_id = self.row, _parent(self.row)
        rows.timeline(parent_id, "list_item", row.id, "created", entry_payload(self.lst, row.id, parent_id))
        rows.webhook("list_entry.created", "list_entry", row.id,
                     entry_to_json(self.lst, self.parent_obj, row, self.workspace_id), filter_state(self.lst, row),
                     deliver=webhooks)


@dataclass(frozen=True, slots=True)
class EntryUpdated(DomainEvent):
    lst: ObjectDefinition
    parent_obj: ObjectDefinition | None
    row: RecordRow
    changes: list[JsonObject]
    workspace_id: int

    def render(self, rows: EventRows, *, webhooks: bool) -> None:
        row, parent_id = self.row, _parent(self.row)
        rows.timeline(parent_id, "list_item", row.id, "updated",
                      entry_payload(self.lst, row.id, parent_id, self.changes))
        data = entry_to_json(self.lst, self.parent_obj, row, self.workspace_id)
        data["field_changes"] = list[JsonValue](self.changes)
        rows.webhook("list_entry.updated", "list_entry", row.id, data, filter_state(self.lst, row), deliver=webhooks)


@dataclass(frozen=True, slots=True)
class EntryDeleted(DomainEvent):
    lst: ObjectDefinition
    row: RecordRow

    def render(self, rows: EventRows, *, webhooks: bool) -> None:
        row, parent_id = self.row, _parent(self.row)
        rows.timeline(parent_id, "list_item", row.id, "deleted", entry_payload(self.lst, row.id, parent_id))
        rows.webhook("list_entry.deleted", "list_entry", row.id,
                     {"id": str(row.id), "object_id": str(self.lst.id), "type": self.lst.slug,
                      "parent_id": str(parent_id)}, filter_state(self.lst, row), deliver=webhooks)


def _parent(row: RecordRow) -> int:
    assert row.parent_record_id is not None, "a list entry has a parent record"
    return row.parent_record_id
