"""SQL for the schema registry: loading a workspace's schema and changing definitions."""

from __future__ import annotations

from typing import TypedDict

from sqlalchemy import RowMapping, Select, func, select, text

from schema_registry.definitions import (
    AttributeDefinition,
    AttributeTypeName,
    ObjectDefinition,
    ObjectType,
    RelationshipDefinition,
    RelationshipType,
    SelectOption,
)
from schema_registry.workspace import WorkspaceSchema
from tessera.db.engine import sqlstate
from tessera.db.notify import announce
from tessera.db.tables import (
    attribute_definitions,
    object_definitions,
    relationship_definitions,
    workspaces,
)
from tessera.db.tenant import Tenant
from tessera.errors import ServiceUnavailable, TooManyRequests


class StoredSelectOption(TypedDict):
    """A select option as ``attribute_definitions.select_options`` holds it."""

    id: str
    name: str


class ObjectChanges(TypedDict, total=False):
    """The columns an object update sets; a column left out keeps its value."""

    name: str
    name_plural: str
    description: str


class AttributeChanges(TypedDict, total=False):
    """The columns an attribute update sets; a column left out keeps its value."""

    name: str
    description: str
    select_options: list[StoredSelectOption]
    use_raw_format: bool
    is_whole_number: bool
    is_required: bool
    is_multi_value: bool
    is_unique: bool


def _attribute(row: RowMapping) -> AttributeDefinition:
    return AttributeDefinition(
        id=row["id"], object_id=row["object_id"], slug=row["slug"], name=row["name"],
        type=AttributeTypeName(row["type"]), description=row["description"],
        is_required=row["is_required"], is_unique=row["is_unique"], is_multi_value=row["is_multi_value"],
        use_raw_format=row["use_raw_format"], is_whole_number=row["is_whole_number"],
        select_options=tuple(SelectOption(id=o["id"], name=o["name"]) for o in row["select_options"]),
        position=row["position"], created_at=row["created_at"],
    )


SCHEMA_CHANGE_WAIT_MS = 5_000
"""How long a schema change waits for the workspace's running writes to let go of its schema (a
context job applying a long artifact holds it for its transaction): past it, 429 at once instead
of a 503 when the statement timeout (30 s) ends the wait."""


async def schema_version(tenant: Tenant, *, lock: str | None = None) -> int:
    """The workspace's schema version. ``lock="share"`` keeps the schema from changing until this
    transaction ends (record writes); ``lock="update"`` serializes schema changes."""
    stmt = select(workspaces.c.schema_version).where(workspaces.c.id == tenant.workspace_id)
    if lock == "share":  # FOR KEY SHARE (key_share alone would be FOR NO KEY UPDATE: writes would queue)
        stmt = stmt.with_for_update(read=True, key_share=True)
    elif lock == "update":
        return await _version_for_change(tenant, stmt.with_for_update())
    version = (await tenant.execute(stmt)).scalar_one_or_none()
    return int(version) if version is not None else -1


async def _version_for_change(tenant: Tenant, stmt: Select[tuple[int]]) -> int:
    await tenant.execute(text(f"SET LOCAL lock_timeout = {int(SCHEMA_CHANGE_WAIT_MS)}"))
    try:
        version = (await tenant.execute(stmt)).scalar_one_or_none()
    except ServiceUnavailable as err:
        if sqlstate(err) != "55P03":
            raise
        raise TooManyRequests("This workspace's schema is in use by its running writes (imports, context jobs); "
                              "retry the change in a few seconds", retry_after=5) from err
    await tenant.execute(text("SET LOCAL lock_timeout = 0"))
    return int(version) if version is not None else -1


