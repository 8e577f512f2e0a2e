"""``tessera admin restore``: rebuild a JSON-lines dump in a NEW workspace. Every id is new (ids
are global), references are remapped; values are the stored forms, so records read back exactly
as they were exported. Returns the mapping old id -> new id for checking."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import TypeVar

import orjson
from sqlalchemy.ext.asyncio import AsyncEngine

from schema_registry.definitions import AttributeTypeName, ObjectDefinition, ObjectType, RelationshipType
from tessera.changes import Actor, Changes, Stamp
from tessera.clock import Clock
from tessera.db.ids import IdAllocator
from tessera.db.sql import WORKSPACE, Params
from tessera.db.tenant import Tenant
from tessera.errors import BadRequest
from tessera.records.repository import get_record
from tessera.records.service import RecordService
from tessera.registry.cache import SchemaCache
from tessera.registry.models import CreateAttributeOptions, SelectOptionRequest
from tessera.registry.service import RegistryService
from tessera.wire import JsonObject, JsonValue, parse_rfc3339
from tessera.workspaces import NewWorkspace, create_workspace

BATCH = 1000
ACTOR = Actor("restore", "")
E = TypeVar("E", bound=StrEnum)


class DumpLine:
    """One line of a dump as it is read back (the formats are ``tessera.transfer.dump``'s): each
    field is checked for the type the dump writes, so a line that is not one of ours is refused
    with its number."""

    __slots__ = ("fields", "number")

    def __init__(self, number: int, fields: JsonObject) -> None:
        self.number = number
        self.fields = fields

    def _refuse(self, key: str, expected: str) -> BadRequest:
        return BadRequest(f"Line {self.number}: '{key}' must be {expected}")

    def text(self, key: str) -> str:
        value = self.fields.get(key)
        if not isinstance(value, str):
            raise self._refuse(key, "a string")
        return value

    def optional_text(self, key: str) -> str | None:
        """The string at ``key``; None when it is null or left out."""
        value = self.fields.get(key)
        if value is not None and not isinstance(value, str):
            raise self._refuse(key, "a string or null")
        return value

    def flag(self, key: str) -> bool:
        """The boolean at ``key``; False when it is null or left out."""
        value = self.fields.get(key)
        if value is not None and not isinstance(value, bool):
            raise self._refuse(key, "a boolean")
        return bool(value)

    def member(self, key: str, kind: type[E]) -> E:
        """The member of the enumeration ``kind`` named at ``key``."""
        value = self.text(key)
        try:
            return kind(value)
        except ValueError as err:
            raise self._refuse(key, "one of " + ", ".join(kind)) from err

    def texts(self, key: str) -> list[str]:
        values = self.fields.get(key)
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise self._refuse(key, "a list of strings")
        return [v for v in values if isinstance(v, str)]

    def lines(self, key: str) -> list[DumpLine]:
        """The objects listed at ``key`` (none when it is null or left out), read the same way."""
        values = self.fields.get(key) or []
        if not isinstance(values, list) or not all(isinstance(v, dict) for v in values):
            raise self._refuse(key, "a list of objects")
        return [DumpLine(self.number, v) for v in values if isinstance(v, dict)]

    def optional_line(self, key: str) -> DumpLine | None:
        value = self.fields.get(key)
        if value is not None and not isinstance(value, dict):
            raise self._refuse(key, "an object or null")
        return DumpLine(self.number, value) if value is not None else None

    def values(self, key: str) -> dict[str, list[JsonValue]]:
        """Attribute slug -> the list of its stored values."""
        values = self.fields.get(key)
        if not isinstance(values, dict) or not all(isinstance(v, list) for v in values.values()):
            raise self._refuse(key, "an object of lists")
        return {slug: stored for slug, stored in values.items() if isinstance(stored, list)}


@dataclass(frozen=True, slots=True)
class _PendingRecord:
    id: str
    """Its id in the dump."""
    object: str
    values: dict[str, list[JsonValue]]


def _write_form(obj: ObjectDefinition, values: Mapping[str, list[JsonValue]]) -> JsonObject:
    """Dumped values (always lists of stored forms) as a write body: single values unwrapped."""
    out: JsonObject = {}
    for slug, stored in values.items():
        attribute = obj.attribute(slug)
        if attribute is not None and stored:
            out[slug] = stored if attribute.is_multi_value else stored[0]
    return out


def _options(attribute: DumpLine) -> CreateAttributeOptions:
    """A dumped attribute's options (``AttributeOptionsResponse``) as the options it is created with."""
    options = attribute.optional_line("options")
    if options is None:
        return CreateAttributeOptions()
    select_options = [SelectOptionRequest(id=o.text("id"), name=o.text("name"))
                      for o in options.lines("select_options")]
    return CreateAttributeOptions(
        is_required=options.flag("is_required"), is_unique=options.flag("is_unique"),
        is_multi_value=options.flag("is_multi_value"), use_raw_format=options.flag("use_raw_format"),
        is_whole_number=options.flag("is_whole_number"), select_options=select_options or None)


def _when(line: DumpLine, key: str) -> datetime | None:
    text = line.optional_text(key)
    return parse_rfc3339(text) if text else None


class Restorer:
    def __init__(self, db: AsyncEngine, workspace: NewWorkspace, clock: Clock) -> None:
        self.db = db
        self.workspace = workspace
        self.schemas = SchemaCache(ttl_seconds=0, clock=clock)
        self.ids = IdAllocator()
        self.mapping: dict[str, str] = {}
        self.definitions: dict[str, int] = {}
        self.pending: list[_PendingRecord] = []

    def _changes(self) -> Changes:
        return Changes(self.ids, Stamp(ACTOR, datetime.now(UTC)))

    async def object(self, line: DumpLine) -> None:
        async with self.db.begin() as conn:
            tenant = Tenant(conn, self.workspace.workspace_id)
            changes = self._changes()
            registry = RegistryService(tenant, self.schemas, changes)
            schema = await self.schemas.for_change(tenant)
            obj = schema.object(line.text("slug"))
            if obj is None:
                kind = line.member("type", ObjectType)
                if kind is ObjectType.LIST:
                    obj = await registry.create_list(line.text("parent"), name=line.text("name"),
                                                     slug=line.text("slug"),
                                                     name_plural=line.optional_text("name_plural"),
                                                     description=line.optional_text("description"))
                else:
                    obj = await registry.create_object(name=line.text("name"), slug=line.text("slug"),
                                                       name_plural=line.optional_text("name_plural"),
                                                       description=line.optional_text("description"), type_=kind)
            for attribute in line.lines("attributes"):
                if obj.attribute(attribute.text("slug")) is None:
                    await registry.create_attribute(obj.slug, name=attribute.text("name"), slug=attribute.text("slug"),
                                                    type_=attribute.member("type", AttributeTypeName),
                                                    description=attribute.optional_text("description"),
                                                    options=_options(attribute))
            await changes.flush(tenant)

    async def relationship_definition(self, line: DumpLine) -> None:
        async with self.db.begin() as conn:
            tenant = Tenant(conn, self.workspace.workspace_id)
            schema = await self.schemas.for_change(tenant)
            ends = (line.optional_text("entity_1"), line.optional_text("entity_2"))
            one, two = (schema.object(slug) if slug is not None else None for slug in ends)
            if one is None or two is None:
                raise BadRequest("The dump's relationship definition names an object it does not define")
            changes = self._changes()
            created = await RegistryService(tenant, self.schemas, changes).relate_objects(
                line.member("type", RelationshipType), one, two,
                predicate_1_to_2=line.optional_text("entity_1_to_2_predicate") or "",
                predicate_2_to_1=line.optional_text("entity_2_to_1_predicate") or "")
            await changes.flush(tenant)
            self.definitions[line.text("id")] = created.id

    async def flush_records(self) -> None:
        if not self.pending:
            return
        lines, self.pending = self.pending, []
        async with self.db.begin() as conn:
            tenant = Tenant(conn, self.workspace.workspace_id)
            schema = await self.schemas.for_write(tenant)
            obj = schema.object(lines[0].object)
            assert obj is not None
            service = RecordService(tenant, schema, self._changes())
            results = await service.create_batch(obj, [_write_form(obj, line.values) for line in lines])
            for line, result in zip(lines, results, strict=True):
                if result.status != "created" or result.id is None:
                    raise BadRequest(f"Record {line.id} could not be restored: {result.error}")
                self.mapping[line.id] = str(result.id)

    async def record(self, line: DumpLine) -> None:
        pending = _PendingRecord(line.text("id"), line.text("object"), line.values("values"))
        if self.pending and (self.pending[0].object != pending.object or len(self.pending) >= BATCH):
            await self.flush_records()
        self.pending.append(pending)

    async def list_entry(self, line: DumpLine) -> None:
        await self.flush_records()
        async with self.db.begin() as conn:
            tenant = Tenant(conn, self.workspace.workspace_id)
            schema = await self.schemas.for_write(tenant)
            lst: ObjectDefinition | None = schema.object(line.text("object"))
            parent = await get_record(tenant, int(self.mapping[line.text("parent")]))
            assert lst is not None and parent is not None
            service = RecordService(tenant, schema, self._changes())
            entry = await service.create(lst, _write_form(lst, line.values("values")), parent=parent)
            self.mapping[line.text("id")] = str(entry.id)

    async def relationship(self, line: DumpLine) -> None:
        await self.flush_records()
        async with self.db.begin() as conn:
            tenant = Tenant(conn, self.workspace.workspace_id)
            schema = await self.schemas.for_write(tenant)
            definition = schema.relationship(self.definitions[line.text("definition")])
            assert definition is not None
            (rel_id,) = await self.ids.take(conn, 1)
            params = Params()
            values = ", ".join(params.add(v) for v in (rel_id, definition.id, definition.type.value,
                                                        int(self.mapping[line.text("entity_1")]),
                                                        int(self.mapping[line.text("entity_2")])))
            await tenant.fetch(
                "INSERT INTO relationships (workspace_id, id, definition_id, type, entity_1_id, entity_2_id) "
                f"VALUES ({WORKSPACE}, {values})", *params.values)
            self.mapping[line.text("id")] = str(rel_id)

    async def task(self, line: DumpLine) -> None:
        await self.flush_records()
        async with self.db.begin() as conn:
            tenant = Tenant(conn, self.workspace.workspace_id)
            (task_id,) = await self.ids.take(conn, 1)
            params = Params()
            values = [params.add(v) for v in (
                task_id, line.text("title"), line.text("description"), line.text("priority"), _when(line, "due_date"),
                line.flag("is_completed"), _when(line, "completed_at"), line.texts("assignee_ids"))]
            created, archived = params.add(_when(line, "created_at")), params.add(_when(line, "archived_at"))
            await tenant.fetch(
                "INSERT INTO tasks (workspace_id, id, title, description, priority, due_date, is_completed, "
                "completed_at, assignee_ids, created_by, created_by_id, created_at, updated_at, archived_at) "
                f"VALUES ({WORKSPACE}, {', '.join(values)}, 'restore', '', {created}, {created}, {archived})",
                *params.values)
            entities = [int(self.mapping[e]) for e in line.texts("entity_ids") if e in self.mapping]
            if entities:
                links = Params()
                await tenant.fetch("INSERT INTO task_entities (workspace_id, task_id, record_id) "
                                   f"SELECT $1, {links.add(task_id)}, unnest({links.add(entities, 'bigint[]')})",
                                   *links.values)
            self.mapping[line.text("id")] = str(task_id)

    async def note(self, line: DumpLine) -> None:
        await self.flush_records()
        async with self.db.begin() as conn:
            tenant = Tenant(conn, self.workspace.workspace_id)
            (note_id,) = await self.ids.take(conn, 1)
            entity_id = line.optional_text("entity_id")
            entity = int(self.mapping[entity_id]) if entity_id is not None and entity_id in self.mapping else None
            params = Params()
            values = ", ".join(params.add(v) for v in (note_id, line.text("title"), line.text("content"), entity))
            created = params.add(parse_rfc3339(line.text("created_at")))
            archived = params.add(_when(line, "archived_at"))
            await tenant.fetch(
                "INSERT INTO notes (workspace_id, id, title, content, entity_id, created_by, created_by_id, "
                f"created_at, updated_at, archived_at) VALUES ({WORKSPACE}, {values}, 'restore', '', {created}, "
                f"{created}, {archived})", *params.values)
            self.mapping[line.text("id")] = str(note_id)


async def restore_dump(db: AsyncEngine, lines: Iterable[bytes], *, name: str, pepper: bytes, clock: Clock
                       ) -> tuple[NewWorkspace, dict[str, str]]:
    """Create a workspace named ``name`` holding the dump's content."""
    workspace = await create_workspace(db, name=name, pepper=pepper, clock=clock)
    restorer = Restorer(db, workspace, clock)
    handlers: dict[str, Callable[[DumpLine], Awaitable[None]]] = {
        "object": restorer.object, "relationship_definition": restorer.relationship_definition,
        "record": restorer.record, "list_entry": restorer.list_entry, "relationship": restorer.relationship,
        "task": restorer.task, "note": restorer.note}
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        parsed: JsonValue = orjson.loads(raw)
        if not isinstance(parsed, dict):
            raise BadRequest(f"Line {number}: not a JSON object")
        kind = parsed.get("kind")
        if kind == "tessera_dump":
            if parsed.get("version") != 1:
                raise BadRequest(f"Unsupported dump version {parsed.get('version')}")
            continue
        handler = handlers.get(kind) if isinstance(kind, str) else None
        if handler is None:
            raise BadRequest(f"Line {number}: unknown kind {kind!r}")
        await handler(DumpLine(number, parsed))
    await restorer.flush_records()
    return workspace, restorer.mapping
