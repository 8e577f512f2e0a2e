"""``tessera admin restore``: rebuild a JSON-lines dump in a NEW workspace. Every id is new (ids
are global), references are remapped; values are the stored forms, so records read back exactly
as they were exported. Returns the mapping old id -> new id for checking."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncEngine

from schema_registry.definitions import ObjectDefinition
from tessera.changes import Actor, Changes, Stamp
from tessera.clock import Clock
from tessera.db.ids import IdAllocator
from tessera.db.tenant import Tenant
from tessera.errors import BadRequest
from tessera.records.repository import get_record
from tessera.records.service import RecordService
from tessera.registry.cache import SchemaCache
from tessera.registry.service import RegistryService
from tessera.wire import parse_rfc3339
from tessera.workspaces import NewWorkspace, create_workspace

BATCH = 1000
ACTOR = Actor("restore", "")


def _write_form(obj: ObjectDefinition, values: dict[str, list[Any]]) -> dict[str, Any]:
    """Dumped values (always lists of stored forms) as a write body: single values unwrapped."""
    out: dict[str, Any] = {}
    for slug, stored in values.items():
        attribute = obj.attribute(slug)
        if attribute is not None and stored:
            out[slug] = stored if attribute.is_multi_value else stored[0]
    return out


def _options(attribute: dict[str, Any]) -> dict[str, Any]:
    options = dict(attribute.get("options") or {})
    options["select_options"] = [{"id": o["id"], "name": o["name"]} for o in options.get("select_options") or []]
    return {k: v for k, v in options.items() if v not in (None, False, [])}


class Restorer:
    def __init__(self, db: AsyncEngine, workspace: NewWorkspace, clock: Clock) -> None:
        self.db = db
        self.workspace = workspace
        self.schemas = SchemaCache(ttl_seconds=0, clock=clock)
        self.ids = IdAllocator()
        self.mapping: dict[str, str] = {}
        self.definitions: dict[str, int] = {}
        self.pending: list[dict[str, Any]] = []

    def _changes(self) -> Changes:
        return Changes(self.ids, Stamp(ACTOR, datetime.now(UTC)))

    async def object(self, line: dict[str, Any]) -> None:
        async with self.db.begin() as conn:
            tenant = Tenant(conn, self.workspace.workspace_id)
            changes = self._changes()
            registry = RegistryService(tenant, self.schemas, changes)
            schema = await self.schemas.for_change(tenant)
            obj = schema.object(line["slug"])
            if obj is None:
                if line["type"] == "list":
                    obj = await registry.create_list(line["parent"], name=line["name"], slug=line["slug"],
                                                     name_plural=line["name_plural"], description=line["description"])
                else:
                    obj = await registry.create_object(name=line["name"], slug=line["slug"],
                                                       name_plural=line["name_plural"],
                                                       description=line["description"], type_=line["type"])
            for attribute in line["attributes"]:
                if obj.attribute(attribute["slug"]) is None:
                    await registry.create_attribute(obj.slug, name=attribute["name"], slug=attribute["slug"],
                                                    type_=attribute["type"], description=attribute["description"],
                                                    options=_options(attribute))
            await changes.flush(tenant)

    async def relationship_definition(self, line: dict[str, Any]) -> None:
        async with self.db.begin() as conn:
            tenant = Tenant(conn, self.workspace.workspace_id)
            schema = await self.schemas.for_change(tenant)
            one, two = schema.object(line["entity_1"]), schema.object(line["entity_2"])
            if one is None or two is None:
                raise BadRequest("The dump's relationship definition names an object it does not define")
            changes = self._changes()
            created = await RegistryService(tenant, self.schemas, changes).create_relationship(
                type_=line["type"], entity_definition_1_id=str(one.id), entity_definition_2_id=str(two.id),
                predicate_1_to_2=line["entity_1_to_2_predicate"], predicate_2_to_1=line["entity_2_to_1_predicate"])
            await changes.flush(tenant)
            self.definitions[line["id"]] = created.id

    async def flush_records(self) -> None:
        if not self.pending:
            return
        lines, self.pending = self.pending, []
        async with self.db.begin() as conn:
            tenant = Tenant(conn, self.workspace.workspace_id)
            schema = await self.schemas.for_write(tenant)
            obj = schema.object(lines[0]["object"])
            assert obj is not None
            service = RecordService(tenant, schema, self._changes())
            results = await service.create_batch(obj, [_write_form(obj, line["values"]) for line in lines])
            for line, result in zip(lines, results, strict=True):
                if result.status != "created" or result.id is None:
                    raise BadRequest(f"Record {line['id']} could not be restored: {result.error}")
                self.mapping[line["id"]] = str(result.id)

    async def record(self, line: dict[str, Any]) -> None:
        if self.pending and (self.pending[0]["object"] != line["object"] or len(self.pending) >= BATCH):
            await self.flush_records()
        self.pending.append(line)

    async def list_entry(self, line: dict[str, Any]) -> None:
        await self.flush_records()
        async with self.db.begin() as conn:
            tenant = Tenant(conn, self.workspace.workspace_id)
            schema = await self.schemas.for_write(tenant)
            lst: ObjectDefinition | None = schema.object(line["object"])
            parent = await get_record(tenant, int(self.mapping[line["parent"]]))
            assert lst is not None and parent is not None
            service = RecordService(tenant, schema, self._changes())
            entry = await service.create(lst, _write_form(lst, line["values"]), parent=parent)
            self.mapping[line["id"]] = str(entry.id)

    async def relationship(self, line: dict[str, Any]) -> None:
        await self.flush_records()
        async with self.db.begin() as conn:
            tenant = Tenant(conn, self.workspace.workspace_id)
            schema = await self.schemas.for_write(tenant)
            definition = schema.relationship(self.definitions[line["definition"]])
            assert definition is not None
            (rel_id,) = await self.ids.take(conn, 1)
            await tenant.fetch(
                "INSERT INTO relationships (workspace_id, id, definition_id, type, entity_1_id, entity_2_id) "
                "VALUES ($1, $2, $3, $4, $5, $6)", rel_id, definition.id, definition.type.value,
                int(self.mapping[line["entity_1"]]), int(self.mapping[line["entity_2"]]))
            self.mapping[line["id"]] = str(rel_id)

    async def task(self, line: dict[str, Any]) -> None:
        await self.flush_records()
        async with self.db.begin() as conn:
            tenant = Tenant(conn, self.workspace.workspace_id)
            (task_id,) = await self.ids.take(conn, 1)
            when = {k: parse_rfc3339(line[k]) if line.get(k) else None
                    for k in ("due_date", "completed_at", "archived_at", "created_at")}
            await tenant.fetch(
                "INSERT INTO tasks (workspace_id, id, title, description, priority, due_date, is_completed, "
                "completed_at, assignee_ids, created_by, created_by_id, created_at, updated_at, archived_at) "
                "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'restore', '', $10, $10, $11)",
                task_id, line["title"], line["description"], line["priority"], when["due_date"],
                line["is_completed"], when["completed_at"], line["assignee_ids"], when["created_at"],
                when["archived_at"])
            entities = [int(self.mapping[e]) for e in line["entity_ids"] if e in self.mapping]
            if entities:
                await tenant.fetch("INSERT INTO task_entities (workspace_id, task_id, record_id) "
                                   "SELECT $1, $2, unnest($3::bigint[])", task_id, entities)
            self.mapping[line["id"]] = str(task_id)

    async def note(self, line: dict[str, Any]) -> None:
        await self.flush_records()
        async with self.db.begin() as conn:
            tenant = Tenant(conn, self.workspace.workspace_id)
            (note_id,) = await self.ids.take(conn, 1)
            entity = int(self.mapping[line["entity_id"]]) if line.get("entity_id") in self.mapping else None
            await tenant.fetch(
                "INSERT INTO notes (workspace_id, id, title, content, entity_id, created_by, created_by_id, "
                "created_at, updated_at, archived_at) VALUES ($1, $2, $3, $4, $5, 'restore', '', $6, $6, $7)",
                note_id, line["title"], line["content"], entity, parse_rfc3339(line["created_at"]),
                parse_rfc3339(line["archived_at"]) if line.get("archived_at") else None)
            self.mapping[line["id"]] = str(note_id)


async def restore_dump(db: AsyncEngine, lines: Iterable[bytes], *, name: str, pepper: bytes, clock: Clock
                       ) -> tuple[NewWorkspace, dict[str, str]]:
    """Create a workspace named ``name`` holding the dump's content."""
    workspace = await create_workspace(db, name=name, pepper=pepper, clock=clock)
    restorer = Restorer(db, workspace, clock)
    handlers = {"object": restorer.object, "relationship_definition": restorer.relationship_definition,
                "record": restorer.record, "list_entry": restorer.list_entry, "relationship": restorer.relationship,
                "task": restorer.task, "note": restorer.note}
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        line = orjson.loads(raw)
        kind = line.get("kind")
        if kind == "tessera_dump":
            if line.get("version") != 1:
                raise BadRequest(f"Unsupported dump version {line.get('version')}")
            continue
        handler = handlers.get(kind)
        if handler is None:
            raise BadRequest(f"Line {number}: unknown kind {kind!r}")
        await handler(line)
    await restorer.flush_records()
    return workspace, restorer.mapping
