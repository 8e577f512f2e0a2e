"""The three storage layouts ``bench_storage`` compares (EAV as the product stores records, one
jsonb document per record, one wide typed table): their DDL, their rows built with the product's
own validation and value functions, their COPY load and their sizes."""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))  # run as a plain script from anywhere

import asyncpg  # noqa: E402
import orjson  # noqa: E402
from records_data import OBJECT_SLUG, generate_batch  # noqa: E402
from tqdm import tqdm  # noqa: E402

from schema_registry.definitions import ObjectDefinition  # noqa: E402
from schema_registry.validation import validate_attributes  # noqa: E402
from tessera.db.ids import compose_id  # noqa: E402
from tessera.records.values import ValueRows, add_value_rows, unique_keys  # noqa: E402

WORKSPACE_ID = 1
OBJECT_ID = 100
FIRST_ATTRIBUTE_ID = 1000
LAYOUTS = ("eav", "jsonb", "wide")
NOW = datetime(2026, 11, 1, tzinfo=UTC)


# -- DDL -----------------------------------------------------------------------------------


def jsonb_expressions(obj: ObjectDefinition) -> dict[str, str]:
    """The indexed expression of each attribute facet in the jsonb layout, keyed ``slug`` or
    ``slug.facet``; queries must use the same text for the planner to match the index."""

    def key(slug: str) -> str:
        attribute = obj.attribute(slug)
        assert attribute is not None
        return str(attribute.id)

    return {
        "name": f"((data->'{key('name')}'->>0) COLLATE \"C\")",
        "stage": f"((data->'{key('stage')}'->>0) COLLATE \"C\")",
        "amount": f"((data->'{key('amount')}'->0->>'amount')::numeric)",
        "amount.currency_code": f"((data->'{key('amount')}'->0->>'currency_code') COLLATE \"C\")",
        "owner_email": f"((data->'{key('owner_email')}'->>0) COLLATE \"C\")",
        "owner_email.domain": f"(split_part(data->'{key('owner_email')}'->>0, '@', 2) COLLATE \"C\")",
        "region": f"((data->'{key('region')}'->>0) COLLATE \"C\")",
        "score": f"((data->'{key('score')}'->>0)::numeric)",
        "close_date": f"((data->'{key('close_date')}'->>0) COLLATE \"C\")",
        "is_active": f"((data->'{key('is_active')}'->>0)::boolean)",
        "website": f"((data->'{key('website')}'->>0) COLLATE \"C\")",
        "notes": f"(left(data->'{key('notes')}'->>0, 200) COLLATE \"C\")",
    }


def jsonb_ddl(obj: ObjectDefinition) -> list[str]:
    statements = [
        """CREATE TABLE records_jsonb (
            workspace_id bigint NOT NULL,
            id bigint NOT NULL,
            object_id bigint NOT NULL,
            data jsonb NOT NULL DEFAULT '{}'::jsonb,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT pk_records_jsonb PRIMARY KEY (workspace_id, id),
            CONSTRAINT fk_records_jsonb_object FOREIGN KEY (workspace_id, object_id)
                REFERENCES object_definitions (workspace_id, id) ON DELETE CASCADE)""",
        "CREATE INDEX ix_records_jsonb_object ON records_jsonb (workspace_id, object_id, id)",
        "CREATE INDEX ix_records_jsonb_gin ON records_jsonb USING gin (data jsonb_path_ops)",
    ]
    website = obj.attribute("website")
    assert website is not None
    for name, expression in jsonb_expressions(obj).items():
        index = "jx_" + name.replace(".", "_")
        statements.append(f"CREATE INDEX {index} ON records_jsonb (workspace_id, object_id, {expression}, id)")
    statements.append(f"CREATE UNIQUE INDEX ux_records_jsonb_website ON records_jsonb (workspace_id, "
                      f"{jsonb_expressions(obj)['website']}) WHERE data ? '{website.id}'")
    return statements


WIDE_COLUMNS = (("name", "text COLLATE \"C\""), ("stage", "text COLLATE \"C\""), ("amount", "numeric"),
                ("amount_currency", "text COLLATE \"C\""), ("owner_email", "text COLLATE \"C\""),
                ("owner_email_domain", "text COLLATE \"C\""), ("region", "text COLLATE \"C\""),
                ("score", "numeric"), ("close_date", "date"), ("is_active", "boolean"),
                ("website", "text COLLATE \"C\""), ("notes", "text COLLATE \"C\""), ("tags", "text[]"))


