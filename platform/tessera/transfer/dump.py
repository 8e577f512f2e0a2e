"""Workspace dumps: JSON lines of schema, records, list entries, relationships, tasks and notes
(stored values, so a restore reproduces them exactly), and CSV (one file per object, cells escaped
against formula injection). Streamed in pages: memory stays flat whatever the workspace size."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Literal, NotRequired, TypedDict

import asyncpg
import orjson
from sqlalchemy.ext.asyncio import AsyncEngine

from schema_registry.definitions import ObjectDefinition
from schema_registry.workspace import WorkspaceSchema
from tessera.db.sql import Params
from tessera.db.tenant import Tenant
from tessera.records.repository import to_row
from tessera.records.values import Data, read_value
from tessera.registry.repository import load_schema
from tessera.registry.serialize import attribute_to_json
from tessera.transfer.cells import escape_formula
from tessera.wire import JsonObject, JsonValue, iso

PAGE = 2000
FORMAT_VERSION = 1


class HeaderLine(TypedDict):
    """The first line of a dump."""

    kind: Literal["tessera_dump"]
    version: int
    workspace_id: str
    object: str | None
    """The one object dumped; None for the whole workspace."""
    exported_at: str | None


class ObjectLine(TypedDict):
    """An object or list definition with its attributes (``AttributeDefinitionResponse``)."""

    kind: Literal["object"]
    slug: str
    name: str
    name_plural: str
    description: str
    type: str
    parent: str | None
    """A list's parent object (its slug)."""
    attributes: list[JsonObject]


class RelationshipDefinitionLine(TypedDict):
    kind: Literal["relationship_definition"]
    id: str
    type: str
    entity_1: str | None
    """Object slugs."""
    entity_2: str | None
    entity_1_to_2_predicate: str
    entity_2_to_1_predicate: str


class RecordLine(TypedDict):
    kind: Literal["record", "list_entry"]
    id: str
    object: str
    created_at: str | None
    values: Data
    """Attribute slug -> the stored forms of its values."""
    parent: NotRequired[str]
    """A list entry's record (its id)."""


class RelationshipLine(TypedDict):
    kind: Literal["relationship"]
    id: str
    definition: str
    entity_1: str
    """Record ids."""
    entity_2: str


class TaskLine(TypedDict):
    kind: Literal["task"]
    id: str
    title: str
    description: str
    priority: str
    due_date: str | None
    is_completed: bool
    completed_at: str | None
    assignee_ids: list[str]
    entity_ids: list[str]
    archived_at: str | None
    created_at: str | None


class NoteLine(TypedDict):
    kind: Literal["note"]
    id: str
    title: str
    content: str
    entity_id: str | None
    archived_at: str | None
    created_at: str | None


DumpLine = HeaderLine | ObjectLine | RelationshipDefinitionLine | RecordLine | RelationshipLine | TaskLine | NoteLine
"""One line of a JSON-lines dump, told apart by its ``kind``."""


def _line(item: DumpLine) -> bytes:
    return orjson.dumps(item) + b"\n"


def _values(obj: ObjectDefinition, data: Data) -> Data:
    return {a.slug: data[str(a.id)] for a in obj.attributes if data.get(str(a.id))}


def object_line(obj: ObjectDefinition, schema: WorkspaceSchema) -> ObjectLine:
    parent = schema.object_by_id(obj.parent_object_id) if obj.parent_object_id else None
    return {"kind": "object", "slug": obj.slug, "name": obj.name, "name_plural": obj.name_plural,
            "description": obj.description, "type": obj.type.value, "parent": parent.slug if parent else None,
            "attributes": [attribute_to_json(a) for a in obj.attributes]}


async def _pages(db: AsyncEngine, workspace_id: int, select: str, *, key: str = "id",
                 object_id: int | None = None) -> AsyncIterator[list[asyncpg.Record]]:
    """Keyset pages of ``select`` (a tenant statement that selects ``id`` and ends in its ``WHERE``),
    in ``key`` order; only one object's rows when ``object_id`` is given."""
    after = 0
    while True:
        params = Params()
        sql = f"{select} AND {key} > {params.add(after)}"
        if object_id is not None:
            sql += f" AND object_id = {params.add(object_id)}"
        async with db.connect() as conn:
            rows: list[asyncpg.Record] = await Tenant(conn, workspace_id).fetch(
                sql + f" ORDER BY id LIMIT {PAGE}", *params.values)
        if not rows:
            return
        yield rows
        after = rows[-1]["id"]