async def load_schema(tenant: Tenant) -> WorkspaceSchema:
    version = await schema_version(tenant)
    attrs: dict[int, list[AttributeDefinition]] = {}
    stmt = tenant.select(attribute_definitions).order_by(attribute_definitions.c.position,
                                                          attribute_definitions.c.id)
    for attribute in (await tenant.execute(stmt)).mappings().all():
        attrs.setdefault(attribute["object_id"], []).append(_attribute(attribute))
    objects = []
    stmt = tenant.select(object_definitions).order_by(object_definitions.c.created_at, object_definitions.c.id)
    for row in (await tenant.execute(stmt)).all():
        objects.append(ObjectDefinition(
            id=row.id, workspace_id=row.workspace_id, slug=row.slug, name=row.name,
            type=ObjectType(row.type), name_plural=row.name_plural, description=row.description,
            parent_object_id=row.parent_object_id, created_at=row.created_at, schema_version=version,
            attributes=tuple(attrs.get(row.id, ())),
        ))
    relationships = []
    stmt = tenant.select(relationship_definitions).order_by(relationship_definitions.c.created_at,
                                                             relationship_definitions.c.id)
    for row in (await tenant.execute(stmt)).all():
        relationships.append(RelationshipDefinition(
            id=row.id, workspace_id=row.workspace_id, type=RelationshipType(row.type),
            entity_definition_1_id=row.entity_definition_1_id,
            entity_definition_2_id=row.entity_definition_2_id,
            entity_1_to_2_predicate=row.entity_1_to_2_predicate,
            entity_2_to_1_predicate=row.entity_2_to_1_predicate, created_at=row.created_at,
        ))
    hooks = await tenant.fetch_one(
        "SELECT EXISTS (SELECT 1 FROM webhooks WHERE workspace_id = $1 AND status = 'active')")
    return WorkspaceSchema(workspace_id=tenant.workspace_id, version=version, objects=tuple(objects),
                           relationships=tuple(relationships), webhooks=bool(hooks[0]))


async def bump_version(tenant: Tenant) -> int:
    """Mark the schema changed (in this transaction) and tell other processes on commit."""
    version = (await tenant.execute(
        workspaces.update().where(workspaces.c.id == tenant.workspace_id)
        .values(schema_version=workspaces.c.schema_version + 1).returning(workspaces.c.schema_version)
    )).scalar_one()
    await announce(tenant.conn, f"schema:{tenant.workspace_id}")
    return int(version)


async def insert_object(tenant: Tenant, *, slug: str, name: str, name_plural: str, description: str,
                        type_: ObjectType, parent_object_id: int | None) -> int:
    stmt = tenant.insert(object_definitions).values(
        slug=slug, name=name, name_plural=name_plural, description=description, type=type_.value,
        parent_object_id=parent_object_id).returning(object_definitions.c.id)
    return int((await tenant.execute(stmt)).scalar_one())


async def update_object(tenant: Tenant, object_id: int, changes: ObjectChanges) -> None:
    await tenant.execute(tenant.update(object_definitions).where(object_definitions.c.id == object_id)
                         .values(**changes, updated_at=func.now()))


async def delete_object(tenant: Tenant, object_id: int) -> None:
    await tenant.execute(tenant.delete(object_definitions).where(object_definitions.c.id == object_id))


async def insert_attribute(tenant: Tenant, *, object_id: int, slug: str, name: str, type_: AttributeTypeName,
                           description: str, is_required: bool, is_unique: bool, is_multi_value: bool,
                           use_raw_format: bool, is_whole_number: bool, select_options: list[StoredSelectOption]
                           ) -> int:
    """A new attribute, placed after the object's last one."""
    position = (await tenant.execute(
        tenant.select(attribute_definitions, func.coalesce(func.max(attribute_definitions.c.position) + 1, 0))
        .where(attribute_definitions.c.object_id == object_id)
    )).scalar_one()
    stmt = tenant.insert(attribute_definitions).values(
        object_id=object_id, slug=slug, name=name, type=type_.value, description=description,
        is_required=is_required, is_unique=is_unique, is_multi_value=is_multi_value, use_raw_format=use_raw_format,
        is_whole_number=is_whole_number, select_options=select_options, position=position,
    ).returning(attribute_definitions.c.id)
    return int((await tenant.execute(stmt)).scalar_one())


async def update_attribute(tenant: Tenant, attribute_id: int, changes: AttributeChanges) -> None:
    await tenant.execute(tenant.update(attribute_definitions)
                         .where(attribute_definitions.c.id == attribute_id).values(**changes))


async def delete_attribute(tenant: Tenant, attribute_id: int) -> None:
    await tenant.execute(tenant.delete(attribute_definitions).where(attribute_definitions.c.id == attribute_id))


async def insert_relationship(tenant: Tenant, *, type_: RelationshipType, entity_definition_1_id: int,
                              entity_definition_2_id: int, entity_1_to_2_predicate: str,
                              entity_2_to_1_predicate: str) -> int:
    stmt = tenant.insert(relationship_definitions).values(
        type=type_.value, entity_definition_1_id=entity_definition_1_id, entity_definition_2_id=entity_definition_2_id,
        entity_1_to_2_predicate=entity_1_to_2_predicate, entity_2_to_1_predicate=entity_2_to_1_predicate,
    ).returning(relationship_definitions.c.id)
    return int((await tenant.execute(stmt)).scalar_one())


async def delete_relationship(tenant: Tenant, definition_id: int) -> None:
    await tenant.execute(tenant.delete(relationship_definitions)
                         .where(relationship_definitions.c.id == definition_id))
