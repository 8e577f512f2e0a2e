"""SQL of the record engine. Writes are single statements (data-modifying CTEs over ``unnest``
arrays): one round trip writes the records, their value rows, uniqueness claims, history,
timeline events and outbox rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from tessera.db.tenant import Tenant
from tessera.events import Actor, EventBatch, event_ctes
from tessera.records.values import Data, ValueRows

RECORD_COLUMNS = ("id, object_id, parent_record_id, data, value_meta, created_by, created_by_id, created_at, "
                  "updated_at")


@dataclass(slots=True)
class RecordRow:
    id: int
    object_id: int
    parent_record_id: int | None
    data: Data
    value_meta: dict[str, Any]
    created_by: str
    created_by_id: str
    created_at: datetime
    updated_at: datetime


def to_row(row: Any) -> RecordRow:
    data = row["data"]
    meta = row["value_meta"]
    return RecordRow(
        id=row["id"], object_id=row["object_id"], parent_record_id=row["parent_record_id"],
        data=orjson.loads(data) if isinstance(data, str) else data,
        value_meta=orjson.loads(meta) if isinstance(meta, str) else meta,
        created_by=row["created_by"], created_by_id=row["created_by_id"], created_at=row["created_at"],
        updated_at=row["updated_at"])


@dataclass(slots=True)
class Claims:
    attribute_id: list[int]
    value_key: list[str]
    record_id: list[int]

    @classmethod
    def empty(cls) -> Claims:
        return cls([], [], [])

    def add(self, attribute_id: int, key: str, record_id: int) -> None:
        self.attribute_id.append(attribute_id)
        self.value_key.append(key)
        self.record_id.append(record_id)

    def __len__(self) -> int:
        return len(self.value_key)


@dataclass(slots=True)
class History:
    id: list[int]
    record_id: list[int]
    attribute_id: list[int]
    value: list[str]
    active_from: list[datetime]
    actor: list[str]
    actor_id: list[str]

    @classmethod
    def empty(cls) -> History:
        return cls([], [], [], [], [], [], [])


_VALUES_CTE = """vals AS (
    INSERT INTO record_values (workspace_id, record_id, attribute_id, ord, facet, v_text, v_num, v_ts, v_bool, v_json)
    SELECT $1, v.* FROM unnest({p}::bigint[], {p1}::bigint[], {p2}::smallint[], {p3}::text[], {p4}::text[],
                               {p5}::numeric[], {p6}::timestamptz[], {p7}::boolean[], {p8}::jsonb[])
         AS v(record_id, attribute_id, ord, facet, v_text, v_num, v_ts, v_bool, v_json)
)"""

_CLAIMS_CTE = """claims AS (
    INSERT INTO unique_values (workspace_id, attribute_id, value_key, record_id)
    SELECT $1, c.* FROM unnest({p}::bigint[], {p1}::text[], {p2}::bigint[]) AS c(attribute_id, value_key, record_id)
    ON CONFLICT DO NOTHING
    RETURNING attribute_id, value_key
)"""


def _numbered(template: str, start: int, count: int) -> tuple[str, int]:
    names = {"p": f"${start}", **{f"p{i}": f"${start + i}" for i in range(1, count)}}
    return template.format(**names), start + count


async def insert_records(tenant: Tenant, *, object_id: int, ids: list[int], parents: list[int | None],
                         data: list[str], rows: ValueRows, claims: Claims, events: EventBatch, actor: Actor,
                         now: datetime) -> set[tuple[int, str]]:
    """Insert new records with everything that hangs off them. Returns the uniqueness claims that
    were granted; a claim missing from it belongs to another record (the caller refuses the write)."""
    values_cte, n = _numbered(_VALUES_CTE, 9, 9)
    claims_cte, n = _numbered(_CLAIMS_CTE, n, 3)
    ctes, _ = event_ctes(n, "$5", "$6", "$7")
    statement = f"""
        WITH rec AS (
            INSERT INTO records (workspace_id, id, object_id, parent_record_id, data, created_by, created_by_id,
                                 created_at, updated_at)
            SELECT $1, u.id, $2, u.parent, u.data, $5, $6, $7, $7
            FROM unnest($3::bigint[], $4::bigint[], $8::jsonb[]) AS u(id, parent, data)
        ),
        {values_cte},
        {claims_cte},
        {ctes}
        SELECT attribute_id, value_key FROM claims"""
    granted = await tenant.fetch(statement, object_id, ids, parents, actor.name, actor.id, now, data,
                                 *rows.columns(), claims.attribute_id, claims.value_key, claims.record_id,
                                 *events.timeline_args(), *events.outbox_args())
    return {(r["attribute_id"], r["value_key"]) for r in granted}


async def lock_record(tenant: Tenant, record_id: int) -> RecordRow | None:
    row = await tenant.fetchrow(
        f"SELECT {RECORD_COLUMNS} FROM records WHERE workspace_id = $1 AND id = $2 FOR UPDATE", record_id)
    return to_row(row) if row else None


async def get_record(tenant: Tenant, record_id: int) -> RecordRow | None:
    row = await tenant.fetchrow(f"SELECT {RECORD_COLUMNS} FROM records WHERE workspace_id = $1 AND id = $2",
                                record_id)
    return to_row(row) if row else None


async def get_records(tenant: Tenant, record_ids: list[int]) -> list[RecordRow]:
    """Records by id, in the order asked (missing ids are skipped)."""
    rows = await tenant.fetch(
        f"SELECT {RECORD_COLUMNS} FROM records WHERE workspace_id = $1 AND id = ANY($2::bigint[])", record_ids)
    by_id = {row["id"]: to_row(row) for row in rows}
    return [by_id[i] for i in record_ids if i in by_id]


async def find_entry(tenant: Tenant, list_id: int, parent_id: int, *, lock: bool = False) -> RecordRow | None:
    row = await tenant.fetchrow(
        f"SELECT {RECORD_COLUMNS} FROM records WHERE workspace_id = $1 AND object_id = $2 "
        f"AND parent_record_id = $3" + (" FOR UPDATE" if lock else ""), list_id, parent_id)
    return to_row(row) if row else None


async def entries_of(tenant: Tenant, parent_id: int) -> list[RecordRow]:
    rows = await tenant.fetch(
        f"SELECT {RECORD_COLUMNS} FROM records WHERE workspace_id = $1 AND parent_record_id = $2", parent_id)
    return [to_row(r) for r in rows]


async def find_by_unique(tenant: Tenant, attribute_id: int, keys: list[str]) -> dict[str, int]:
    rows = await tenant.fetch(
        "SELECT value_key, record_id FROM unique_values WHERE workspace_id = $1 AND attribute_id = $2 "
        "AND value_key = ANY($3::text[])", attribute_id, keys)
    return {r["value_key"]: r["record_id"] for r in rows}


async def clear_values(tenant: Tenant, record_id: int, attribute_ids: list[int], unique_ids: list[int]) -> None:
    await tenant.fetch(
        """WITH dv AS (DELETE FROM record_values WHERE workspace_id = $1 AND record_id = $2
                       AND attribute_id = ANY($3::bigint[])),
                du AS (DELETE FROM unique_values WHERE workspace_id = $1 AND record_id = $2
                       AND attribute_id = ANY($4::bigint[]))
           SELECT 1""", record_id, attribute_ids, unique_ids)


async def update_record(tenant: Tenant, *, record_id: int, data: str, value_meta: str, rows: ValueRows,
                        claims: Claims, history: History, events: EventBatch, actor: Actor,
                        now: datetime) -> set[tuple[int, str]]:
    """Write a record's new read model, value rows, claims, history, events in one statement."""
    values_cte, n = _numbered(_VALUES_CTE, 8, 9)
    claims_cte, n = _numbered(_CLAIMS_CTE, n, 3)
    h = n
    n += 7
    ctes, _ = event_ctes(n, "$5", "$6", "$7")
    statement = f"""
        WITH upd AS (
            UPDATE records SET data = $3::jsonb, value_meta = $4::jsonb, updated_at = $7
            WHERE workspace_id = $1 AND id = $2
        ),
        {values_cte},
        {claims_cte},
        hist AS (
            INSERT INTO attribute_history (workspace_id, id, record_id, attribute_id, value, active_from,
                                           active_until, actor, actor_id)
            SELECT $1, x.id, x.record_id, x.attribute_id, x.value, x.active_from, $7, x.actor, x.actor_id
            FROM unnest(${h}::bigint[], ${h + 1}::bigint[], ${h + 2}::bigint[], ${h + 3}::jsonb[],
                        ${h + 4}::timestamptz[], ${h + 5}::text[], ${h + 6}::text[])
                 AS x(id, record_id, attribute_id, value, active_from, actor, actor_id)
        ),
        {ctes}
        SELECT attribute_id, value_key FROM claims"""
    granted = await tenant.fetch(
        statement, record_id, data, value_meta, actor.name, actor.id, now, *rows.columns(), claims.attribute_id,
        claims.value_key, claims.record_id, history.id, history.record_id, history.attribute_id, history.value,
        history.active_from, history.actor, history.actor_id, *events.timeline_args(), *events.outbox_args())
    return {(r["attribute_id"], r["value_key"]) for r in granted}