async def jsonl_dump(db: AsyncEngine, workspace_id: int, object_slug: str | None,
                     counts: dict[str, int]) -> AsyncIterator[bytes]:
    async with db.connect() as conn:
        schema = await load_schema(Tenant(conn, workspace_id))
    objects = [o for o in schema.objects if object_slug is None or o.slug == object_slug]
    yield _line({"kind": "tessera_dump", "version": FORMAT_VERSION, "workspace_id": str(workspace_id),
                 "object": object_slug, "exported_at": iso(datetime.now(UTC))})
    for obj in sorted(objects, key=lambda o: (o.is_list, o.id)):
        yield _line(object_line(obj, schema))
    if object_slug is None:
        for definition in schema.relationships:
            one, two = schema.object_by_id(definition.entity_definition_1_id), \
                schema.object_by_id(definition.entity_definition_2_id)
            yield _line({"kind": "relationship_definition", "id": str(definition.id), "type": definition.type.value,
                         "entity_1": one.slug if one else None, "entity_2": two.slug if two else None,
                         "entity_1_to_2_predicate": definition.entity_1_to_2_predicate,
                         "entity_2_to_1_predicate": definition.entity_2_to_1_predicate})
    columns = "id, object_id, parent_record_id, data, value_meta, created_by, created_by_id, created_at, updated_at"
    for obj in sorted(objects, key=lambda o: (o.is_list, o.id)):
        kind: Literal["record", "list_entry"] = "list_entry" if obj.is_list else "record"
        async for rows in _pages(db, workspace_id, f"SELECT {columns} FROM records WHERE workspace_id = $1",
                                 object_id=obj.id):
            for raw in rows:
                row = to_row(raw)
                item: RecordLine = {"kind": kind, "id": str(row.id), "object": obj.slug,
                                    "created_at": iso(row.created_at), "values": _values(obj, row.data)}
                if row.parent_record_id is not None:
                    item["parent"] = str(row.parent_record_id)
                counts[kind] = counts.get(kind, 0) + 1
                yield _line(item)
    if object_slug is not None:
        return
    async for rows in _pages(db, workspace_id, "SELECT id, definition_id, entity_1_id, entity_2_id FROM relationships "
                             "WHERE workspace_id = $1"):
        for row in rows:
            counts["relationship"] = counts.get("relationship", 0) + 1
            yield _line({"kind": "relationship", "id": str(row["id"]), "definition": str(row["definition_id"]),
                         "entity_1": str(row["entity_1_id"]), "entity_2": str(row["entity_2_id"])})
    async for rows in _pages(db, workspace_id, (
            "SELECT t.id, t.title, t.description, t.priority, t.due_date, t.is_completed, t.completed_at, "
            "t.assignee_ids, t.archived_at, t.created_at, ARRAY(SELECT te.record_id FROM task_entities te "
            "WHERE te.workspace_id = t.workspace_id AND te.task_id = t.id ORDER BY te.record_id) AS entity_ids "
            "FROM tasks t WHERE t.workspace_id = $1"), key="t.id"):
        for row in rows:
            counts["task"] = counts.get("task", 0) + 1
            yield _line({"kind": "task", "id": str(row["id"]), "title": row["title"],
                         "description": row["description"], "priority": row["priority"],
                         "due_date": iso(row["due_date"]), "is_completed": row["is_completed"],
                         "completed_at": iso(row["completed_at"]), "assignee_ids": list(row["assignee_ids"]),
                         "entity_ids": [str(i) for i in row["entity_ids"]], "archived_at": iso(row["archived_at"]),
                         "created_at": iso(row["created_at"])})
    async for rows in _pages(db, workspace_id, "SELECT id, title, content, entity_id, archived_at, created_at "
                             "FROM notes WHERE workspace_id = $1"):
        for row in rows:
            counts["note"] = counts.get("note", 0) + 1
            yield _line({"kind": "note", "id": str(row["id"]), "title": row["title"], "content": row["content"],
                         "entity_id": str(row["entity_id"]) if row["entity_id"] else None,
                         "archived_at": iso(row["archived_at"]), "created_at": iso(row["created_at"])})


def _cell(value: JsonValue) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return "; ".join(_cell(v) for v in value)
    if isinstance(value, dict):
        return orjson.dumps(value).decode()
    return escape_formula(str(value))


async def csv_object(db: AsyncEngine, workspace_id: int, obj: ObjectDefinition, counts: dict[str, int]
                     ) -> AsyncIterator[bytes]:
    """One object's records as CSV: id, created_at, then one column per attribute (read forms)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["id", "created_at", *[a.slug for a in obj.attributes]])
    yield buffer.getvalue().encode()
    columns = "id, object_id, parent_record_id, data, value_meta, created_by, created_by_id, created_at, updated_at"
    async for rows in _pages(db, workspace_id, f"SELECT {columns} FROM records WHERE workspace_id = $1",
                             object_id=obj.id):
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        for raw in rows:
            row = to_row(raw)
            writer.writerow([str(row.id), iso(row.created_at),
                             *[_cell(read_value(a, row.data.get(str(a.id)))) for a in obj.attributes]])
            counts[obj.slug] = counts.get(obj.slug, 0) + 1
        yield buffer.getvalue().encode()
