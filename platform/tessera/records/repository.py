"""SQL of the record engine. A write is a ``ChangeSet`` applied as one statement (data-modifying
CTEs over ``unnest`` arrays, parameters from ``tessera.db.sql.Params``): one round trip writes the
records, their value rows, uniqueness claims, history, timeline events and outbox rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import asyncpg
import orjson

from tessera.changes import BoundStamp, EventRows, Stamp
from tessera.db.id_order import order_by
from tessera.db.sql import WORKSPACE, Params
from tessera.db.tenant import Tenant
from tessera.records.values import Data, StoredMeta

if TYPE_CHECKING:
    from tessera.records.changeset import ChangeSet

RECORD_COLUMNS = ("id, object_id, parent_record_id, data, value_meta, created_by, created_by_id, created_at, "
                  "updated_at")


@dataclass(slots=True)
class RecordRow:
    id: int
    object_id: int
    parent_record_id: int | None
    data: Data
    value_meta: StoredMeta
    created_by: str
    created_by_id: str
    created_at: datetime
    updated_at: datetime


def to_row(row: asyncpg.Record) -> RecordRow:
    """A ``records`` row selected with ``RECORD_COLUMNS``."""
    data = row["data"]
    meta = row["value_meta"]
    return RecordRow(
        id=row["id"], object_id=row["object_id"], parent_record_id=row["parent_record_id"],
        data=orjson.loads(data) if isinstance(data, str) else data,
        value_meta=orjson.loads(meta) if isinstance(meta, str) else meta,
        created_by=row["created_by"], created_by_id=row["created_by_id"], created_at=row["created_at"],
        updated_at=row["updated_at"])


async def apply(tenant: Tenant, changes: ChangeSet, events: EventRows, stamp: Stamp) -> set[tuple[int, str]]:
    """Write a ``ChangeSet`` and its rendered events: the clears first (their own statement: a value
    row deleted and re-inserted in one statement would collide on the primary key), then one
    data-modifying statement with a CTE per kind of row present. Returns the uniqueness claims
    granted; a claim missing from it belongs to another record (the caller refuses the write)."""
    for clear in changes.clears:
        clear_params = Params()
        record = clear_params.add(clear.record_id)
        values = clear_params.add(clear.attribute_ids, "bigint[]")
        claims = clear_params.add(clear.unique_ids, "bigint[]")
        await tenant.fetch(
            f"""WITH dv AS (DELETE FROM record_values WHERE workspace_id = $1 AND record_id = {record}
                            AND attribute_id = ANY({values})),
                     du AS (DELETE FROM unique_values WHERE workspace_id = $1 AND record_id = {record}
                            AND attribute_id = ANY({claims}))
                SELECT 1""", *clear_params.values)
    params = Params()
    at = BoundStamp.bind(stamp, params)
    ctes = []
    if changes.inserts:
        rows = params.unnest([([r.id for r in changes.inserts], "bigint"),
                              ([r.parent_record_id for r in changes.inserts], "bigint"),
                              ([orjson.dumps(r.data).decode() for r in changes.inserts], "jsonb")])
        ctes.append(f"""rec AS (
    INSERT INTO records (workspace_id, id, object_id, parent_record_id, data, created_by, created_by_id,
                         created_at, updated_at)
    SELECT $1, u.id, {params.add(changes.object_id, "bigint")}, u.parent, u.data, {at.actor}, {at.actor_id},
           {at.now}, {at.now}
    FROM {rows} AS u(id, parent, data)
)""")
    if changes.updates:
        rows = params.unnest([([r.id for r in changes.updates], "bigint"),
                              ([orjson.dumps(r.data).decode() for r in changes.updates], "jsonb"),
                              ([orjson.dumps(r.value_meta).decode() for r in changes.updates], "jsonb")])
        ctes.append(f"""upd AS (
    UPDATE records r SET data = u.data, value_meta = u.meta, updated_at = {at.now}
    FROM {rows} AS u(id, data, meta) WHERE r.workspace_id = $1 AND r.id = u.id
)""")
    if changes.deletes:
        ctes.append(f"del AS (DELETE FROM records WHERE workspace_id = $1 "
                    f"AND id = ANY({params.add(changes.deletes, 'bigint[]')}))")
    if len(changes.values):
        v = changes.values
        rows = params.unnest([(v.record_id, "bigint"), (v.attribute_id, "bigint"), (v.ord, "smallint"),
                              (v.facet, "text"), (v.v_text, "text"), (v.v_num, "numeric"), (v.v_ts, "timestamptz"),
                              (v.v_bool, "boolean"), (v.v_json, "jsonb")])
        ctes.append(f"""vals AS (
    INSERT INTO record_values (workspace_id, record_id, attribute_id, ord, facet, v_text, v_num, v_ts, v_bool, v_json)
    SELECT $1, v.* FROM {rows} AS v(record_id, attribute_id, ord, facet, v_text, v_num, v_ts, v_bool, v_json)
)""")
    if len(changes.history):
        h = changes.history
        rows = params.unnest([(h.id, "bigint"), (h.record_id, "bigint"), (h.attribute_id, "bigint"), (h.value, "jsonb"),
                              (h.active_from, "timestamptz"), (h.actor, "text"), (h.actor_id, "text")])
        ctes.append(f"""hist AS (
    INSERT INTO attribute_history (workspace_id, id, record_id, attribute_id, value, active_from, active_until,
                                   actor, actor_id)
    SELECT $1, x.id, x.record_id, x.attribute_id, x.value, x.active_from, {at.now}, x.actor, x.actor_id
    FROM {rows} AS x(id, record_id, attribute_id, value, active_from, actor, actor_id)
)""")
    ctes.extend(events.ctes(params, at))
    if not len(changes.claims):
        await tenant.fetch(f"WITH {', '.join(ctes)} SELECT 1", *params.values)
        return set()
    c = changes.claims
    rows = params.unnest([(c.attribute_id, "bigint"), (c.value_key, "text"), (c.record_id, "bigint")])
    ctes.append(f"""claims AS (
    INSERT INTO unique_values (workspace_id, attribute_id, value_key, record_id)
    SELECT $1, c.* FROM {rows} AS c(attribute_id, value_key, record_id)
    ON CONFLICT DO NOTHING
    RETURNING attribute_id, value_key
)""")
    granted = await tenant.fetch(f"WITH {', '.join(ctes)} SELECT attribute_id, value_key FROM claims", *params.values)
    return {(r["attribute_id"], r["value_key"]) for r in granted}


async def lock_record(tenant: Tenant, record_id: int) -> RecordRow | None:
    params = Params()
    row = await tenant.fetchrow(
        f"SELECT {RECORD_COLUMNS} FROM records WHERE workspace_id = $1 AND id = {params.add(record_id)} FOR UPDATE",
        *params.values)
    return to_row(row) if row else None


async def get_record(tenant: Tenant, record_id: int) -> RecordRow | None:
    params = Params()
    row = await tenant.fetchrow(
        f"SELECT {RECORD_COLUMNS} FROM records WHERE workspace_id = $1 AND id = {params.add(record_id)}",
        *params.values)
    return to_row(row) if row else None


async def get_records(tenant: Tenant, record_ids: list[int]) -> list[RecordRow]:
    """Records by id, in the order asked (missing ids are skipped)."""
    params = Params()
    ids = params.add(record_ids, "bigint[]")
    rows = await tenant.fetch(f"SELECT {RECORD_COLUMNS} FROM records WHERE workspace_id = $1 AND id = ANY({ids})",
                              *params.values)
    by_id = {row["id"]: to_row(row) for row in rows}
    return [by_id[i] for i in record_ids if i in by_id]


async def find_entry(tenant: Tenant, list_id: int, parent_id: int, *, lock: bool = False) -> RecordRow | None:
    params = Params()
    row = await tenant.fetchrow(
        f"SELECT {RECORD_COLUMNS} FROM records WHERE workspace_id = $1 AND object_id = {params.add(list_id)} "
        f"AND parent_record_id = {params.add(parent_id)}" + (" FOR UPDATE" if lock else ""), *params.values)
    return to_row(row) if row else None


async def entries_of(tenant: Tenant, parent_id: int) -> list[RecordRow]:
    params = Params()
    rows = await tenant.fetch(
        f"SELECT {RECORD_COLUMNS} FROM records WHERE workspace_id = $1 AND parent_record_id = {params.add(parent_id)}",
        *params.values)
    return [to_row(r) for r in rows]


async def find_by_unique(tenant: Tenant, attribute_id: int, keys: list[str]) -> dict[str, int]:
    params = Params()
    rows = await tenant.fetch(
        f"SELECT value_key, record_id FROM unique_values WHERE workspace_id = $1 AND attribute_id = "
        f"{params.add(attribute_id)} AND value_key = ANY({params.add(keys, 'text[]')})", *params.values)
    return {r["value_key"]: r["record_id"] for r in rows}


async def attribute_history(tenant: Tenant, record_id: int, attribute_id: int) -> list[asyncpg.Record]:
    params = Params()
    return await tenant.fetch(
        "SELECT id, value, active_from, active_until, actor, actor_id FROM attribute_history "
        f"WHERE workspace_id = $1 AND record_id = {params.add(record_id)} "
        f"AND attribute_id = {params.add(attribute_id)} ORDER BY active_from, id", *params.values)


@dataclass(frozen=True, slots=True)
class RelationshipInstance:
    """A ``relationships`` row: record ``entity_1_id`` relates to ``entity_2_id`` by a definition."""

    id: int
    definition_id: int
    entity_1_id: int
    entity_2_id: int
    created_at: datetime


_RELATIONSHIP_COLUMNS = "id, definition_id, entity_1_id, entity_2_id, created_at"


def _to_relationship(row: asyncpg.Record) -> RelationshipInstance:
    return RelationshipInstance(id=row["id"], definition_id=row["definition_id"], entity_1_id=row["entity_1_id"],
                                entity_2_id=row["entity_2_id"], created_at=row["created_at"])


async def insert_relationship(tenant: Tenant, relationship_id: int, definition_id: int, kind: str, entity_1_id: int,
                              entity_2_id: int, created_at: datetime) -> RelationshipInstance:
    """Relate two records. The cardinality of the definition ``kind`` is the database's to enforce:
    a relationship it refuses raises ``IntegrityViolation`` naming the constraint."""
    params = Params()
    values = ", ".join(params.add(v) for v in (relationship_id, definition_id, kind, entity_1_id, entity_2_id,
                                                created_at))
    row = await tenant.fetch_one(
        "INSERT INTO relationships (workspace_id, id, definition_id, type, entity_1_id, entity_2_id, "
        f"created_at) VALUES ({WORKSPACE}, {values}) RETURNING {_RELATIONSHIP_COLUMNS}", *params.values)
    return _to_relationship(row)


async def delete_relationship(tenant: Tenant, relationship_id: int, record_id: int) -> bool:
    """Delete a relationship of the record (as either entity); False when there is none."""
    params = Params()
    relationship, record = params.add(relationship_id), params.add(record_id)
    deleted = await tenant.fetch(
        f"DELETE FROM relationships WHERE workspace_id = $1 AND id = {relationship} "
        f"AND (entity_1_id = {record} OR entity_2_id = {record}) RETURNING id", *params.values)
    return bool(deleted)


async def relationships_of(tenant: Tenant, record_id: int, *, limit: int | None = None) -> list[RelationshipInstance]:
    """The record's relationships (as either entity), in creation order (the first ``limit``)."""
    params = Params()
    record = params.add(record_id)
    cap = f" LIMIT {params.add(limit)}" if limit is not None else ""
    rows = await tenant.fetch(
        f"SELECT {_RELATIONSHIP_COLUMNS} FROM relationships WHERE workspace_id = $1 "
        f"AND (entity_1_id = {record} OR entity_2_id = {record}) ORDER BY {order_by(tenant.workspace_id, 'id')}{cap}",
        *params.values)
    return [_to_relationship(r) for r in rows]


