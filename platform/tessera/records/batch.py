"""Batch writes (beyond the spec): up to 1,000 creates or upserts in one request.

One transaction per batch, with per-item results: an item that fails validation or conflicts
on a unique value reports its error and is left out, the others commit together. Creates are
written with one multi-row statement; upserts that match an existing record update it. Items of
one batch that share a matching value are applied in order (the second updates the first).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from schema_registry.definitions import ObjectDefinition
from schema_registry.issues import RecordValidationError
from schema_registry.validation import validate_attributes
from tessera.errors import TesseraError
from tessera.events import SEARCH, EventBatch
from tessera.records import repository
from tessera.records.repository import Claims, RecordRow
from tessera.records.service import RecordService, invalid
from tessera.records.values import ValueRows, add_value_rows, unique_keys

MAX_ROUNDS = 5


@dataclass
class ItemResult:
    index: int
    status: str
    id: int | None = None
    error: dict[str, Any] | None = None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"index": self.index, "status": self.status}
        if self.id is not None:
            out["id"] = str(self.id)
        if self.error is not None:
            out["error"] = self.error
        return out


def _error(err: TesseraError) -> dict[str, Any]:
    body: dict[str, Any] = {"code": err.status, "message": err.message}
    if err.errors:
        body["errors"] = [e.as_json() for e in err.errors]
    return body


class BatchWriter:
    def __init__(self, service: RecordService, obj: ObjectDefinition) -> None:
        self.service = service
        self.obj = obj

    def _validated(self, items: list[Any], mode: str, results: dict[int, ItemResult]
                   ) -> dict[int, dict[str, list[Any] | None]]:
        valid = {}
        for index, raw in enumerate(items):
            try:
                valid[index] = validate_attributes(self.obj, raw, mode)  # type: ignore[arg-type]
            except RecordValidationError as err:
                results[index] = ItemResult(index, "error", error=_error(invalid(err)))
        return valid

    async def create_many(self, indexed: dict[int, dict[str, list[Any] | None]],
                          results: dict[int, ItemResult]) -> None:
        """Insert the given validated items; items losing a unique claim get a 409 result."""
        pending = dict(indexed)
        for _ in range(MAX_ROUNDS):
            if not pending:
                return
            # Values repeated inside the batch: the first item keeps them.
            taken: dict[tuple[int, str], int] = {}
            for index, values in list(pending.items()):
                for slug, stored in values.items():
                    attribute = self.obj.attribute(slug)
                    if attribute is None or not attribute.is_unique or not stored:
                        continue
                    for key in unique_keys(attribute, stored):
                        owner = taken.setdefault((attribute.id, key), index)
                        if owner != index and index in pending:
                            del pending[index]
                            results[index] = ItemResult(index, "error", error={
                                "code": 409, "message": f"Repeats a value of unique attribute '{slug}' "
                                                        f"given by item {owner}"})
            ids = await self.service.ids.take(self.service.tenant.conn, 2 * len(pending))
            rows, claims, events = ValueRows.empty(), Claims.empty(), EventBatch()
            record_ids, data, owners = [], [], {}
            for (index, values), record_id, event_id in zip(pending.items(), ids[::2], ids[1::2], strict=False):
                snapshot = {}
                for slug, stored in values.items():
                    attribute = self.obj.attribute(slug)
                    if attribute is None or not stored:
                        continue
                    snapshot[str(attribute.id)] = stored
                    add_value_rows(rows, record_id, attribute, stored)
                    if attribute.is_unique:
                        for key in unique_keys(attribute, stored):
                            claims.add(attribute.id, key, record_id)
                            owners[(attribute.id, key)] = index
                record_ids.append(record_id)
                data.append(orjson.dumps(snapshot).decode())
                events.timeline(event_id, record_id, "entity", record_id, "created",
                                self.service._entity_payload(self.obj, record_id, snapshot))
                events.outbox(SEARCH, "record.created", "record", record_id, {"object_id": str(self.obj.id)})
                self.service._hook(events, "created", self.obj, RecordRow(
                    id=record_id, object_id=self.obj.id, parent_record_id=None, data=snapshot, value_meta={},
                    created_by=self.service.actor.name, created_by_id=self.service.actor.id,
                    created_at=self.service.now, updated_at=self.service.now))
            await self.service.tenant.savepoint("batch")
            granted = await repository.insert_records(
                self.service.tenant, object_id=self.obj.id, ids=record_ids, parents=[None] * len(record_ids),
                data=data, rows=rows, claims=claims, events=events, actor=self.service.actor,
                now=self.service.now)
            lost = {owners[k] for k in owners if k not in granted}
            if not lost:
                await self.service.tenant.release("batch")
                for index, record_id in zip(pending, record_ids, strict=True):
                    results[index] = ItemResult(index, "created", id=record_id)
                return
            await self.service.tenant.rollback_to("batch")
            for index in lost:
                del pending[index]
                results[index] = ItemResult(index, "error", error={
                    "code": 409, "message": "Another record already has a value of a unique attribute"})
        for index in pending:
            results[index] = ItemResult(index, "error", error={"code": 409, "message": "Too much contention"})

    async def create(self, items: list[Any]) -> list[ItemResult]:
        results: dict[int, ItemResult] = {}
        valid = self._validated(items, "create", results)
        await self.create_many(valid, results)
        return [results[i] for i in range(len(items))]

    async def upsert(self, items: list[Any], matching: str) -> list[ItemResult]:
        attribute = self.service.matching_attribute(self.obj, matching)
        results: dict[int, ItemResult] = {}
        valid = self._validated(items, "update", results)
        keys_of: dict[int, list[str]] = {}
        for index, values in list(valid.items()):
            stored = values.get(attribute.slug)
            if not stored:
                del valid[index]
                results[index] = ItemResult(index, "error", error={
                    "code": 400, "message": f"Missing a value for matching_attribute '{attribute.slug}'"})
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
            all_keys = [k for i in this_round for k in keys_of[i]]
            existing = await repository.find_by_unique(self.service.tenant, attribute.id, all_keys)
            creates = {}
            for index in this_round:
                matches = {existing[k] for k in keys_of[index] if k in existing}
                if len(matches) > 1:
                    results[index] = ItemResult(index, "error", error={
                        "code": 409, "message": f"Values of '{attribute.slug}' match {len(matches)} records"})
                elif matches:
                    await self._update(index, matches.pop(), items[index], results)
                else:
                    try:
                        self.service._missing_required(self.obj, valid[index])
                    except TesseraError as err:
                        results[index] = ItemResult(index, "error", error=_error(err))
                        continue
                    creates[index] = valid[index]
            await self.create_many(creates, results)
            remaining = later
        return [results[i] for i in range(len(items))]

    async def _update(self, index: int, record_id: int, raw: Any, results: dict[int, ItemResult]) -> None:
        await self.service.tenant.savepoint("item")
        try:
            _, row = await self.service.record(record_id, lock=True)
            await self.service.update(self.obj, row, raw)
        except TesseraError as err:
            await self.service.tenant.rollback_to("item")
            results[index] = ItemResult(index, "error", error=_error(err))
            return
        await self.service.tenant.release("item")
        results[index] = ItemResult(index, "updated", id=record_id)
