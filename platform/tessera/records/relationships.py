"""Relationship instances between records, with cardinality enforced by the database."""

from __future__ import annotations

from typing import Any

from schema_registry.definitions import RelationshipDefinition
from tessera.db.engine import IntegrityViolation
from tessera.db.id_order import order_by
from tessera.errors import BadRequest, Conflict, FieldError, NotFound
from tessera.records.service import RecordService
from tessera.wire import iso, parse_id

_CARDINALITY_MESSAGES = {
    "uq_relationships_one_to_one": "entity_1 already has a relationship of this one_to_one definition",
    "uq_relationships_single_parent": "entity_2 already has an entity_1 for this definition",
    "uq_relationships_pair": "These records are already related by this definition",
}


def instance_to_json(row: Any) -> dict[str, Any]:
    return {"id": str(row["id"]), "definition_id": str(row["definition_id"]),
            "entity_1_id": str(row["entity_1_id"]), "entity_2_id": str(row["entity_2_id"]),
            "created_at": iso(row["created_at"])}


class RelationshipService:
    def __init__(self, records: RecordService) -> None:
        self.records = records
        self.tenant = records.tenant

    def definition(self, raw: str) -> RelationshipDefinition:
        definition_id = parse_id(raw)
        definition = self.records.schema.relationship(definition_id) if definition_id is not None else None
        if definition is None:
            raise NotFound("Relationship definition not found")
        return definition

    async def create(self, record_id: str, definition_id: str, entity_1_id: str, entity_2_id: str
                     ) -> dict[str, Any]:
        if record_id not in (entity_1_id, entity_2_id):
            raise BadRequest("The record in the path must be entity_1_id or entity_2_id",
                             errors=[FieldError("entity_1_id", "neither entity is the path's record")])
        definition = self.definition(definition_id)
        obj_1, row_1 = await self.records.record(parse_id(entity_1_id))
        obj_2, row_2 = await self.records.record(parse_id(entity_2_id))
        if obj_1.id != definition.entity_definition_1_id or obj_2.id != definition.entity_definition_2_id:
            raise BadRequest("The records' objects do not match the relationship definition",
                             errors=[FieldError("entity_1_id" if obj_1.id != definition.entity_definition_1_id
                                                else "entity_2_id", "wrong object type")])
        (rel_id,) = await self.records.changes.ids.take(self.tenant.conn, 1)
        try:
            row = await self.tenant.fetchrow(
                "INSERT INTO relationships (workspace_id, id, definition_id, type, entity_1_id, entity_2_id, "
                "created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *",
                rel_id, definition.id, definition.type.value, row_1.id, row_2.id, self.records.changes.now)
        except IntegrityViolation as err:
            raise Conflict(_CARDINALITY_MESSAGES.get(err.constraint or "", "Relationship conflicts")) from err
        return instance_to_json(row)

    async def delete(self, record_id: str, rel_id: str) -> None:
        record, relationship = parse_id(record_id), parse_id(rel_id)
        if record is None or relationship is None:
            raise NotFound("Relationship not found")
        deleted = await self.tenant.fetch(
            "DELETE FROM relationships WHERE workspace_id = $1 AND id = $2 AND (entity_1_id = $3 OR entity_2_id = $3) "
            "RETURNING id", relationship, record)
        if not deleted:
            raise NotFound("Relationship not found")

    async def of_record(self, record_id: str) -> list[dict[str, Any]]:
        _, row = await self.records.record(parse_id(record_id))
        rows = await self.tenant.fetch(
            "SELECT * FROM relationships WHERE workspace_id = $1 AND (entity_1_id = $2 OR entity_2_id = $2) "
            f"ORDER BY {order_by(self.tenant.workspace_id, 'id')}", row.id)
        return [instance_to_json(r) for r in rows]