async def delete_records(tenant: Tenant, record_ids: list[int], events: EventBatch, actor: Actor,
                         now: datetime) -> None:
    ctes, _ = event_ctes(3, "$14", "$15", "$16")
    await tenant.fetch(
        f"""WITH del AS (DELETE FROM records WHERE workspace_id = $1 AND id = ANY($2::bigint[])),
                {ctes}
            SELECT 1""", record_ids, *events.timeline_args(), *events.outbox_args(), actor.name, actor.id, now)


async def attribute_history(tenant: Tenant, record_id: int, attribute_id: int) -> list[Any]:
    return await tenant.fetch(
        "SELECT id, value, active_from, active_until, actor, actor_id FROM attribute_history "
        "WHERE workspace_id = $1 AND record_id = $2 AND attribute_id = $3 ORDER BY active_from, id",
        record_id, attribute_id)


async def forget_attribute(tenant: Tenant, object_id: int, attribute_id: int) -> int:
    """Drop a deleted attribute's values from its object's records (``data``, ``value_meta``);
    its value rows and claims go with the definition's foreign keys. Returns the records changed."""
    key = str(attribute_id)
    rows = await tenant.fetch(
        "UPDATE records SET data = data - $3::text, value_meta = value_meta - $3::text "
        "WHERE workspace_id = $1 AND object_id = $2 AND (data ? $3::text OR value_meta ? $3::text) RETURNING id",
        object_id, key)
    return len(rows)
