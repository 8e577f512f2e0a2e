"""Definitions as the API shows them (``developer.ObjectResponse`` and friends). They are also the
data of ``object.*`` / ``attribute.*`` webhook events, which carry JSON objects: so they are built
as JSON objects, not TypedDicts (which a JSON object type does not accept)."""

from __future__ import annotations

from typing import TypedDict

from schema_registry.definitions import AttributeDefinition, ObjectDefinition, RelationshipDefinition
from tessera.wire import JsonObject, iso


class DefinitionListJson(TypedDict):
    """``ListObjectsResponse``, ``ListRelationshipDefinitionsResponse``."""

    data: list[JsonObject]


def attribute_to_json(attribute: AttributeDefinition) -> JsonObject:
    """``AttributeDefinitionResponse``; ``select_options`` only for select attributes."""
    options: JsonObject = {
        "is_required": attribute.is_required,
        "is_unique": attribute.is_unique,
        "is_multi_value": attribute.is_multi_value,
        "use_raw_format": attribute.use_raw_format,
        "is_whole_number": attribute.is_whole_number,
    }
    if attribute.type == "select":
        options["select_options"] = [{"id": o.id, "name": o.name} for o in attribute.select_options]
    return {
        "id": str(attribute.id),
        "slug": attribute.slug,
        "name": attribute.name,
        "type": attribute.type.value,
        "description": attribute.description,
        "options": options,
    }


def object_to_json(obj: ObjectDefinition, *, include_attributes: bool = True) -> JsonObject:
    """``ObjectResponse``; ``parent_object_id`` only for lists."""
    out: JsonObject = {
        "id": str(obj.id),
        "slug": obj.slug,
        "name": obj.name,
        "name_plural": obj.name_plural,
        "type": obj.type.value,
        "description": obj.description,
        "created_at": iso(obj.created_at),
    }
    if obj.parent_object_id is not None:
        out["parent_object_id"] = str(obj.parent_object_id)
    if include_attributes:
        out["attributes"] = [attribute_to_json(a) for a in obj.attributes]
    return out


def relationship_to_json(definition: RelationshipDefinition) -> JsonObject:
    """``RelationshipDefinitionResponse``."""
    return {
        "id": str(definition.id),
        "type": definition.type.value,
        "entity_definition_1_id": str(definition.entity_definition_1_id),
        "entity_definition_2_id": str(definition.entity_definition_2_id),
        "entity_1_to_2_predicate": definition.entity_1_to_2_predicate,
        "entity_2_to_1_predicate": definition.entity_2_to_1_predicate,
        "created_at": iso(definition.created_at),
    }
