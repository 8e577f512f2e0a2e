"""Whole-database invariants that a partial write would break, checked straight in PostgreSQL.

- every record's read model (``records.data``) agrees with its EAV rows (``record_values``): the
  rows the product's own pure function (``tessera.records.values.add_value_rows``) derives from
  ``data`` are exactly the rows stored;
- every unique value of a record is claimed (``unique_values``) by that record, and every claim
  belongs to a record that still holds the value;
- every record has its ``created`` timeline event;
- every record outbox row has its record, unless the record's ``record.deleted`` event is there.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import orjson
from sqlalchemy import text

from tessera.db.engine import create_engine
from tessera.db.tenant import Tenant
from tessera.records.values import ValueRows, add_value_rows, unique_keys
from tessera.registry.repository import load_schema
from tessera.settings import Settings


def _row_key(attribute_id: int, ord_: int, facet: str, v_text: Any, v_num: Any, v_ts: Any, v_bool: Any,
             v_json: Any) -> tuple[Any, ...]:
    number = Decimal(str(v_num)).normalize() if v_num is not None else None
    parsed = orjson.loads(v_json) if isinstance(v_json, str | bytes) else v_json
    return (int(attribute_id), int(ord_), facet, v_text, number, v_ts, v_bool,
            orjson.dumps(parsed, option=orjson.OPT_SORT_KEYS) if parsed is not None else None)


async def check(database_url: str, workspace_id: int) -> dict[str, int]:
    engine = create_engine(Settings(database_url=database_url), pool_size=1)
    try:
        async with engine.connect() as conn:
            schema = await load_schema(Tenant(conn, workspace_id))
            records = (await conn.execute(text(
                "SELECT id, object_id, data FROM records WHERE workspace_id = :ws"), {"ws": workspace_id})).all()
            stored: dict[int, set[tuple[Any, ...]]] = {}
            for row in (await conn.execute(text(
                    "SELECT record_id, attribute_id, ord, facet, v_text, v_num, v_ts, v_bool, v_json "
                    "FROM record_values WHERE workspace_id = :ws"), {"ws": workspace_id})).all():
                stored.setdefault(row.record_id, set()).add(_row_key(*row[1:]))
            claims = {(r.attribute_id, r.value_key): r.record_id for r in (await conn.execute(text(
                "SELECT attribute_id, value_key, record_id FROM unique_values WHERE workspace_id = :ws"),
                {"ws": workspace_id})).all()}
            mismatched = unclaimed = 0
            expected_claims: dict[tuple[int, str], int] = {}
            for record in records:
                obj = schema.object_by_id(record.object_id)
                assert obj is not None, f"record {record.id} of an unknown object"
                data = orjson.loads(record.data) if isinstance(record.data, str) else record.data
                rows = ValueRows.empty()
                for attribute_id, values in data.items():
                    attribute = obj.attribute_by_id(int(attribute_id))
                    assert attribute is not None, f"record {record.id}: unknown attribute {attribute_id}"
                    add_value_rows(rows, record.id, attribute, values)
                    if attribute.is_unique:
                        for key in unique_keys(attribute, values):
                            expected_claims[(attribute.id, key)] = record.id
                derived = {_row_key(*columns[1:]) for columns in zip(*rows.columns(), strict=True)}
                mismatched += derived != stored.pop(record.id, set())
            for key, record_id in expected_claims.items():
                unclaimed += claims.get(key) != record_id
            stray_claims = sum(1 for key in claims if key not in expected_claims)
            no_created_event = (await conn.execute(text(
                "SELECT count(*) FROM records r WHERE r.workspace_id = :ws AND NOT EXISTS (SELECT 1 FROM "
                "timeline_events t WHERE t.workspace_id = r.workspace_id AND t.record_id = r.id "
                "AND t.event_type = 'created')"), {"ws": workspace_id})).scalar_one()
            orphan_outbox = (await conn.execute(text(
                "SELECT count(*) FROM outbox o WHERE o.workspace_id = :ws AND o.aggregate_type = 'record' "
                "AND NOT EXISTS (SELECT 1 FROM records r WHERE r.workspace_id = o.workspace_id "
                "AND r.id = o.aggregate_id) AND NOT EXISTS (SELECT 1 FROM outbox d WHERE d.workspace_id = "
                "o.workspace_id AND d.aggregate_id = o.aggregate_id AND d.event_type = 'record.deleted')"),
                {"ws": workspace_id})).scalar_one()
            await conn.rollback()
    finally:
        await engine.dispose()
    return {"records_checked": len(records), "read_model_mismatches": mismatched,
            "value_rows_without_record": len(stored), "unique_values_unclaimed": unclaimed,
            "stray_unique_claims": stray_claims, "records_without_created_event": int(no_created_event),
            "outbox_rows_without_record": int(orphan_outbox)}
