"""A record write, said once: the ``ChangeSet`` of its record rows, value rows, uniqueness claims,
history rows and domain events, built by pure, batch-first functions (a single create is a batch
of one) and applied by ``repository.apply`` as one data-modifying statement."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import orjson

from schema_registry.definitions import AttributeDefinition, ObjectDefinition
from schema_registry.types.base import JSON
from tessera.changes import DomainEvent, Stamp
from tessera.records.events import (
    EntryCreated,
    EntryDeleted,
    EntryUpdated,
    RecordCreated,
    RecordDeleted,
    RecordUpdated,
)
from tessera.records.repository import RecordRow
from tessera.records.values import Data, ValueMeta, ValueRows, add_value_rows, field_changes, unique_keys

Values = Mapping[str, list[JSON] | None]
"""Validated values of one write, by attribute slug (None or [] clears)."""


@dataclass(slots=True)
class Claims:
    """Column-wise uniqueness claims (``unique_values`` rows)."""

    attribute_id: list[int] = field(default_factory=list)
    value_key: list[str] = field(default_factory=list)
    record_id: list[int] = field(default_factory=list)

    def add(self, attribute_id: int, key: str, record_id: int) -> None:
        self.attribute_id.append(attribute_id)
        self.value_key.append(key)
        self.record_id.append(record_id)

    def __len__(self) -> int:
        return len(self.value_key)


@dataclass(slots=True)
class History:
    """Column-wise ``attribute_history`` rows: the values an update replaced, with who set them when."""

    id: list[int] = field(default_factory=list)
    record_id: list[int] = field(default_factory=list)
    attribute_id: list[int] = field(default_factory=list)
    value: list[str] = field(default_factory=list)
    active_from: list[datetime] = field(default_factory=list)
    actor: list[str] = field(default_factory=list)
    actor_id: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.id)


@dataclass(frozen=True, slots=True)
class Clear:
    """Value rows (and claims) of some attributes of a record, removed before new ones go in."""

    record_id: int
    attribute_ids: list[int]
    unique_ids: list[int]


@dataclass(slots=True)
class ChangeSet:
    """Everything one write changes. ``owners`` maps each uniqueness claim to the item (index in
    the batch) that made it, so a claim another record holds refuses exactly that item."""

    object_id: int
    inserts: list[RecordRow] = field(default_factory=list)
    updates: list[RecordRow] = field(default_factory=list)
    deletes: list[int] = field(default_factory=list)
    clears: list[Clear] = field(default_factory=list)
    values: ValueRows = field(default_factory=ValueRows.empty)
    claims: Claims = field(default_factory=Claims)
    history: History = field(default_factory=History)
    events: list[DomainEvent] = field(default_factory=list)
    owners: dict[tuple[int, str], int] = field(default_factory=dict)
    claimed_by: dict[tuple[int, str], AttributeDefinition] = field(default_factory=dict)

    def lost(self, granted: set[tuple[int, str]]) -> list[tuple[int, AttributeDefinition]]:
        """The (item, attribute) of every claim the database did not grant."""
        return [(self.owners[key], self.claimed_by[key]) for key in self.owners if key not in granted]


def _claim(changes: ChangeSet, attribute: AttributeDefinition, stored: list[JSON], record_id: int,
           index: int) -> None:
    if attribute.is_unique:
        for key in unique_keys(attribute, stored):
            changes.claims.add(attribute.id, key, record_id)
            changes.owners[(attribute.id, key)] = index
            changes.claimed_by[(attribute.id, key)] = attribute


def plan_create(obj: ObjectDefinition, items: Sequence[Values], *, ids: Sequence[int], stamp: Stamp,
                workspace_id: int, parent: RecordRow | None = None,
                parent_obj: ObjectDefinition | None = None) -> ChangeSet:
    """New records of ``obj`` (or, with ``parent``, entries of list ``obj`` on that record), one per
    item, with ``ids`` (one per item)."""
    changes = ChangeSet(obj.id)
    for index, (values, record_id) in enumerate(zip(items, ids, strict=True)):
        data: Data = {}
        for slug, stored in values.items():
            attribute = obj.attribute(slug)
            if attribute is None or not stored:
                continue
            data[str(attribute.id)] = stored
            add_value_rows(changes.values, record_id, attribute, stored)
            _claim(changes, attribute, stored, record_id, index)
        row = RecordRow(id=record_id, object_id=obj.id, parent_record_id=parent.id if parent else None, data=data,
                        value_meta={}, created_by=stamp.actor.name, created_by_id=stamp.actor.id,
                        created_at=stamp.now, updated_at=stamp.now)
        changes.inserts.append(row)
        changes.events.append(EntryCreated(obj, parent_obj, row, workspace_id) if parent is not None
                              else RecordCreated(obj, row, workspace_id))
    return changes


def changed_attributes(obj: ObjectDefinition, row: RecordRow, values: Values) -> list[AttributeDefinition]:
    """The attributes whose stored values ``values`` would change."""
    changed = []
    for slug, stored in values.items():
        attribute = obj.attribute(slug)
        assert attribute is not None  # validation refuses unknown slugs
        key = str(attribute.id)
        if row.data.get(key) == stored or (not stored and key not in row.data):
            continue
        changed.append(attribute)
    return changed


def plan_update(obj: ObjectDefinition, row: RecordRow, values: Values, changed: Sequence[AttributeDefinition], *,
                history_ids: Sequence[int], stamp: Stamp, workspace_id: int,
                parent_obj: ObjectDefinition | None = None) -> ChangeSet:
    """Replace the values of the ``changed`` attributes of ``row`` (from ``changed_attributes``);
    the replaced values go to history with who set them when (``history_ids``: one per attribute)."""
    changes = ChangeSet(obj.id)
    data: Data = dict(row.data)
    meta = ValueMeta.decode(row.value_meta)
    for attribute, history_id in zip(changed, history_ids, strict=True):
        key = str(attribute.id)
        stored = values[attribute.slug]
        old = row.data.get(key)
        if old:
            since = meta.since(attribute.id)
            history = changes.history
            history.id.append(history_id)
            history.record_id.append(row.id)
            history.attribute_id.append(attribute.id)
            history.value.append(orjson.dumps(old).decode())
            history.active_from.append(since.at if since else row.created_at)
            history.actor.append(since.actor if since else row.created_by)
            history.actor_id.append(since.actor_id if since else row.created_by_id)
        meta = meta.set(attribute.id, stamp.now, stamp.actor.name, stamp.actor.id)
        if stored:
            data[key] = stored
            add_value_rows(changes.values, row.id, attribute, stored)
            _claim(changes, attribute, stored, row.id, 0)
        else:
            data.pop(key, None)
    changes.clears.append(Clear(row.id, [a.id for a in changed], [a.id for a in changed if a.is_unique]))
    updated = RecordRow(id=row.id, object_id=row.object_id, parent_record_id=row.parent_record_id, data=data,
                        value_meta=meta.encode(), created_by=row.created_by, created_by_id=row.created_by_id,
                        created_at=row.created_at, updated_at=stamp.now)
    changes.updates.append(updated)
    diff = field_changes(obj, row.data, data, changed)
    changes.events.append(EntryUpdated(obj, parent_obj, updated, diff, workspace_id)
                          if row.parent_record_id is not None else RecordUpdated(obj, updated, diff, workspace_id))
    return changes


def plan_delete(obj: ObjectDefinition, row: RecordRow,
                entries: Sequence[tuple[ObjectDefinition, RecordRow]] = ()) -> ChangeSet:
    """Delete a record (its value rows, claims and list entries go with it) or, for a list entry,
    the entry. ``entries``: the record's list entries, each with its list, for their events."""
    changes = ChangeSet(obj.id, deletes=[row.id])
    if row.parent_record_id is not None:
        changes.events.append(EntryDeleted(obj, row))
        return changes
    changes.events.append(RecordDeleted(obj, row))
    changes.events.extend(EntryDeleted(lst, entry) for lst, entry in entries)
    return changes
