"""Records and list entries as the API shows them (responses, webhook bodies, timeline payloads).
Pure functions of the schema and the stored row."""

from __future__ import annotations

from schema_registry.definitions import AttributeDefinition, ObjectDefinition
from tessera.records.repository import RecordRow, RelationshipInstance
from tessera.records.values import Data, primary_value, read_attributes
from tessera.wire import JsonObject, JsonValue, iso


def record_to_json(obj: ObjectDefinition, row: RecordRow, workspace_id: int,
                   only: list[AttributeDefinition] | None = None) -> JsonObject:
    """``developer.RecordResponse``."""
    return {
        "id": str(row.id),
        "object_id": str(obj.id),
        "type": obj.slug,
        "workspace_id": str(workspace_id),
        "created_at": iso(row.created_at),
        "updated_at": iso(row.updated_at),
        "attributes": read_attributes(obj, row.data, only),
    }


def entry_to_json(lst: ObjectDefinition, parent_obj: ObjectDefinition | None, entry: RecordRow,
                  workspace_id: int) -> JsonObject:
    """A list entry as add/upsert/patch answer it (``developer.CreateListMemberResponse``)."""
    return {
        "id": str(entry.id),
        "object_id": str(lst.id),
        "type": parent_obj.slug if parent_obj else "list",
        "workspace_id": str(workspace_id),
        "parent_id": str(entry.parent_record_id),
        "created_at": iso(entry.created_at),
        "updated_at": iso(entry.updated_at),
        "attributes": read_attributes(lst, entry.data),
    }


def relationship_to_json(instance: RelationshipInstance) -> JsonObject:
    """``RelationshipInstanceResponse``."""
    return {"id": str(instance.id), "definition_id": str(instance.definition_id),
            "entity_1_id": str(instance.entity_1_id), "entity_2_id": str(instance.entity_2_id),
            "created_at": iso(instance.created_at)}


def entity_payload(obj: ObjectDefinition, record_id: int, data: Data,
                   changes: list[JsonObject] | None = None) -> JsonObject:
    """A record's timeline payload: the whole record, or (for updates) what changed."""
    entity: JsonObject = {"id": str(record_id), "definition_id": str(obj.id), "type": obj.slug,
                          "name": primary_value(obj, data)}
    payload: JsonObject = {"entity": entity}
    if changes is None:
        entity["attributes"] = read_attributes(obj, data)
    else:
        payload["field_changes"] = list[JsonValue](changes)
    return payload


def entry_payload(lst: ObjectDefinition, entry_id: int, parent_id: int,
                  changes: list[JsonObject] | None = None) -> JsonObject:
    """A list entry's timeline payload (on the listed record's timeline)."""
    payload: JsonObject = {"list_item": {"id": str(entry_id), "definition_id": str(lst.id),
                                         "list_name": lst.name, "parent_id": str(parent_id)}}
    if changes is not None:
        payload["field_changes"] = list[JsonValue](changes)
    return payload


def filter_state(obj: ObjectDefinition, row: RecordRow) -> JsonObject:
    """What webhook subscription filters are evaluated on (never sent to receivers)."""
    return {"id": row.id, "object_slug": obj.slug, "created_at": row.created_at.isoformat(),
            "updated_at": row.updated_at.isoformat(), "data": dict[str, JsonValue](row.data),
            "parent_id": row.parent_record_id}