async def forget_attribute(tenant: Tenant, object_id: int, attribute_id: int) -> int:
    """Drop a deleted attribute's values from its object's records (``data``, ``value_meta``);
    its value rows and claims go with the definition's foreign keys. Returns the records changed."""
    key = str(attribute_id)
    params = Params()
    obj, attribute = params.add(object_id), params.add(key, "text")
    rows = await tenant.fetch(
        f"UPDATE records SET data = data - {attribute}, value_meta = value_meta - {attribute} WHERE workspace_id = $1 "
        f"AND object_id = {obj} AND (data ? {attribute} OR value_meta ? {attribute}) RETURNING id", *params.values)
    return len(rows)


# For the rest of the service, which never names the value tables itself ------------------------------


async def find_by_text(tenant: Tenant, attribute_id: int, text: str, facet: str = "") -> int | None:
    """The lowest id among the records whose ``facet`` of the attribute reads ``text``, ignoring
    case; None when no record does."""
    params = Params()
    row = await tenant.fetchrow(
        f"SELECT record_id FROM record_values WHERE workspace_id = $1 AND attribute_id = {params.add(attribute_id)} "
        f"AND facet = {params.add(facet)} AND lower(v_text) = lower({params.add(text)}) ORDER BY record_id LIMIT 1",
        *params.values)
    return int(row["record_id"]) if row else None


