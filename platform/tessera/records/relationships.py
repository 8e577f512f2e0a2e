"""Relationship instances between records, with cardinality enforced by the database."""

from __future__ import annotations

from schema_registry.definitions import RelationshipDefinition
from tessera.db.engine import IntegrityViolation
from tessera.errors import BadRequest, Conflict, FieldError, NotFound
from tessera.records import repository
from tessera.records.repository import RelationshipInstance
from tessera.records.service import RecordService
from tessera.wire import parse_id

_CARDINALITY_MESSAGES = {
    "uq_relationships_one_to_one": "entity_1 already has a relationship of this one_to_one definition",
    "uq_relationships_single_parent": "entity_2 already has an entity_1 for this definition",
    "uq_relationships_pair": "These records are already related by this definition",
}


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
                     ) -> RelationshipInstance:
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
            return await repository.insert_relationship(self.tenant, rel_id, definition.id, definition.type.value,
                                                        row_1.id, row_2.id, self.records.changes.now)
        except IntegrityViolation as err:
            raise Conflict(_CARDINALITY_MESSAGES.get(err.constraint or "", "Relationship conflicts")) from err

    async def delete(self, record_id: str, rel_id: str) -> None:
        record, relationship = parse_id(record_id), parse_id(rel_id)
        if record is None or relationship is None:
            raise NotFound("Relationship not found")
        if not await repository.delete_relationship(self.tenant, relationship, record):
            raise NotFound("Relationship not found")

    async def of_record(self, record_id: str) -> list[RelationshipInstance]:
        """The relationships of a record of this workspace (404 for any other id), in creation order."""
        _, row = await self.records.record(parse_id(record_id))
        return await repository.relationships_of(self.tenant, row.id)