def wide_ddl() -> list[str]:
    columns = ",\n".join(f"{name} {kind}" for name, kind in WIDE_COLUMNS)
    statements = [
        f"""CREATE TABLE records_wide (
            workspace_id bigint NOT NULL,
            id bigint NOT NULL,
            object_id bigint NOT NULL,
            {columns},
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT pk_records_wide PRIMARY KEY (workspace_id, id),
            CONSTRAINT fk_records_wide_object FOREIGN KEY (workspace_id, object_id)
                REFERENCES object_definitions (workspace_id, id) ON DELETE CASCADE)""",
        "CREATE INDEX ix_records_wide_object ON records_wide (workspace_id, object_id, id)",
        "CREATE INDEX wx_tags ON records_wide USING gin (tags)",
        "CREATE UNIQUE INDEX ux_records_wide_website ON records_wide (workspace_id, website)",
    ]
    for name, _ in WIDE_COLUMNS:
        if name in ("tags", "website"):
            continue
        column = "left(notes, 200)" if name == "notes" else name
        statements.append(f"CREATE INDEX wx_{name} ON records_wide (workspace_id, object_id, ({column}), id)")
    return statements


NOFK_DDL = [
    "CREATE SCHEMA nofk",
    "CREATE TABLE nofk.records (LIKE public.records INCLUDING ALL)",
    "CREATE TABLE nofk.record_values (LIKE public.record_values INCLUDING ALL)",
    "CREATE TABLE nofk.unique_values (LIKE public.unique_values INCLUDING ALL)",
    # The records table keeps its foreign key to the object, as in (b) and (c).
    "ALTER TABLE nofk.records ADD CONSTRAINT fk_records_object FOREIGN KEY (workspace_id, object_id) "
    "REFERENCES public.object_definitions (workspace_id, id) ON DELETE CASCADE",
]


async def create_schema(conn: asyncpg.Connection, obj: ObjectDefinition, with_nofk: bool) -> None:
    await conn.execute("INSERT INTO workspaces (id, name) VALUES ($1, 'storage study')", WORKSPACE_ID)
    await conn.execute("INSERT INTO object_definitions (workspace_id, id, slug, name, type) "
                       "VALUES ($1, $2, $3, 'Deal', 'custom')", WORKSPACE_ID, OBJECT_ID, OBJECT_SLUG)
    for attribute in obj.attributes:
        options = [{"id": o.id, "name": o.name} for o in attribute.select_options]
        await conn.execute(
            "INSERT INTO attribute_definitions (workspace_id, id, object_id, slug, name, type, is_unique, "
            "is_multi_value, is_whole_number, select_options, position) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11)",
            WORKSPACE_ID, attribute.id, OBJECT_ID, attribute.slug, attribute.name, attribute.type.value,
            attribute.is_unique, attribute.is_multi_value, attribute.is_whole_number, orjson.dumps(options).decode(),
            attribute.position)
    for statement in [*jsonb_ddl(obj), *wide_ddl(), *(NOFK_DDL if with_nofk else [])]:
        await conn.execute(statement)


# -- rows ----------------------------------------------------------------------------------


@dataclass
class Rows:
    records: list[tuple[Any, ...]]
    values: list[tuple[Any, ...]]
    claims: list[tuple[Any, ...]]
    jsonb: list[tuple[Any, ...]]
    wide: list[tuple[Any, ...]]


def build_rows(obj: ObjectDefinition, raw: list[dict[str, Any]], first_id: int) -> Rows:
    """The rows of every layout for ``raw`` records, from the product's validation and value
    functions (the EAV rows and read model are exactly what the batch endpoint writes)."""
    attributes = {a.slug: a for a in obj.attributes}
    records: list[tuple[Any, ...]] = []
    claims: list[tuple[Any, ...]] = []
    jsonb: list[tuple[Any, ...]] = []
    wide: list[tuple[Any, ...]] = []
    values = ValueRows.empty()
    for offset, item in enumerate(raw):
        record_id = first_id + offset
        validated = validate_attributes(obj, item, "create")
        snapshot: dict[str, Any] = {}
        for slug, stored in validated.items():
            attribute = attributes[slug]
            if not stored:
                continue
            snapshot[str(attribute.id)] = stored
            add_value_rows(values, record_id, attribute, stored)
            if attribute.is_unique:
                claims.extend((WORKSPACE_ID, attribute.id, key, record_id) for key in unique_keys(attribute, stored))
        data = orjson.dumps(snapshot).decode()
        records.append((WORKSPACE_ID, record_id, OBJECT_ID, None, data, "bench", "study", NOW, NOW))
        jsonb.append((WORKSPACE_ID, record_id, OBJECT_ID, data, NOW, NOW))
        wide.append((WORKSPACE_ID, record_id, OBJECT_ID, *wide_values(validated)))
    value_rows = [(WORKSPACE_ID, *row) for row in zip(*values.columns(), strict=True)]
    return Rows(records, value_rows, claims, jsonb, wide)


def wide_values(validated: dict[str, list[Any] | None]) -> tuple[Any, ...]:
    def one(slug: str) -> Any:
        stored = validated.get(slug)
        return stored[0] if stored else None

    amount = one("amount")
    email = one("owner_email")
    score = one("score")
    close = one("close_date")
    return (one("name"), one("stage"), Decimal(str(amount["amount"])) if amount else None,
            amount["currency_code"] if amount else None, email, email.split("@", 1)[1] if email else None,
            one("region"), Decimal(str(score)) if score is not None else None,
            date.fromisoformat(close) if close else None, one("is_active"), one("website"), one("notes"),
            validated.get("tags") or None, NOW, NOW)


