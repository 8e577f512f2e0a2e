"""Record writes and reads: create, upsert, update, delete — for records and for list entries
(a list entry is a record of the list's object whose ``parent_record_id`` is the listed record).

Every write validates against the schema held stable for the transaction, writes value rows,
uniqueness claims, history, a timeline event and outbox rows in one statement, and refuses the
whole request (nothing written) on any problem.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from schema_registry.definitions import AttributeDefinition, ObjectDefinition
from schema_registry.issues import RecordValidationError
from schema_registry.validation import validate_attributes
from schema_registry.workspace import WorkspaceSchema
from tessera.db.ids import IdAllocator, id_from_text
from tessera.db.tenant import Tenant
from tessera.errors import BadRequest, Conflict, FieldError, NotFound
from tessera.events import SEARCH, Actor, EventBatch
from tessera.records import repository
from tessera.records.repository import Claims, History, RecordRow
from tessera.records.values import (
    Data,
    ValueRows,
    add_value_rows,
    field_changes,
    primary_value,
    read_attributes,
    unique_keys,
)
from tessera.wire import iso

MAX_UPSERT_RETRIES = 3


def invalid(err: RecordValidationError) -> BadRequest:
    first = err.issues[0]
    more = f" (and {len(err.issues) - 1} more problems)" if len(err.issues) > 1 else ""
    return BadRequest(f"Invalid attributes: {first.path}: {first.message}{more}",
                      errors=[FieldError(i.path, i.message) for i in err.issues])


def record_to_json(obj: ObjectDefinition, row: RecordRow, workspace_id: int,
                   only: list[AttributeDefinition] | None = None) -> dict[str, Any]:
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


@dataclass
class _Prepared:
    data: Data
    rows: ValueRows
    claims: Claims
    wanted: dict[tuple[int, str], AttributeDefinition]


class RecordService:
    def __init__(self, tenant: Tenant, schema: WorkspaceSchema, *, ids: IdAllocator, actor: Actor,
                 now: datetime) -> None:
        self.tenant = tenant
        self.schema = schema
        self.ids = ids
        self.actor = actor
        self.now = now

    # --- lookups --------------------------------------------------------------------------

    def object(self, slug: str) -> ObjectDefinition:
        obj = self.schema.object(slug)
        if obj is None:
            raise NotFound(f"Object '{slug[:80]}' not found")
        if obj.is_list:
            raise BadRequest(f"'{slug}' is a list: add entries with POST /v1/lists/{obj.id}")
        return obj

    def list_object(self, list_id: int | None) -> ObjectDefinition:
        obj = self.schema.object_by_id(list_id) if list_id is not None else None
        if obj is None or not obj.is_list:
            raise NotFound("List not found")
        return obj

    async def record(self, record_id: int | None, *, lock: bool = False) -> tuple[ObjectDefinition, RecordRow]:
        """A record (not a list entry) of this workspace, or 404."""
        row = None
        if record_id is not None:
            get = repository.lock_record if lock else repository.get_record
            row = await get(self.tenant, record_id)
        obj = self.schema.object_by_id(row.object_id) if row else None
        if row is None or obj is None or obj.is_list:
            raise NotFound("Record not found")
        return obj, row

    # --- shared write steps ---------------------------------------------------------------

    def _validate(self, obj: ObjectDefinition, raw: Any, mode: str) -> dict[str, list[Any] | None]:
        try:
            return validate_attributes(obj, raw, mode)  # type: ignore[arg-type]
        except RecordValidationError as err:
            raise invalid(err) from err

    def _prepare(self, obj: ObjectDefinition, record_id: int, values: dict[str, list[Any] | None],
                 base: Data | None = None) -> tuple[_Prepared, list[AttributeDefinition]]:
        """New read model and the rows of the attributes that change."""
        data: Data = dict(base or {})
        changed: list[AttributeDefinition] = []
        rows, claims = ValueRows.empty(), Claims.empty()
        wanted: dict[tuple[int, str], AttributeDefinition] = {}
        for slug, stored in values.items():
            attribute = obj.attribute(slug)
            assert attribute is not None  # validation refuses unknown slugs
            key = str(attribute.id)
            if data.get(key) == stored or (not stored and key not in data):
                continue
            changed.append(attribute)
            if stored:
                data[key] = stored
                add_value_rows(rows, record_id, attribute, stored)
                if attribute.is_unique:
                    for claim in unique_keys(attribute, stored):
                        claims.add(attribute.id, claim, record_id)
                        wanted[(attribute.id, claim)] = attribute
            else:
                data.pop(key, None)
        return _Prepared(data, rows, claims, wanted), changed

    @staticmethod
    def _refuse_lost_claims(prepared: _Prepared, granted: set[tuple[int, str]], values: dict[str, Any]) -> None:
        lost = [attr for key, attr in prepared.wanted.items() if key not in granted]
        if lost:
            attribute = lost[0]
            raise Conflict(f"Another record already has this value of unique attribute '{attribute.slug}'",
                           errors=[FieldError(f"attributes.{attribute.slug}", "value already taken")])

    def _entity_payload(self, obj: ObjectDefinition, record_id: int, data: Data,
                        changes: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        payload: dict[str, Any] = {"entity": {"id": str(record_id), "definition_id": str(obj.id), "type": obj.slug,
                                              "name": primary_value(obj, data)}}
        if changes is None:
            payload["entity"]["attributes"] = read_attributes(obj, data)
        else:
            payload["field_changes"] = changes
        return payload

    def _entry_payload(self, lst: ObjectDefinition, entry_id: int, parent_id: int,
                       changes: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        payload: dict[str, Any] = {"list_item": {"id": str(entry_id), "definition_id": str(lst.id),
                                                 "list_name": lst.name, "parent_id": str(parent_id)}}
        if changes is not None:
            payload["field_changes"] = changes
        return payload

    def _hook(self, events: EventBatch, event_type: str, obj: ObjectDefinition, row: RecordRow,
              changes: list[dict[str, Any]] | None = None) -> None:
        """Queue the webhook event of a record or list-entry change (only when webhooks exist)."""
        if not self.schema.webhooks:
            return
        group = "list_entry" if row.parent_record_id is not None else "record"
        if event_type == "deleted":
            data: dict[str, Any] = {"id": str(row.id), "object_id": str(obj.id), "type": obj.slug}
            if row.parent_record_id is not None:
                data["parent_id"] = str(row.parent_record_id)
        elif row.parent_record_id is not None:
            data = entry_to_json(obj, self.schema.object_by_id(obj.parent_object_id or 0), row,
                                 self.tenant.workspace_id)
        else:
            data = record_to_json(obj, row, self.tenant.workspace_id)
        if changes is not None:
            data["field_changes"] = changes
        state = {"id": row.id, "object_slug": obj.slug, "created_at": row.created_at.isoformat(),
                 "updated_at": row.updated_at.isoformat(), "data": row.data,
                 "parent_id": row.parent_record_id}
        events.webhook(f"{group}.{event_type}", group, row.id, data, state)

    # --- create ---------------------------------------------------------------------------

    async def create(self, obj: ObjectDefinition, raw: Any, *, parent: RecordRow | None = None) -> RecordRow:
        values = self._validate(obj, raw, "create")
        record_id, event_id = await self.ids.take(self.tenant.conn, 2)
        prepared, _ = self._prepare(obj, record_id, values)
        events = EventBatch()
        if parent is None:
            events.timeline(event_id, record_id, "entity", record_id, "created",
                            self._entity_payload(obj, record_id, prepared.data))
            events.outbox(SEARCH, "record.created", "record", record_id, {"object_id": str(obj.id)})
        else:
            events.timeline(event_id, parent.id, "list_item", record_id, "created",
                            self._entry_payload(obj, record_id, parent.id))
        created = RecordRow(id=record_id, object_id=obj.id, parent_record_id=parent.id if parent else None,
                            data=prepared.data, value_meta={}, created_by=self.actor.name,
                            created_by_id=self.actor.id, created_at=self.now, updated_at=self.now)
        self._hook(events, "created", obj, created)
        granted = await repository.insert_records(
            self.tenant, object_id=obj.id, ids=[record_id], parents=[parent.id if parent else None],
            data=[orjson.dumps(prepared.data).decode()], rows=prepared.rows, claims=prepared.claims,
            events=events, actor=self.actor, now=self.now)
        self._refuse_lost_claims(prepared, granted, values)
        return created

    # --- update ---------------------------------------------------------------------------

    async def update(self, obj: ObjectDefinition, row: RecordRow, raw: Any, *,
                     parent_list: bool = False) -> RecordRow:
        """Replace the values of the attributes ``raw`` names (null clears); ``row`` must be locked."""
        values = self._validate(obj, raw, "update")
        for slug, stored in values.items():
            attribute = obj.attribute(slug)
            if attribute is not None and attribute.is_required and not stored:
                raise BadRequest(f"'{slug}' is required and cannot be cleared",
                                 errors=[FieldError(f"attributes.{slug}", "is required")])
        prepared, changed = self._prepare(obj, row.id, values, row.data)
        if not changed:
            return row
        await repository.clear_values(self.tenant, row.id, [a.id for a in changed],
                                      [a.id for a in changed if a.is_unique])
        history = History.empty()
        meta = dict(row.value_meta)
        changes = field_changes(obj, row.data, prepared.data, changed)
        history_ids = await self.ids.take(self.tenant.conn, len(changed) + 1)
        for attribute, history_id in zip(changed, history_ids, strict=False):
            key = str(attribute.id)
            old = row.data.get(key)
            if old:
                since = meta.get(key, {})
                history.id.append(history_id)
                history.record_id.append(row.id)
                history.attribute_id.append(attribute.id)
                history.value.append(orjson.dumps(old).decode())
                history.active_from.append(datetime.fromisoformat(since["since"]) if "since" in since
                                           else row.created_at)
                history.actor.append(since.get("actor", row.created_by))
                history.actor_id.append(since.get("actor_id", row.created_by_id))
            meta[key] = {"since": self.now.isoformat(), "actor": self.actor.name, "actor_id": self.actor.id}
        events = EventBatch()
        event_id = history_ids[-1]
        if row.parent_record_id is None:
            events.timeline(event_id, row.id, "entity", row.id, "updated",
                            self._entity_payload(obj, row.id, prepared.data, changes))
            events.outbox(SEARCH, "record.updated", "record", row.id, {"object_id": str(obj.id)})
        else:
            events.timeline(event_id, row.parent_record_id, "list_item", row.id, "updated",
                            self._entry_payload(obj, row.id, row.parent_record_id, changes))
        updated = RecordRow(id=row.id, object_id=row.object_id, parent_record_id=row.parent_record_id,
                            data=prepared.data, value_meta=meta, created_by=row.created_by,
                            created_by_id=row.created_by_id, created_at=row.created_at, updated_at=self.now)
        self._hook(events, "updated", obj, updated, changes)
        granted = await repository.update_record(
            self.tenant, record_id=row.id, data=orjson.dumps(prepared.data).decode(),
            value_meta=orjson.dumps(meta).decode(), rows=prepared.rows, claims=prepared.claims, history=history,
            events=events, actor=self.actor, now=self.now)
        self._refuse_lost_claims(prepared, granted, values)
        return updated

    # --- upsert ---------------------------------------------------------------------------

    def matching_attribute(self, obj: ObjectDefinition, name: str) -> AttributeDefinition:
        attribute = obj.attribute(name)
        if attribute is None and (attribute_id := id_from_text(name)) is not None:
            attribute = obj.attribute_by_id(attribute_id)
        if attribute is None:
            raise BadRequest(f"matching_attribute '{name[:80]}' is not an attribute of '{obj.slug}'",
                             errors=[FieldError("matching_attribute", "unknown attribute")])
        if not attribute.is_unique:
            raise BadRequest(f"matching_attribute '{attribute.slug}' must be a unique attribute",
                             errors=[FieldError("matching_attribute", "not unique")])
        return attribute

    def _missing_required(self, obj: ObjectDefinition, values: dict[str, Any]) -> None:
        missing = [a.slug for a in obj.attributes if a.is_required and not values.get(a.slug)]
        if missing:
            raise BadRequest(f"Missing required attributes: {', '.join(missing)}",
                             errors=[FieldError(f"attributes.{slug}", "is required") for slug in missing])

    async def upsert(self, obj: ObjectDefinition, matching: str, raw: Any) -> tuple[RecordRow, bool]:
        """Update the one record whose ``matching`` value matches, else create one. Concurrent
        upserts of one value converge on one record."""
        attribute = self.matching_attribute(obj, matching)
        values = self._validate(obj, raw, "update")
        stored = values.get(attribute.slug)
        if not stored:
            raise BadRequest(f"The body must carry a value for matching_attribute '{attribute.slug}'",
                             errors=[FieldError(f"attributes.{attribute.slug}", "required for matching")])
        keys = unique_keys(attribute, stored)
        for _ in range(MAX_UPSERT_RETRIES):
            found = set((await repository.find_by_unique(self.tenant, attribute.id, keys)).values())
            if len(found) > 1:
                raise Conflict(f"The values of '{attribute.slug}' match {len(found)} different records")
            if found:
                _, row = await self.record(found.pop(), lock=True)
                return await self.update(obj, row, raw), False
            self._missing_required(obj, values)
            await self.tenant.savepoint("upsert")
            try:
                created = await self.create(obj, raw)
            except Conflict:
                # Someone claimed a value meanwhile: if it was the matching one, update theirs.
                await self.tenant.rollback_to("upsert")
                if await repository.find_by_unique(self.tenant, attribute.id, keys):
                    continue
                raise
            await self.tenant.release("upsert")
            return created, True
        raise Conflict("Concurrent writes kept changing the matching record; retry")

    # --- delete ---------------------------------------------------------------------------

    async def delete(self, record_id: int | None) -> None:
        obj, row = await self.record(record_id, lock=True)
        entries = await repository.entries_of(self.tenant, row.id)
        ids = await self.ids.take(self.tenant.conn, len(entries) + 1)
        events = EventBatch()
        events.timeline(ids[0], row.id, "entity", row.id, "deleted", self._entity_payload(obj, row.id, row.data))
        events.outbox(SEARCH, "record.deleted", "record", row.id, {"object_id": str(obj.id)})
        self._hook(events, "deleted", obj, row)
        for entry, event_id in zip(entries, ids[1:], strict=True):
            lst = self.schema.object_by_id(entry.object_id)
            if lst is not None:
                events.timeline(event_id, row.id, "list_item", entry.id, "deleted",
                                self._entry_payload(lst, entry.id, row.id))
                self._hook(events, "deleted", lst, entry)
        await repository.delete_records(self.tenant, [row.id], events, self.actor, self.now)

    # --- list entries ---------------------------------------------------------------------

    async def parent_for(self, lst: ObjectDefinition, parent_id: str | None) -> RecordRow:
        if not parent_id:
            raise BadRequest("parent_id is required", errors=[FieldError("parent_id", "is required")])
        record_id = id_from_text(parent_id)
        obj, row = await self.record(record_id)
        if obj.id != lst.parent_object_id:
            raise BadRequest(f"Record {parent_id} is a '{obj.slug}', but this list holds "
                             f"'{self.schema.object_by_id(lst.parent_object_id or 0).slug}' records"  # type: ignore[union-attr]
                             , errors=[FieldError("parent_id", "wrong object type")])
        return row

    async def add_entry(self, lst: ObjectDefinition, parent: RecordRow, raw: Any) -> RecordRow:
        if await repository.find_entry(self.tenant, lst.id, parent.id) is not None:
            raise Conflict("The record is already in this list; use PUT to update its entry")
        return await self.create(lst, raw or {}, parent=parent)

    async def upsert_entry(self, lst: ObjectDefinition, parent: RecordRow, raw: Any) -> RecordRow:
        entry = await repository.find_entry(self.tenant, lst.id, parent.id, lock=True)
        if entry is None:
            await self.tenant.savepoint("entry")
            try:
                created = await self.create(lst, raw or {}, parent=parent)
            except Conflict:
                await self.tenant.rollback_to("entry")
                entry = await repository.find_entry(self.tenant, lst.id, parent.id, lock=True)
                if entry is None:
                    raise
            else:
                await self.tenant.release("entry")
                return created
        return await self.update(lst, entry, raw or {})

    async def entry(self, lst: ObjectDefinition, parent_id: str, *, lock: bool = False) -> RecordRow:
        record_id = id_from_text(parent_id)
        entry = await repository.find_entry(self.tenant, lst.id, record_id, lock=lock) if record_id else None
        if entry is None:
            raise NotFound("The record is not in this list")
        return entry

    async def remove_entry(self, lst: ObjectDefinition, parent_id: str) -> None:
        entry = await self.entry(lst, parent_id, lock=True)
        assert entry.parent_record_id is not None
        (event_id,) = await self.ids.take(self.tenant.conn, 1)
        events = EventBatch()
        events.timeline(event_id, entry.parent_record_id, "list_item", entry.id, "deleted",
                        self._entry_payload(lst, entry.id, entry.parent_record_id))
        self._hook(events, "deleted", lst, entry)
        await repository.delete_records(self.tenant, [entry.id], events, self.actor, self.now)


def entry_to_json(lst: ObjectDefinition, parent_obj: ObjectDefinition | None, entry: RecordRow,
                  workspace_id: int) -> dict[str, Any]:
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
