"""Pure transformations between validated values, the EAV value rows, the jsonb read model and
the API's read form. No I/O.

The read model (``records.data``) maps an attribute id (as a string) to the list of that
attribute's stored values; single-value attributes hold a list of one. The EAV rows project
each stored value into typed facet rows (``facet`` "" is the main one); composite values also
keep their whole stored form in ``v_json`` on the main row, so the read model can always be
rebuilt from the value rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import orjson

from schema_registry.definitions import AttributeDefinition, ObjectDefinition
from schema_registry.types import attribute_type
from schema_registry.types.base import JSON, StorageClass

Data = dict[str, list[JSON]]
"""The read model of one record: attribute id (str) -> stored values."""
StoredMeta = dict[str, dict[str, str]]
"""``records.value_meta`` as stored: attribute id (str) -> ``{"since", "actor", "actor_id"}`` (see ``ValueMeta``)."""

UNIQUE_KEY_MAX = 200


@dataclass(slots=True)
class ValueRows:
    """Column-wise EAV rows, ready for ``unnest`` (one list per column)."""

    record_id: list[int]
    attribute_id: list[int]
    ord: list[int]
    facet: list[str]
    v_text: list[str | None]
    v_num: list[Decimal | None]
    v_ts: list[datetime | None]
    v_bool: list[bool | None]
    v_json: list[str | None]

    @classmethod
    def empty(cls) -> ValueRows:
        return cls([], [], [], [], [], [], [], [], [])

    def __len__(self) -> int:
        return len(self.record_id)

    def columns(self) -> tuple[list[int], list[int], list[int], list[str], list[str | None], list[Decimal | None],
                               list[datetime | None], list[bool | None], list[str | None]]:
        return (self.record_id, self.attribute_id, self.ord, self.facet, self.v_text, self.v_num, self.v_ts,
                self.v_bool, self.v_json)


def add_value_rows(rows: ValueRows, record_id: int, attribute: AttributeDefinition, stored: list[JSON]) -> None:
    """Append the facet rows of one attribute's values."""
    kind = attribute_type(attribute.type)
    for ordinal, value in enumerate(stored):
        for index, facet in enumerate(kind.facet_values(value, attribute)):
            rows.record_id.append(record_id)
            rows.attribute_id.append(attribute.id)
            rows.ord.append(ordinal)
            rows.facet.append(facet.facet)
            storage = facet.storage
            rows.v_text.append(facet.value if storage is StorageClass.TEXT else None)  # type: ignore[arg-type]
            rows.v_num.append(facet.value if storage is StorageClass.NUMERIC else None)  # type: ignore[arg-type]
            rows.v_ts.append(facet.value if storage is StorageClass.TIMESTAMP else None)  # type: ignore[arg-type]
            rows.v_bool.append(facet.value if storage is StorageClass.BOOLEAN else None)  # type: ignore[arg-type]
            rows.v_json.append(orjson.dumps(value).decode() if index == 0 and kind.composite else None)


def claim_key(raw_key: str) -> str:
    """A uniqueness key as stored: itself, or a digest when too long to index."""
    if len(raw_key) <= UNIQUE_KEY_MAX:
        return raw_key
    import hashlib

    return "sha256:" + hashlib.sha256(raw_key.encode()).hexdigest()


def unique_keys(attribute: AttributeDefinition, stored: Iterable[JSON]) -> list[str]:
    kind = attribute_type(attribute.type)
    return [claim_key(kind.unique_key(value, attribute)) for value in stored]


def read_value(attribute: AttributeDefinition, stored: list[JSON] | None) -> JSON:
    """The read form of an attribute's values: a list for multi-value attributes, else the one
    value (None when empty)."""
    kind = attribute_type(attribute.type)
    if attribute.is_multi_value:
        return [kind.read(v, attribute) for v in stored or []]
    if not stored:
        return None
    return kind.read(stored[0], attribute)


def read_attributes(obj: ObjectDefinition, data: Mapping[str, list[JSON]],
                    only: Iterable[AttributeDefinition] | None = None) -> dict[str, JSON]:
    """The ``attributes`` member of a record as the API shows it. Attributes without a value are
    left out (as in the spec's examples)."""
    out: dict[str, JSON] = {}
    for attribute in obj.attributes if only is None else only:
        stored = data.get(str(attribute.id))
        if stored:
            out[attribute.slug] = read_value(attribute, stored)
    return out


def primary_value(obj: ObjectDefinition, data: Mapping[str, list[JSON]]) -> str:
    """The record's display name: its primary attribute's search text (empty when unset)."""
    attribute = obj.primary_attribute
    if attribute is None:
        return ""
    stored = data.get(str(attribute.id))
    if not stored:
        return ""
    return attribute_type(attribute.type).search_text(stored[0], attribute)


def field_changes(obj: ObjectDefinition, before: Mapping[str, list[JSON]], after: Mapping[str, list[JSON]],
                  attributes: Iterable[AttributeDefinition]) -> list[dict[str, JSON]]:
    """``FieldChangeResponse`` entries for the attributes whose read form changed."""
    changes = []
    for attribute in attributes:
        key = str(attribute.id)
        old, new = read_value(attribute, before.get(key)), read_value(attribute, after.get(key))
        if old != new:
            changes.append({"field_name": attribute.slug, "old_value": old, "new_value": new})
    return changes


@dataclass(frozen=True, slots=True)
class Since:
    """When an attribute's current values were set, and by whom."""

    at: datetime
    actor: str
    actor_id: str


@dataclass(frozen=True, slots=True)
class ValueMeta:
    """``records.value_meta``: per attribute id (as a string), ``{"since", "actor", "actor_id"}`` of
    its current values; an attribute never updated has no entry (its values date from the record's
    creation). The ``$changed`` filter reads ``since`` in SQL (``records.sql``)."""

    entries: Mapping[str, Mapping[str, str]]

    @classmethod
    def decode(cls, stored: Mapping[str, Mapping[str, str]]) -> ValueMeta:
        return cls(stored)

    def since(self, attribute_id: int) -> Since | None:
        entry = self.entries.get(str(attribute_id))
        if not entry or "since" not in entry:
            return None
        return Since(datetime.fromisoformat(entry["since"]), entry.get("actor", ""), entry.get("actor_id", ""))

    def set(self, attribute_id: int, at: datetime, actor: str, actor_id: str) -> ValueMeta:
        return ValueMeta({**self.entries, str(attribute_id): {"since": at.isoformat(), "actor": actor,
                                                              "actor_id": actor_id}})

    def encode(self) -> StoredMeta:
        return {key: dict(entry) for key, entry in self.entries.items()}