RECORD_COLUMNS = ["workspace_id", "id", "object_id", "parent_record_id", "data", "created_by", "created_by_id",
                  "created_at", "updated_at"]
VALUE_COLUMNS = ["workspace_id", "record_id", "attribute_id", "ord", "facet", "v_text", "v_num", "v_ts", "v_bool",
                 "v_json"]
CLAIM_COLUMNS = ["workspace_id", "attribute_id", "value_key", "record_id"]
JSONB_COLUMNS = ["workspace_id", "id", "object_id", "data", "created_at", "updated_at"]
WIDE_COLUMN_NAMES = ["workspace_id", "id", "object_id", *(name for name, _ in WIDE_COLUMNS), "created_at", "updated_at"]


async def copy_layout(conn: asyncpg.Connection, layout: str, rows: Rows) -> None:
    async with conn.transaction():
        if layout in ("eav", "eav_nofk"):
            schema = "public" if layout == "eav" else "nofk"
            await conn.copy_records_to_table("records", schema_name=schema, records=rows.records,
                                             columns=RECORD_COLUMNS)
            await conn.copy_records_to_table("record_values", schema_name=schema, records=rows.values,
                                             columns=VALUE_COLUMNS)
            await conn.copy_records_to_table("unique_values", schema_name=schema, records=rows.claims,
                                             columns=CLAIM_COLUMNS)
        elif layout == "jsonb":
            await conn.copy_records_to_table("records_jsonb", records=rows.jsonb, columns=JSONB_COLUMNS)
        else:
            await conn.copy_records_to_table("records_wide", records=rows.wide, columns=WIDE_COLUMN_NAMES)


async def load(conn: asyncpg.Connection, obj: ObjectDefinition, args: argparse.Namespace,
               layouts: list[str]) -> dict[str, Any]:
    """COPY the same records into every layout, chunk by chunk, in rotating order (so no layout
    always goes first into a cold cache); only the COPY transactions are timed, per layout."""
    seconds = dict.fromkeys(layouts, 0.0)
    build_s = 0.0
    next_id = compose_id(time.time(), 0)
    chunks = (args.records + args.chunk - 1) // args.chunk
    value_rows = 0
    progress = tqdm(total=args.records, unit="rec", unit_scale=True, desc="load", mininterval=2.0, file=sys.stderr)
    for chunk in range(chunks):
        size = min(args.chunk, args.records - chunk * args.chunk)
        started = time.perf_counter()
        # Always a full chunk, cut for the last one: websites stay unique (see generate_batch).
        raw = generate_batch(args.seed, 0, chunk, args.chunk, with_tags=True)[:size]
        rows = build_rows(obj, raw, next_id)
        build_s += time.perf_counter() - started
        next_id += size
        value_rows += len(rows.values)
        order = layouts[chunk % len(layouts):] + layouts[:chunk % len(layouts)]
        for layout in order:
            started = time.perf_counter()
            await copy_layout(conn, layout, rows)
            seconds[layout] += time.perf_counter() - started
        progress.update(size)
    progress.close()
    return {"seconds": {k: round(v, 2) for k, v in seconds.items()},
            "records_per_s": {k: round(args.records / v, 1) for k, v in seconds.items()},
            "build_seconds": round(build_s, 2), "value_rows": value_rows}


async def sizes(conn: asyncpg.Connection) -> dict[str, dict[str, float]]:
    tables = {"eav": ["records", "record_values", "unique_values"], "jsonb": ["records_jsonb"],
              "wide": ["records_wide"]}
    out = {}
    for layout, names in tables.items():
        row = await conn.fetchrow(
            "SELECT sum(pg_relation_size(c.oid)) AS heap, sum(pg_indexes_size(c.oid)) AS indexes, "
            "sum(pg_total_relation_size(c.oid)) AS total FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relname = ANY($1::text[])", names)
        out[layout] = {k: round(int(row[k]) / 2**20, 1) for k in ("heap", "indexes", "total")}
    detail = await conn.fetch(
        "SELECT c.relname, pg_relation_size(c.oid) AS bytes FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'i') AND (c.relname LIKE 'records%' OR c.relname LIKE "
        "'%record_values%' OR c.relname LIKE '%unique_values%' OR c.relname LIKE 'jx_%' OR c.relname LIKE 'wx_%' "
        "OR c.relname LIKE 'ix_records%' OR c.relname LIKE 'pk_record%' OR c.relname LIKE 'ux_%')")
    ordered = sorted(detail, key=lambda r: -r["bytes"])
    out["relations_mib"] = {r["relname"]: round(r["bytes"] / 2**20, 1) for r in ordered}
    return out
