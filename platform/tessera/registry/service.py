"""Schema-registry rules: objects, attributes, lists and relationship definitions.

Every change locks the workspace's schema row (serializing schema changes and pausing record
writes of that workspace for the length of the change), applies itself, bumps the schema version
and announces it, all in the caller's transaction.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Mapping, Sequence

from schema_registry.definitions import (
    AttributeDefinition,
    AttributeTypeName,
    ObjectDefinition,
    ObjectType,
    RelationshipDefinition,
    RelationshipType,
    SelectOption,
)
from schema_registry.types import check_options
from schema_registry.types.base import InvalidValue
from schema_registry.workspace import WorkspaceSchema
from tessera.changes import Changes
from tessera.db.engine import IntegrityViolation
from tessera.db.tenant import Tenant
from tessera.errors import BadRequest, Conflict, FieldError, NotFound
from tessera.quotas import Quota, check_count
from tessera.records import repository as records_repository
from tessera.registry import constraints, repository
from tessera.registry.cache import SchemaCache
from tessera.registry.events import ObjectDocumentsChanged, SchemaChanged
from tessera.registry.models import (
    CreateAttributeOptions,
    CreateRelationshipDefinitionRequest,
    SelectOptionRequest,
    UpdateAttributeOptions,
    UpdateAttributeRequest,
    UpdateObjectRequest,
)
from tessera.registry.repository import AttributeChanges, ObjectChanges, StoredSelectOption
from tessera.registry.serialize import attribute_to_json, object_to_json
from tessera.wire import JsonObject, parse_id

SLUG = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
OPTION_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
RESERVED_ATTRIBUTE_SLUGS = frozenset({
    "id", "workspace_id", "object_id", "record_id", "created_at", "updated_at", "created_by",
    "updated_by", "type", "parent", "parent_id", "parent_record_id", "list_entry", "attributes",
})
MAX_ATTRIBUTES_PER_OBJECT = 500
MAX_SELECT_OPTIONS = 1000
DEFAULT_OBJECT_SLUGS = frozenset({"person", "company"})


def check_slug(slug: str, what: str) -> str:
    if not SLUG.match(slug):
        raise BadRequest(f"Invalid {what} slug '{slug[:80]}': use lowercase letters, digits, '_' or '-', "
                         "starting with a letter, at most 63 characters",
                         errors=[FieldError("slug", "must match ^[a-z][a-z0-9_-]{0,62}$")])
    return slug


def _new_option_id(index: int) -> str:
    # Time-ordered, so options sort in creation order; random tail for uniqueness across calls.
    return f"{int(time.time() * 1000):011x}{index:03x}{secrets.token_hex(2)}"


def merge_select_options(existing: Sequence[SelectOption], requested: Sequence[SelectOptionRequest],
                         ) -> list[StoredSelectOption]:
    """Apply the spec's rule: an entry with an ``id`` renames that option (or, on create, fixes
    its id), one without an ``id`` adds an option. Options not mentioned are kept."""
    options: list[StoredSelectOption] = [{"id": o.id, "name": o.name} for o in existing]
    by_id = {o["id"]: o for o in options}
    for index, item in enumerate(requested):
        name = item.name.strip()
        if not name:
            raise BadRequest("Select option names must not be empty",
                             errors=[FieldError(f"options.select_options[{index}].name", "must not be empty")])
        option_id = item.id
        if option_id is not None and option_id in by_id:
            by_id[option_id]["name"] = name
            continue
        if option_id is not None and existing:
            raise BadRequest(f"Unknown select option id '{option_id[:64]}'",
                             errors=[FieldError(f"options.select_options[{index}].id", "unknown option id")])
        if option_id is not None and not OPTION_ID.match(option_id):
            raise BadRequest("Select option ids use 1-64 letters, digits, '_' or '-'",
                             errors=[FieldError(f"options.select_options[{index}].id", "invalid id")])
        new: StoredSelectOption = {"id": option_id or _new_option_id(index), "name": name}
        options.append(new)
        by_id[new["id"]] = new
    folded = [o["name"].casefold() for o in options]
    if len(set(folded)) != len(folded):
        raise BadRequest("Select option names must be unique within the attribute")
    if len(options) > MAX_SELECT_OPTIONS:
        raise BadRequest(f"An attribute holds at most {MAX_SELECT_OPTIONS} select options")
    return options


class RegistryService:
    """Schema changes over one request's transaction."""

    def __init__(self, tenant: Tenant, cache: SchemaCache, changes: Changes, *, max_objects: int = 1_000_000,
                 max_attributes: int = 1_000_000) -> None:
        self.tenant = tenant
        self.cache = cache
        self.changes = changes
        self.max_objects = Quota(max_objects, "objects and lists", "MAX_OBJECTS_PER_WORKSPACE")
        self.max_attributes = Quota(max_attributes, "attributes on one object", "MAX_ATTRIBUTES_PER_OBJECT")

    async def _locked(self) -> WorkspaceSchema:
        return await self.cache.for_change(self.tenant)

    async def _changed(self) -> WorkspaceSchema:
        await repository.bump_version(self.tenant)
        workspace_id = self.tenant.workspace_id
        self.cache.forget(workspace_id)
        # Again after commit: a reader may have cached the old version meanwhile.
        self.changes.after_commit(lambda: self.cache.forget(workspace_id))
        return await self.cache.for_change(self.tenant)

    @staticmethod
    def object_of(schema: WorkspaceSchema, slug: str) -> ObjectDefinition:
        obj = schema.object(slug)
        if obj is None:
            raise NotFound(f"Object '{slug[:80]}' not found")
        return obj

    # Objects -----------------------------------------------------------------------------

    async def create_object(self, *, name: str, slug: str, name_plural: str | None, description: str | None,
                            type_: ObjectType, parent: ObjectDefinition | None = None) -> ObjectDefinition:
        check_slug(slug, "object")
        check_count(len((await self._locked()).objects), self.max_objects)
        try:
            await repository.insert_object(
                self.tenant, slug=slug, name=name, name_plural=name_plural or name,
                description=description or "", type_=type_,
                parent_object_id=parent.id if parent else None)
        except IntegrityViolation as err:
            raise Conflict(f"An object or list with slug '{slug}' already exists") from err
        schema = await self._changed()
        created = self.object_of(schema, slug)
        self._hook(schema, "object.created", created.id, object_to_json(created))
        return created

    async def update_object(self, slug: str, request: UpdateObjectRequest) -> ObjectDefinition:
        """Apply the fields the request gives a value (a field left out or null keeps its value)."""
        schema = await self._locked()
        obj = self.object_of(schema, slug)
        changes: ObjectChanges = {}
        if request.name is not None:
            changes["name"] = request.name
        if request.name_plural is not None:
            changes["name_plural"] = request.name_plural
        if request.description is not None:
            changes["description"] = request.description
        if changes:
            await repository.update_object(self.tenant, obj.id, changes)
            schema = await self._changed()
            self._hook(schema, "object.updated", obj.id, object_to_json(self.object_of(schema, slug)))
        return self.object_of(schema, slug)

    async def delete_object(self, obj: ObjectDefinition) -> None:
        if obj.slug in DEFAULT_OBJECT_SLUGS and obj.type in (ObjectType.PERSON, ObjectType.COMPANY):
            raise BadRequest("The default person and company objects cannot be deleted")
        await repository.delete_object(self.tenant, obj.id)
        schema = await self._changed()
        self._search_event("object.deleted", obj.id)
        self._hook(schema, "object.deleted", obj.id, {"id": str(obj.id), "slug": obj.slug})

    def _hook(self, schema: WorkspaceSchema, event_type: str, aggregate_id: int, data: JsonObject) -> None:
        """Queue an ``object.*`` / ``attribute.*`` event: on the change stream, and to webhooks when
        the workspace has any."""
        self.changes.add(SchemaChanged(event_type, aggregate_id, data), webhooks=schema.webhooks)

    def _search_event(self, event_type: str, object_id: int) -> None:
        """Tell the indexer that an object's documents must go or be rebuilt."""
        self.changes.add(ObjectDocumentsChanged(event_type, object_id), webhooks=False)

    async def delete_object_by_slug(self, slug: str) -> None:
        schema = await self._locked()
        await self.delete_object(self.object_of(schema, slug))

    # Lists ---------------------------------------------------------------------------------

    async def create_list(self, parent_slug: str, *, name: str, slug: str, name_plural: str | None,
                          description: str | None) -> ObjectDefinition:
        schema = await self._locked()
        parent = self.object_of(schema, parent_slug)
        if parent.is_list:
            raise BadRequest("A list's parent must be an object, not another list")
        return await self.create_object(name=name, slug=slug, name_plural=name_plural,
                                        description=description, type_=ObjectType.LIST, parent=parent)

    async def delete_list(self, list_id: int | None) -> None:
        schema = await self._locked()
        obj = schema.object_by_id(list_id) if list_id is not None else None
        if obj is None or not obj.is_list:
            raise NotFound("List not found")
        await self.delete_object(obj)

    # Attributes ----------------------------------------------------------------------------

    async def create_attribute(self, object_slug: str, *, name: str, slug: str, type_: AttributeTypeName,
                               description: str | None, options: CreateAttributeOptions | None,
                               ) -> AttributeDefinition:
        """``options`` left out or null: none of them."""
        check_slug(slug, "attribute")
        if slug in RESERVED_ATTRIBUTE_SLUGS:
            raise BadRequest(f"'{slug}' is a reserved attribute slug")
        schema = await self._locked()
        obj = self.object_of(schema, object_slug)
        check_count(len(obj.attributes), self.max_attributes)
        if obj.attribute(slug) is not None:
            raise Conflict(f"Attribute '{slug}' already exists on '{obj.slug}'")
        if len(obj.attributes) >= MAX_ATTRIBUTES_PER_OBJECT:
            raise BadRequest(f"An object holds at most {MAX_ATTRIBUTES_PER_OBJECT} attributes")
        options = options or CreateAttributeOptions()
        self._check_options(type_, options.model_dump(exclude_none=True))
        select_options = merge_select_options((), options.select_options or [])
        if options.is_required and await constraints.count_records(self.tenant, obj.id):
            count = await constraints.count_records(self.tenant, obj.id)
            raise Conflict(f"Cannot add a required attribute: {count} existing records have no value for it")
        try:
            await repository.insert_attribute(
                self.tenant, object_id=obj.id, slug=slug, name=name, type_=type_,
                description=description or "", is_required=bool(options.is_required),
                is_unique=bool(options.is_unique), is_multi_value=bool(options.is_multi_value),
                use_raw_format=bool(options.use_raw_format),
                is_whole_number=bool(options.is_whole_number), select_options=select_options)
        except IntegrityViolation as err:
            raise Conflict(f"Attribute '{slug}' already exists on '{obj.slug}'") from err
        schema = await self._changed()
        created = self.object_of(schema, object_slug).attribute(slug)
        assert created is not None
        self._hook(schema, "attribute.created", created.id, {**attribute_to_json(created),
                                                                    "object_slug": object_slug})
        return created

    @staticmethod
    def _check_options(kind: AttributeTypeName, options: Mapping[str, object]) -> None:
        try:
            check_options(kind, options)
        except InvalidValue as err:
            raise BadRequest(err.message) from err

    def _attribute_of(self, schema: WorkspaceSchema, object_slug: str, ref: str) -> AttributeDefinition:
        """The attribute whose id or slug is ``ref``, or 404."""
        obj = self.object_of(schema, object_slug)
        attribute = obj.attribute_by_id(attribute_id) if (attribute_id := parse_id(ref)) is not None else None
        if attribute is None:
            attribute = obj.attribute(ref)  # accept the slug too, as the spec's matching_attribute does
        if attribute is None:
            raise NotFound(f"Attribute '{ref[:80]}' not found on '{obj.slug}'")
        return attribute

    async def update_attribute(self, object_slug: str, attribute_ref: str, request: UpdateAttributeRequest,
                               ) -> AttributeDefinition:
        """Apply the fields and options the request gives a value (left out or null: kept).
        ``attribute_ref`` is the attribute's id or slug."""
        if "type" in request.model_fields_set:
            raise BadRequest("An attribute's type cannot be changed; create a new attribute instead")
        schema = await self._locked()
        attribute = self._attribute_of(schema, object_slug, attribute_ref)
        options = request.options or UpdateAttributeOptions()
        values: AttributeChanges = {}
        if request.name is not None:
            values["name"] = request.name
        if request.description is not None:
            values["description"] = request.description
        self._check_options(attribute.type, options.model_dump(exclude_none=True))
        if options.select_options is not None:
            values["select_options"] = merge_select_options(attribute.select_options, options.select_options)
        if options.use_raw_format is not None:
            values["use_raw_format"] = options.use_raw_format
        if options.is_whole_number and not attribute.is_whole_number:
            count = await constraints.count_fractional(self.tenant, attribute)
            if count:
                raise Conflict(f"Cannot require whole numbers: {count} records hold fractional values")
        if options.is_whole_number is not None:
            values["is_whole_number"] = options.is_whole_number
        if options.is_required and not attribute.is_required:
            count = await constraints.count_missing(self.tenant, attribute)
            if count:
                raise Conflict(f"Cannot make '{attribute.slug}' required: {count} records have no value for it")
        if options.is_required is not None:
            values["is_required"] = options.is_required
        if options.is_multi_value is False and attribute.is_multi_value:
            count = await constraints.count_multi_valued(self.tenant, attribute)
            if count:
                raise Conflict(f"Cannot make '{attribute.slug}' single-valued: {count} records hold several values")
        if options.is_multi_value is not None:
            values["is_multi_value"] = options.is_multi_value
        if options.is_unique and not attribute.is_unique:
            conflicting = await constraints.claim_unique_values(self.tenant, attribute)
            if conflicting:
                raise Conflict(f"Cannot make '{attribute.slug}' unique: {conflicting} records share a value "
                               "with another record")
        elif options.is_unique is False and attribute.is_unique:
            await constraints.release_unique_values(self.tenant, attribute)
        if options.is_unique is not None:
            values["is_unique"] = options.is_unique
        if values:
            await repository.update_attribute(self.tenant, attribute.id, values)
            schema = await self._changed()
            if "select_options" in values:  # renamed options change what documents say
                self._search_event("object.reindex", attribute.object_id)
            self._hook(schema, "attribute.updated", attribute.id, {
                **attribute_to_json(self._attribute_of(schema, object_slug, str(attribute.id))),
                "object_slug": object_slug})
        return self._attribute_of(schema, object_slug, str(attribute.id))

    async def delete_attribute(self, object_slug: str, attribute_ref: str) -> None:
        """``attribute_ref`` is the attribute's id or slug."""
        schema = await self._locked()
        attribute = self._attribute_of(schema, object_slug, attribute_ref)
        await records_repository.forget_attribute(self.tenant, attribute.object_id, attribute.id)
        await repository.delete_attribute(self.tenant, attribute.id)
        schema = await self._changed()
        self._search_event("object.reindex", attribute.object_id)
        self._hook(schema, "attribute.deleted", attribute.id, {"id": str(attribute.id), "slug": attribute.slug,
                                                                     "object_slug": object_slug})

    # Relationship definitions --------------------------------------------------------------

    async def create_relationship(self, request: CreateRelationshipDefinitionRequest) -> RelationshipDefinition:
        """A relationship between two objects given by their ids as the client wrote them (a 404
        names the text)."""
        schema = await self._locked()
        ends = [self._relationship_end(schema, parse_id(raw), raw)
                for raw in (request.entity_definition_1_id, request.entity_definition_2_id)]
        return await self._insert_relationship(RelationshipType(request.type), ends[0], ends[1],
                                               request.entity_1_to_2_predicate or "",
                                               request.entity_2_to_1_predicate or "")

    async def relate_objects(self, type_: RelationshipType, one: ObjectDefinition, two: ObjectDefinition, *,
                             predicate_1_to_2: str = "", predicate_2_to_1: str = "") -> RelationshipDefinition:
        """A relationship between two objects the caller holds (checked against the current schema)."""
        schema = await self._locked()
        ends = [self._relationship_end(schema, obj.id, str(obj.id)) for obj in (one, two)]
        return await self._insert_relationship(type_, ends[0], ends[1], predicate_1_to_2, predicate_2_to_1)

    @staticmethod
    def _relationship_end(schema: WorkspaceSchema, object_id: int | None, shown: str) -> ObjectDefinition:
        obj = schema.object_by_id(object_id) if object_id is not None else None
        if obj is None:
            raise NotFound(f"Object definition '{shown[:40]}' not found")
        if obj.is_list:
            raise BadRequest("Relationships link objects, not lists")
        return obj

    async def _insert_relationship(self, type_: RelationshipType, one: ObjectDefinition, two: ObjectDefinition,
                                   predicate_1_to_2: str, predicate_2_to_1: str) -> RelationshipDefinition:
        definition_id = await repository.insert_relationship(
            self.tenant, type_=type_, entity_definition_1_id=one.id, entity_definition_2_id=two.id,
            entity_1_to_2_predicate=predicate_1_to_2, entity_2_to_1_predicate=predicate_2_to_1)
        schema = await self._changed()
        created = schema.relationship(definition_id)
        assert created is not None
        return created

    async def delete_relationship(self, definition_id: int | None) -> None:
        """404 for an unknown definition (also for an id that cannot be one of ours: None)."""
        schema = await self._locked()
        definition = schema.relationship(definition_id) if definition_id is not None else None
        if definition is None:
            raise NotFound("Relationship definition not found")
        await repository.delete_relationship(self.tenant, definition.id)
        await self._changed()