async def find_by_facet(tenant: Tenant, attribute_id: int, facet: str, values: list[str], *, limit: int) -> list[int]:
    """Ids of up to ``limit`` records (in no set order) whose ``facet`` of the attribute is exactly
    one of ``values``: the text index holds a 200-character prefix, so the whole value is checked
    too."""
    from tessera.records.sql import INDEXED_TEXT, TEXT_PREFIX

    if not values:
        return []
    params = Params()
    rows = await tenant.fetch(
        f"SELECT DISTINCT v.record_id FROM record_values v WHERE v.workspace_id = $1 "
        f"AND v.attribute_id = {params.add(attribute_id)} AND v.facet = {params.add(facet)} "
        f"AND {INDEXED_TEXT.format(a='v')} = ANY({params.add(sorted({v[:TEXT_PREFIX] for v in values}), 'text[]')}) "
        f"AND v.v_text = ANY({params.add(values, 'text[]')}) LIMIT {params.add(limit)}", *params.values)
    return [int(r["record_id"]) for r in rows]


async def count_multi_valued(tenant: Tenant, attribute_id: int) -> int:
    """Records that hold more than one value of the attribute."""
    params = Params()
    row = await tenant.fetch_one(
        "SELECT count(DISTINCT record_id) AS n FROM record_values WHERE workspace_id = $1 "
        f"AND attribute_id = {params.add(attribute_id)} AND ord > 0", *params.values)
    return int(row["n"])


