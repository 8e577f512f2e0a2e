"""Record writes and reads: create, upsert, update, delete — for records and for list entries
(a list entry is a record of the list's object whose ``parent_record_id`` is the listed record) —
and batches of up to 1,000 creates or upserts.

Every write validates against the schema held stable for the transaction, plans a ``ChangeSet``
(``records.changeset``) and applies it with its events in one statement, refusing the whole
request (nothing written) on any problem. A batch is one transaction with per-item results: an
item that fails validation or conflicts on a unique value reports its error and is left out, the
others commit together; items of one batch that share a matching value are applied in order (the
second updates the first).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from schema_registry.compiler import Mode
from schema_registry.definitions import AttributeDefinition, ObjectDefinition
from schema_registry.issues import RecordValidationError
from schema_registry.validation import validate_attributes
from schema_registry.workspace import WorkspaceSchema
from tessera.changes import Changes
from tessera.db.ids import id_from_text
from tessera.db.tenant import Tenant
from tessera.errors import BadRequest, Conflict, FieldError, NotFound, TesseraError
from tessera.records import repository
from tessera.records.changeset import ChangeSet, Values, changed_attributes, plan_create, plan_delete, plan_update
from tessera.records.repository import RecordRow
from tessera.records.values import unique_keys
from tessera.wire import JsonObject

MAX_UPSERT_RETRIES = 3
MAX_ROUNDS = 5
"""Rounds of a batch create: each round drops the items that lost a unique value to a concurrent write."""


def invalid(err: RecordValidationError) -> BadRequest:
    first = err.issues[0]
    more = f" (and {len(err.issues) - 1} more problems)" if len(err.issues) > 1 else ""
    return BadRequest(f"Invalid attributes: {first.path}: {first.message}{more}",
                      errors=[FieldError(i.path, i.message) for i in err.issues])


@dataclass(frozen=True, slots=True)
class ItemResult:
    """What happened to one item of a batch: ``created``/``updated`` with the record id, or ``error``."""

    index: int
    status: Literal["created", "updated", "error"]
    id: int | None = None
    error: TesseraError | None = None


class RecordService:
    def __init__(self, tenant: Tenant, schema: WorkspaceSchema, changes: Changes) -> None:
        self.tenant = tenant
        self.schema = schema
        self.changes = changes

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

    def parent_object(self, lst: ObjectDefinition) -> ObjectDefinition | None:
        """The object whose records list ``lst`` holds."""
        return self.schema.object_by_id(lst.parent_object_id or 0)

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

    def _validate(self, obj: ObjectDefinition, raw: JsonObject, mode: Mode) -> Values:
        """The stored values of a request's ``attributes`` (400 listing every problem)."""
        try:
            return validate_attributes(obj, raw, mode)
        except RecordValidationError as err:
            raise invalid(err) from err

    async def _ids(self, count: int) -> list[int]:
        return await self.changes.ids.take(self.tenant.conn, count)

    async def _apply(self, changes: ChangeSet) -> set[tuple[int, str]]:
        """Apply a change set with its events (rendered here, in the same statement)."""
        events = await self.changes.render(self.tenant, changes.events, webhooks=self.schema.webhooks)
        return await repository.apply(self.tenant, changes, events, self.changes.stamp)

    @staticmethod
    def _refuse_lost_claims(changes: ChangeSet, granted: set[tuple[int, str]]) -> None:
        lost = changes.lost(granted)
        if lost:
            attribute = lost[0][1]
            raise Conflict(f"Another record already has this value of unique attribute '{attribute.slug}'",
                           errors=[FieldError(f"attributes.{attribute.slug}", "value already taken")])

    # --- create ---------------------------------------------------------------------------

    async def create(self, obj: ObjectDefinition, raw: JsonObject, *, parent: RecordRow | None = None) -> RecordRow:
        values = self._validate(obj, raw, "create")
        changes = plan_create(obj, [values], ids=await self._ids(1), stamp=self.changes.stamp,
                              workspace_id=self.tenant.workspace_id, parent=parent,
                              parent_obj=self.parent_object(obj) if parent is not None else None)
        self._refuse_lost_claims(changes, await self._apply(changes))
        return changes.inserts[0]

    # --- update ---------------------------------------------------------------------------

    async def update(self, obj: ObjectDefinition, row: RecordRow, raw: JsonObject) -> RecordRow:
        """Replace the values of the attributes ``raw`` names (null clears); ``row`` must be locked."""
        values = self._validate(obj, raw, "update")
        for slug, stored in values.items():
            attribute = obj.attribute(slug)
            if attribute is not None and attribute.is_required and not stored:
                raise BadRequest(f"'{slug}' is required and cannot be cleared",
                                 errors=[FieldError(f"attributes.{slug}", "is required")])
        changed = changed_attributes(obj, row, values)
        if not changed:
            return row
        changes = plan_update(obj, row, values, changed, history_ids=await self._ids(len(changed)),
                              stamp=self.changes.stamp, workspace_id=self.tenant.workspace_id,
                              parent_obj=self.parent_object(obj) if row.parent_record_id is not None else None)
        self._refuse_lost_claims(changes, await self._apply(changes))
        return changes.updates[0]

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

    def _missing_required(self, obj: ObjectDefinition, values: Values) -> None:
        missing = [a.slug for a in obj.attributes if a.is_required and not values.get(a.slug)]
        if missing:
            raise BadRequest(f"Missing required attributes: {', '.join(missing)}",
                             errors=[FieldError(f"attributes.{slug}", "is required") for slug in missing])

    async def upsert(self, obj: ObjectDefinition, matching: str, raw: JsonObject) -> tuple[RecordRow, bool]:
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
        entries = []
        for entry in await repository.entries_of(self.tenant, row.id):
            lst = self.schema.object_by_id(entry.object_id)
            if lst is not None:
                entries.append((lst, entry))
        await self._apply(plan_delete(obj, row, entries))

    # --- list entries ---------------------------------------------------------------------

    async def parent_for(self, lst: ObjectDefinition, parent_id: str | None) -> RecordRow:
        if not parent_id:
            raise BadRequest("parent_id is required", errors=[FieldError("parent_id", "is required")])
        record_id = id_from_text(parent_id)
        obj, row = await self.record(record_id)
        if obj.id != lst.parent_object_id:
            held = self.parent_object(lst)
            raise BadRequest(f"Record {parent_id} is a '{obj.slug}', but this list holds "
                             f"'{held.slug if held else 'list'}' records",
                             errors=[FieldError("parent_id", "wrong object type")])
        return row

    async def add_entry(self, lst: ObjectDefinition, parent: RecordRow, raw: JsonObject | None) -> RecordRow:
        if await repository.find_entry(self.tenant, lst.id, parent.id) is not None:
            raise Conflict("The record is already in this list; use PUT to update its entry")
        return await self.create(lst, raw or {}, parent=parent)

    async def upsert_entry(self, lst: ObjectDefinition, parent: RecordRow, raw: JsonObject | None) -> RecordRow:
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
        await self._apply(plan_delete(lst, entry))

    # --- batches ----------------------------------------------------------------------------

    def _validated(self, obj: ObjectDefinition, items: Sequence[JsonObject], mode: Mode,
                   results: dict[int, ItemResult]) -> dict[int, Values]:
        valid: dict[int, Values] = {}
        for index, raw in enumerate(items):
            try:
                valid[index] = self._validate(obj, raw, mode)
            except BadRequest as err:
                results[index] = ItemResult(index, "error", error=err)
        return valid

    async def _create_items(self, obj: ObjectDefinition, items: dict[int, Values],
                            results: dict[int, ItemResult]) -> None:
        """Insert validated items in one statement per round; an item losing a unique claim gets a
        409 result and the round is redone without it."""
        pending = dict(items)
        for _ in range(MAX_ROUNDS):
            if not pending:
                return
            # Values repeated inside the batch: the first item keeps them.
            taken: dict[tuple[int, str], int] = {}
            for index, values in list(pending.items()):
                for slug, stored in values.items():
                    attribute = obj.attribute(slug)
                    if attribute is None or not attribute.is_unique or not stored:
                        continue
                    for key in unique_keys(attribute, stored):
                        owner = taken.setdefault((attribute.id, key), index)
                        if owner != index and index in pending:
                            del pending[index]
                            results[index] = ItemResult(index, "error", error=Conflict(
                                f"Repeats a value of unique attribute '{slug}' given by item {owner}"))
            order = list(pending)
            changes = plan_create(obj, [pending[i] for i in order], ids=await self._ids(len(order)),
                                  stamp=self.changes.stamp, workspace_id=self.tenant.workspace_id)
            await self.tenant.savepoint("batch")
            lost = {order[position] for position, _ in changes.lost(await self._apply(changes))}
            if not lost:
                await self.tenant.release("batch")
                for index, row in zip(order, changes.inserts, strict=True):
                    results[index] = ItemResult(index, "created", id=row.id)
                return
            await self.tenant.rollback_to("batch")
            for index in lost:
                del pending[index]
                results[index] = ItemResult(index, "error", error=Conflict(
                    "Another record already has a value of a unique attribute"))
        for index in pending:
            results[index] = ItemResult(index, "error", error=Conflict("Too much contention"))

    async def create_batch(self, obj: ObjectDefinition, items: Sequence[JsonObject]) -> list[ItemResult]:
        results: dict[int, ItemResult] = {}
        await self._create_items(obj, self._validated(obj, items, "create", results), results)
        return [results[i] for i in range(len(items))]

    async def upsert_batch(self, obj: ObjectDefinition, items: Sequence[JsonObject], matching: str
                           ) -> list[ItemResult]:
        attribute = self.matching_attribute(obj, matching)
        results: dict[int, ItemResult] = {}
        valid = self._validated(obj, items, "update", results)
        keys_of: dict[int, list[str]] = {}
        for index, values in list(valid.items()):
            stored = values.get(attribute.slug)
            if not stored:
                del valid[index]
                results[index] = ItemResult(index, "error", error=BadRequest(
                    f"Missing a value for matching_attribute '{attribute.slug}'"))
                continue
            keys_of[index] = unique_keys(attribute, stored)
        # Items sharing a matching value go to later rounds, so each round's keys are distinct.
        remaining = sorted(valid)
        while remaining:
            seen: set[str] = set()
            this_round: list[int] = []
            later: list[int] = []
            for index in remaining:
                (later if seen & set(keys_of[index]) else this_round).append(index)
                seen |= set(keys_of[index])
            existing = await repository.find_by_unique(self.tenant, attribute.id,
                                                       [k for i in this_round for k in keys_of[i]])
            creates: dict[int, Values] = {}
            for index in this_round:
                matches = {existing[k] for k in keys_of[index] if k in existing}
                if len(matches) > 1:
                    results[index] = ItemResult(index, "error", error=Conflict(
                        f"Values of '{attribute.slug}' match {len(matches)} records"))
                elif matches:
                    results[index] = await self._update_item(obj, index, matches.pop(), items[index])
                else:
                    try:
                        self._missing_required(obj, valid[index])
                    except BadRequest as err:
                        results[index] = ItemResult(index, "error", error=err)
                        continue
                    creates[index] = valid[index]
            await self._create_items(obj, creates, results)
            remaining = later
        return [results[i] for i in range(len(items))]

    async def _update_item(self, obj: ObjectDefinition, index: int, record_id: int, raw: JsonObject) -> ItemResult:
        await self.tenant.savepoint("item")
        try:
            _, row = await self.record(record_id, lock=True)
            await self.update(obj, row, raw)
        except TesseraError as err:
            await self.tenant.rollback_to("item")
            return ItemResult(index, "error", error=err)
        await self.tenant.release("item")
        return ItemResult(index, "updated", id=record_id)