async def count_fractional(tenant: Tenant, attribute_id: int) -> int:
    """Records with a value of the (number) attribute that is not whole."""
    params = Params()
    row = await tenant.fetch_one(
        "SELECT count(DISTINCT record_id) AS n FROM record_values WHERE workspace_id = $1 "
        f"AND attribute_id = {params.add(attribute_id)} AND facet = '' AND v_num <> trunc(v_num)", *params.values)
    return int(row["n"])


async def add_claims(tenant: Tenant, attribute_id: int, owners: dict[str, int]) -> None:
    """Record that each uniqueness key (``claim_key``) of the attribute belongs to its record. A key
    some record already holds fails the statement (the caller checked there is none)."""
    params = Params()
    attribute = params.add(attribute_id)
    claims = params.unnest([(list(owners), "text"), (list(owners.values()), "bigint")])
    await tenant.fetch(
        "INSERT INTO unique_values (workspace_id, attribute_id, value_key, record_id) "
        f"SELECT $1, {attribute}, c.value_key, c.record_id FROM {claims} AS c(value_key, record_id)", *params.values)


async def drop_claims(tenant: Tenant, attribute_id: int) -> None:
    """Forget every uniqueness claim of the attribute."""
    params = Params()
    attribute = params.add(attribute_id)
    await tenant.fetch(f"DELETE FROM unique_values WHERE workspace_id = $1 AND attribute_id = {attribute}",
                       *params.values)


TABLES = ("records", "record_values", "unique_values", "attribute_history")
"""The record engine's tables, for maintenance that goes by table name (``ANALYZE``)."""
