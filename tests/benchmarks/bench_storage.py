"""Storage study: the same synthetic records in three layouts, loaded with COPY and queried.

A standalone experiment on its own scratch database ``tessera_storage_study`` (created and
migrated like ``tessera_bench``, so layout (a) is exactly the DDL of migration 0003):

(a) ``eav``: what Tessera does. ``records`` (with the jsonb read model ``data``),
    ``record_values`` (typed EAV rows, partial indexes per storage class) and ``unique_values``,
    written together. Queries are the SQL Tessera generates: ``RecordQuery`` from
    ``tessera.records.listing`` runs on a plain asyncpg connection and its statements are
    captured, so the plan logic (exact total, then filter-first / id walk / sort-index walk)
    is the product's.
(a') ``eav_nofk``: the same tables without the four foreign keys of ``record_values`` and
    ``unique_values`` (load only): what those per-row checks cost.
(b) ``jsonb``: one row per record holding the same read model, a GIN index
    (``jsonb_path_ops``) for containment and one expression btree per attribute facet
    (``(workspace_id, object_id, ((data->'<id>'->>0) COLLATE "C"), id)``,
    ``(((data->'<id>'->>0)::numeric))``...), unique expression index for the unique attribute.
(c) ``wide``: a table with a real column per facet and a btree per column (GIN on the tags
    array): the reference no dynamic schema can have without DDL per attribute.

Measured per layout: COPY load time, on-disk size (heap + indexes), and latency (p50/p95 over
several parameter values x repetitions, one client) of: ``eq_sort`` (equality filter + sort by
another attribute + LIMIT 50 + exact total), ``and3_range`` (select = x AND number range AND
boolean, LIMIT 50 by id + total), ``point_read`` (by id), ``contains_one`` / ``contains_two``
(multi-value tags containing one / two given values + total). For the EAV layout also: the
exact count's share, filter-first vs sort-index walk forced over a selectivity sweep, and for
the jsonb layout the cost of its schema changes (``CREATE INDEX`` for a new attribute) and of
many per-workspace expression indexes (planning and insert time vs the number of indexes).
EXPLAIN (ANALYZE, BUFFERS) of the slowest value of every query and layout goes to the results.

Run: ``python tests/benchmarks/bench_storage.py [--records 500000]``. Writes
``results/storage.json``; ``docs/storage.md`` discusses the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))  # run as a plain script from anywhere

import asyncpg  # noqa: E402
import orjson  # noqa: E402
from bench_records import CapturingTenant, asyncpg_url, percentiles  # noqa: E402
from harness import BenchmarkError, bench_database, load_average, stack_env, write_result  # noqa: E402
from records_data import OBJECT_SLUG, REGIONS, STAGES, TAGS, generate_batch, object_definition  # noqa: E402
from tqdm import tqdm  # noqa: E402

from schema_registry.definitions import AttributeDefinition, ObjectDefinition  # noqa: E402
from schema_registry.query import parse_filter, parse_sorts  # noqa: E402
from schema_registry.validation import validate_attributes  # noqa: E402
from tessera.db.ids import compose_id  # noqa: E402
from tessera.records.cursor import CursorCodec  # noqa: E402
from tessera.records.listing import RecordQuery  # noqa: E402
from tessera.records.values import ValueRows, add_value_rows, unique_keys  # noqa: E402

NAME = "storage"
DATABASE = "tessera_storage_study"
WORKSPACE_ID = 1
OBJECT_ID = 100
FIRST_ATTRIBUTE_ID = 1000
LAYOUTS = ("eav", "jsonb", "wide")
NOW = datetime(2026, 11, 1, tzinfo=UTC)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


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


# -- queries -------------------------------------------------------------------------------


Answer = tuple[int, list[tuple[str, tuple[Any, ...], float]]]
"""What running one query value returns: the total, and each statement run with its args and ms."""


@dataclass
class Query:
    """One query shape, as parameter values and a way to run one value in each layout."""

    name: str
    values: list[Any]
    runners: dict[str, Callable[[Any], Awaitable[Answer]]]


class RewritingTenant(CapturingTenant):
    """A ``CapturingTenant`` that runs each statement through ``rewrite`` first: how the EAV
    variants below try a change to the generated SQL without changing the product."""

    def __init__(self, conn: asyncpg.Connection, workspace_id: int, rewrite: Callable[[str], str]) -> None:
        super().__init__(conn, workspace_id)
        self.rewrite = rewrite

    async def fetch(self, statement: str, *args: Any) -> list[Any]:
        return await super().fetch(self.rewrite(statement), *args)


def fence_exists(sql: str) -> str:
    """Every ``EXISTS (SELECT 1 FROM record_values ...)`` probe with ``OFFSET 0`` appended (once).
    PostgreSQL flattens a plain EXISTS into a semi-join, which it may then run as a hash join
    over every matching value (all of them, before the LIMIT); with OFFSET 0 the probe stays a
    per-row subplan, so an ordered walk stops after the page."""
    marker = "EXISTS (SELECT 1 FROM record_values"
    out, start = [], 0
    while (found := sql.find(marker, start)) >= 0:
        depth, index = 0, found + len("EXISTS ")
        while True:
            depth += {"(": 1, ")": -1}.get(sql[index], 0)
            if depth == 0:
                break
            index += 1
        already = sql[found:index].rstrip().endswith("OFFSET 0")  # the product fences its walks itself
        out.append(sql[start:index] + ("" if already else " OFFSET 0"))
        start = index
    out.append(sql[start:])
    return "".join(out)


_RANGE_PAIR = re.compile(
    r"\(SELECT v\.record_id FROM record_values v WHERE (v\.workspace_id = \$1 AND v\.attribute_id = \$\d+::bigint "
    r"AND v\.facet = \$\d+::text AND v\.v_num [<>]=? \$\d+::numeric)\) INTERSECT \(SELECT v\.record_id FROM "
    r"record_values v WHERE v\.workspace_id = \$1 AND (v\.attribute_id = \$\d+::bigint AND v\.facet = \$\d+::text "
    r"AND v\.v_num [<>]=? \$\d+::numeric)\)")
_TEXT_KEY = re.compile(r'left\((\w+)\.v_text, 200\) COLLATE "C"')


def merge_ranges(sql: str) -> str:
    """Two INTERSECTed range scans of one numeric facet (``{"$gte": a, "$lt": b}``) as one scan."""
    return _RANGE_PAIR.sub(r"(SELECT v.record_id FROM record_values v WHERE \1 AND \2)", sql)


def use_text_key(sql: str) -> str:
    """``left(v.v_text, 200) COLLATE "C"`` replaced by the stored column ``v_key`` (see
    ``add_text_key``), which an index-only scan can return."""
    return _TEXT_KEY.sub(r"\1.v_key", sql)


def fixed(sql: str) -> str:
    return use_text_key(merge_ranges(fence_exists(sql)))


async def add_text_key(conn: asyncpg.Connection) -> float:
    """The text index keyed on a stored generated column instead of an expression: PostgreSQL
    only plans index-only scans when every *column* the query needs is in the index, which is
    never true of ``left(v_text, 200)``. Rewrites the table; returns the seconds it took."""
    started = time.perf_counter()
    await conn.execute("SET maintenance_work_mem = '256MB'")
    await conn.execute('ALTER TABLE record_values ADD COLUMN v_key text COLLATE "C" '
                       "GENERATED ALWAYS AS (left(v_text, 200)) STORED")
    await conn.execute("CREATE INDEX ix_record_values_key ON record_values (workspace_id, attribute_id, facet, v_key, "
                       "record_id) INCLUDE (ord) WHERE v_key IS NOT NULL")
    await conn.execute("VACUUM ANALYZE record_values")
    await conn.execute("RESET maintenance_work_mem")
    return time.perf_counter() - started


EAV_VARIANTS: dict[str, Callable[[str], str]] = {"eav_fenced": fence_exists, "eav_fixed": fixed,
                                                 "eav_stats": lambda sql: sql}


class Study:
    def __init__(self, conn: asyncpg.Connection, obj: ObjectDefinition, sample_ids: list[int]) -> None:
        self.conn = conn
        self.obj = obj
        self.ids = sample_ids
        self.expr = jsonb_expressions(obj)
        self.codec = CursorCodec(b"storage-study", WORKSPACE_ID, "study")

    def tenant(self, layout: str) -> CapturingTenant:
        rewrite = EAV_VARIANTS.get(layout)
        if rewrite is None:
            return CapturingTenant(self.conn, WORKSPACE_ID)
        return RewritingTenant(self.conn, WORKSPACE_ID, rewrite)

    def attribute(self, slug: str) -> AttributeDefinition:
        attribute = self.obj.attribute(slug)
        assert attribute is not None
        return attribute

    def option(self, slug: str, name: str) -> str:
        option = self.attribute(slug).option_by_name(name)
        assert option is not None
        return option.id

    # (a) the product's own plan logic and SQL
    async def eav(self, body: dict[str, Any], layout: str = "eav") -> Answer:
        tenant = self.tenant(layout)
        sort = body.get("sort")
        pairs = [(sort["attribute"], sort["direction"])] if sort else []
        query = RecordQuery(tenant, self.obj, node=parse_filter(self.obj, body.get("filter")),  # type: ignore[arg-type]
                            sorts=parse_sorts(self.obj, pairs), codec=self.codec)
        page = await query.page(limit=50, offset=0, cursor=None)
        return page.total, tenant.statements

    async def eav_point(self, record_id: int) -> Answer:
        from tessera.records.repository import get_record
        tenant = CapturingTenant(self.conn, WORKSPACE_ID)
        row = await get_record(tenant, record_id)  # type: ignore[arg-type]
        return int(row is not None), tenant.statements

    async def sql(self, statements: list[tuple[str, tuple[Any, ...]]]) -> Answer:
        """Run ``(sql, args)`` statements in order (``$1`` = workspace id); the first answers the count."""
        done = []
        total = 0
        for index, (sql, args) in enumerate(statements):
            started = time.perf_counter()
            rows = await self.conn.fetch(sql, WORKSPACE_ID, *args)
            done.append((sql, args, (time.perf_counter() - started) * 1000))
            if index == 0:
                total = int(rows[0][0]) if rows and len(rows[0]) == 1 else len(rows)
        return total, done

    def queries(self) -> list[Query]:
        e, obj_id = self.expr, OBJECT_ID
        tags = str(self.attribute("tags").id)

        def eq_sort_values() -> list[tuple[str, str]]:
            return [("stage", s) for s in STAGES] + [("region", r) for r in REGIONS[:3]]

        def eq_sort(layout: str) -> Callable[[Any], Awaitable[Any]]:
            async def run(value: tuple[str, str]) -> Any:
                slug, name = value
                if layout.startswith("eav"):
                    return await self.eav({"filter": {slug: name}, "sort": {"attribute": "close_date",
                                                                             "direction": "asc"}}, layout)
                option = self.option(slug, name)
                if layout == "jsonb":
                    where = f"workspace_id = $1 AND object_id = $2 AND {e[slug]} = $3"
                    order = f"{e['close_date']} ASC NULLS LAST, id"
                    table, columns = "records_jsonb", "id, object_id, data, created_at, updated_at"
                else:
                    where = f"workspace_id = $1 AND object_id = $2 AND {slug} = $3"
                    order = "close_date ASC NULLS LAST, id"
                    table, columns = "records_wide", "*"
                return await self.sql([(f"SELECT count(*) FROM {table} WHERE {where}", (obj_id, option)),
                                       (f"SELECT {columns} FROM {table} WHERE {where} ORDER BY {order} LIMIT 51",
                                        (obj_id, option))])
            return run

        and3_values = [("Lead", 10, 30, True), ("Qualified", 40, 50, False), ("Proposal", 0, 50, True),
                       ("Won", 70, 75, True), ("Lost", 25, 55, False), ("Qualified", 0, 100, True)]

        def and3(layout: str) -> Callable[[Any], Awaitable[Any]]:
            async def run(value: tuple[str, int, int, bool]) -> Any:
                stage, low, high, active = value
                if layout.startswith("eav"):
                    return await self.eav({"filter": {"$and": [{"stage": stage}, {"score": {"$gte": low, "$lt": high}},
                                                               {"is_active": active}]}}, layout)
                args = (obj_id, self.option("stage", stage), Decimal(low), Decimal(high), active)
                if layout == "jsonb":
                    where = (f"workspace_id = $1 AND object_id = $2 AND {e['stage']} = $3 AND {e['score']} >= $4 "
                             f"AND {e['score']} < $5 AND {e['is_active']} = $6")
                    table, columns = "records_jsonb", "id, object_id, data, created_at, updated_at"
                else:
                    where = ("workspace_id = $1 AND object_id = $2 AND stage = $3 AND score >= $4 AND score < $5 "
                             "AND is_active = $6")
                    table, columns = "records_wide", "*"
                return await self.sql([(f"SELECT count(*) FROM {table} WHERE {where}", args),
                                       (f"SELECT {columns} FROM {table} WHERE {where} ORDER BY id LIMIT 51", args)])
            return run

        def point(layout: str) -> Callable[[Any], Awaitable[Any]]:
            async def run(record_id: int) -> Any:
                if layout.startswith("eav"):
                    return await self.eav_point(record_id)
                table = "records_jsonb" if layout == "jsonb" else "records_wide"
                return await self.sql([(f"SELECT * FROM {table} WHERE workspace_id = $1 AND id = $2", (record_id,))])
            return run

        def contains(layout: str) -> Callable[[Any], Awaitable[Any]]:
            async def run(names: tuple[str, ...]) -> Any:
                if layout.startswith("eav"):
                    node = {"tags": names[0]} if len(names) == 1 else {"$and": [{"tags": n} for n in names]}
                    return await self.eav({"filter": node}, layout)
                options = [self.option("tags", n) for n in names]
                if layout == "jsonb":
                    where = "workspace_id = $1 AND object_id = $2 AND data @> $3::jsonb"
                    args: tuple[Any, ...] = (obj_id, orjson.dumps({tags: options}).decode())
                    table, columns = "records_jsonb", "id, object_id, data, created_at, updated_at"
                else:
                    where = "workspace_id = $1 AND object_id = $2 AND tags @> $3::text[]"
                    args = (obj_id, options)
                    table, columns = "records_wide", "*"
                return await self.sql([(f"SELECT count(*) FROM {table} WHERE {where}", args),
                                       (f"SELECT {columns} FROM {table} WHERE {where} ORDER BY id LIMIT 51", args)])
            return run

        every = [*LAYOUTS, *EAV_VARIANTS]
        return [
            Query("eq_sort", eq_sort_values(), {layout: eq_sort(layout) for layout in every}),
            Query("and3_range", and3_values, {layout: and3(layout) for layout in every}),
            Query("point_read", self.ids[:50], {layout: point(layout) for layout in LAYOUTS}),
            Query("contains_one", [(t,) for t in TAGS[:6]], {layout: contains(layout) for layout in every}),
            Query("contains_two", [(TAGS[0], TAGS[1]), (TAGS[1], TAGS[4]), (TAGS[2], TAGS[7]), (TAGS[3], TAGS[10])],
                  {layout: contains(layout) for layout in every}),
        ]


async def measure(study: Study, repeats: int, layouts: tuple[str, ...] = LAYOUTS,
                  into: dict[str, Any] | None = None) -> dict[str, Any]:
    """Each query, each layout: a warm-up pass over the values, then ``repeats`` passes; totals
    must agree with the ``eav`` layout's. Keeps the statements of the slowest value for EXPLAIN."""
    out: dict[str, Any] = into if into is not None else {}
    for query in study.queries():
        if not set(layouts) & set(query.runners):
            continue
        out.setdefault(query.name, {})
        totals: dict[str, list[int]] = {}
        for layout in layouts:
            if layout not in query.runners:
                continue
            run = query.runners[layout]
            totals[layout] = [(await run(value))[0] for value in query.values]
            samples: list[float] = []
            per_value: list[list[float]] = [[] for _ in query.values]
            statements: list[list[tuple[str, tuple[Any, ...], float]]] = [[] for _ in query.values]
            for _ in range(repeats):
                for index, value in enumerate(query.values):
                    started = time.perf_counter()
                    _, done = await run(value)
                    elapsed = (time.perf_counter() - started) * 1000
                    samples.append(elapsed)
                    per_value[index].append(elapsed)
                    statements[index] = done
            slowest = max(range(len(query.values)), key=lambda i: statistics.median(per_value[i]))
            out[query.name][layout] = {
                "latency_ms": percentiles(samples),
                "statement_ms": [round(done[2], 2) for done in statements[slowest]],
                "slowest_value": str(query.values[slowest]),
                "totals": totals[layout] if query.name != "point_read" else sum(totals[layout]),
                "_slowest_statements": statements[slowest],
            }
            stats = out[query.name][layout]["latency_ms"]
            log(f"{query.name:13s} {layout:6s} p50 {stats['p50']:8.2f} ms  p95 {stats['p95']:8.2f} ms  "
                f"(slowest value {query.values[slowest]})")
        reference = out[query.name].setdefault("totals", totals.get("eav") if query.name != "point_read" else None)
        for layout, found in totals.items():
            if query.name != "point_read" and found != reference:
                raise BenchmarkError(f"{query.name}: {layout} totals {found} differ from eav {reference}")
    return out


async def explain(conn: asyncpg.Connection, measured: dict[str, Any]) -> None:
    """Replace the kept statements of each query's slowest value by their EXPLAIN (ANALYZE, BUFFERS)."""
    for layouts in measured.values():
        for result in layouts.values():
            if not isinstance(result, dict) or "_slowest_statements" not in result:
                continue
            plans = []
            for sql, args, ms in result.pop("_slowest_statements"):
                plan = await conn.fetch("EXPLAIN (ANALYZE, BUFFERS) " + sql, WORKSPACE_ID, *args)
                plans.append({"sql": " ".join(sql.split()), "args": [str(a) for a in args], "ms": round(ms, 2),
                              "explain": [r[0] for r in plan]})
            result["plans"] = plans


# -- EAV plan study ------------------------------------------------------------------------


async def plan_sweep(study: Study, repeats: int) -> list[dict[str, Any]]:
    """Filter-first vs sort-index walk, forced, over filters matching from ~0.01 % to ~50 % of
    the records (``amount > x`` for quantiles of amount), sorted by ``close_date``; with the
    exact count's time beside them. Which plan the product picks depends only on the total
    (``SMALL_RESULT``)."""
    from tessera.records.listing import SMALL_RESULT

    amount = study.attribute("amount")
    shares = [0.0001, 0.001, 0.004, 0.01, 0.05, 0.2, 0.5]
    cuts = await study.conn.fetch(
        "SELECT percentile_disc($3::float8[]) WITHIN GROUP (ORDER BY v_num DESC) AS cuts FROM record_values "
        "WHERE workspace_id = $1 AND attribute_id = $2 AND facet = '' AND v_num IS NOT NULL",
        WORKSPACE_ID, amount.id, shares)
    out = []
    for share, cut in zip(shares, cuts[0]["cuts"], strict=True):
        tenant = CapturingTenant(study.conn, WORKSPACE_ID)
        query = RecordQuery(tenant, study.obj, node=parse_filter(study.obj, {"amount": {"$gt": float(cut)}}),  # type: ignore[arg-type]
                            sorts=parse_sorts(study.obj, [("close_date", "asc")]), codec=study.codec)
        fenced = RecordQuery(RewritingTenant(study.conn, WORKSPACE_ID, fence_exists), study.obj,  # type: ignore[arg-type]
                             node=query.node, sorts=query.sorts, codec=study.codec)
        timings: dict[str, list[float]] = {"count": [], "filter_first": [], "sort_index_walk": [],
                                           "sort_index_walk_fenced": []}
        total = 0
        for _ in range(repeats + 1):
            calls: tuple[tuple[str, Callable[[], Awaitable[Any]]], ...] = (
                ("count", query.total),
                ("filter_first", partial(query._filter_first, 51, 0, None)),
                ("sort_index_walk", partial(query._sort_index_walk, 51, 0, None)),
                ("sort_index_walk_fenced", partial(fenced._sort_index_walk, 51, 0, None)))
            for name, call in calls:
                started = time.perf_counter()
                answer = await call()
                timings[name].append((time.perf_counter() - started) * 1000)
                if name == "count":
                    total = int(answer)  # type: ignore[arg-type]
        row = {"share": share, "total": total, "chosen": "filter_first" if total <= SMALL_RESULT else "sort_index_walk",
               **{f"{k}_ms": round(statistics.median(v[1:]), 2) for k, v in timings.items()}}
        log(f"plan sweep: total {total:>7,}: count {row['count_ms']:.1f} ms, filter-first {row['filter_first_ms']:.1f} "
            f"ms, sort-index walk {row['sort_index_walk_ms']:.1f} ms, fenced {row['sort_index_walk_fenced_ms']:.1f} ms "
            f"(product picks {row['chosen']})")
        out.append(row)
    return out


# -- jsonb schema-change costs ---------------------------------------------------------------


async def jsonb_schema_costs(conn: asyncpg.Connection, obj: ObjectDefinition,
                             index_counts: list[int]) -> dict[str, Any]:
    """What the jsonb layout pays for a dynamic schema: (1) a new sortable attribute needs a new
    expression index over the whole (shared) table; (2) in a shared table every workspace's
    attributes need their own indexes (partial on ``workspace_id``), and every statement plans
    and every insert maintains against all of them. Measured on a scratch table of 20,000 rows
    with ``n`` extra partial expression indexes for other (empty) workspaces."""
    started = time.perf_counter()
    await conn.execute("CREATE INDEX jx_new_attribute ON records_jsonb (workspace_id, object_id, "
                       "((data->'999999'->>0) COLLATE \"C\"), id)")
    create_index_s = time.perf_counter() - started
    await conn.execute("DROP INDEX jx_new_attribute")

    await conn.execute("DROP TABLE IF EXISTS jsonb_many")
    await conn.execute("CREATE TABLE jsonb_many (LIKE records_jsonb INCLUDING ALL)")
    rows = await conn.fetch("SELECT * FROM records_jsonb ORDER BY id DESC LIMIT 2000")
    await conn.execute("INSERT INTO jsonb_many SELECT * FROM records_jsonb WHERE id < $1 ORDER BY id LIMIT 20000",
                       rows[-1]["id"])
    await conn.execute("ANALYZE jsonb_many")
    expr = jsonb_expressions(obj)
    stage_option = obj.attribute("stage").select_options[0].id  # type: ignore[union-attr]
    results = []
    created = 0
    for count in index_counts:
        while created < count:
            workspace = 1000 + created // 10
            attribute = 5000 + created
            await conn.execute(f"CREATE INDEX jm_{created} ON jsonb_many (object_id, ((data->'{attribute}'->>0) "
                               f"COLLATE \"C\"), id) WHERE workspace_id = {workspace}")
            created += 1
        plan_ms = []
        for _ in range(20):
            plan = await conn.fetch(f"EXPLAIN (SUMMARY) SELECT * FROM jsonb_many WHERE workspace_id = $1 "
                                    f"AND object_id = $2 AND {expr['stage']} = $3 "
                                    f"ORDER BY {expr['close_date']} LIMIT 50",
                                    WORKSPACE_ID, OBJECT_ID, stage_option)
            plan_ms.append(float(next(r[0] for r in plan if r[0].startswith("Planning Time")).split()[2]))
        transaction = conn.transaction()
        await transaction.start()
        started = time.perf_counter()
        await conn.copy_records_to_table("jsonb_many", records=[tuple(r) for r in rows], columns=list(rows[0].keys()))
        insert_ms = (time.perf_counter() - started) * 1000
        await transaction.rollback()  # the same 2,000 new rows for every index count
        results.append({"extra_indexes": count, "planning_ms": round(statistics.median(plan_ms), 3),
                        "copy_2000_rows_ms": round(insert_ms, 1)})
        log(f"jsonb with {count} extra partial indexes: planning {results[-1]['planning_ms']} ms, COPY of 2,000 rows "
            f"{results[-1]['copy_2000_rows_ms']} ms")
    await conn.execute("DROP TABLE jsonb_many")
    return {"create_index_for_new_attribute_s": round(create_index_s, 2), "many_indexes": results}


# -- the run -------------------------------------------------------------------------------


async def study(url: str, args: argparse.Namespace) -> dict[str, Any]:
    obj = object_definition(WORKSPACE_ID, OBJECT_ID, FIRST_ATTRIBUTE_ID, with_tags=True)
    conn = await asyncpg.connect(asyncpg_url(url), server_settings={"timezone": "UTC"})
    try:
        await create_schema(conn, obj, with_nofk=not args.skip_nofk)
        layouts = ["eav", "jsonb", "wide"] + ([] if args.skip_nofk else ["eav_nofk"])
        loaded = await load(conn, obj, args, layouts)
        log("load (COPY) seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in loaded["seconds"].items()))
        if not args.skip_nofk:
            await conn.execute("DROP SCHEMA nofk CASCADE")
        started = time.perf_counter()
        vacuum = {}
        for table in ("records", "record_values", "unique_values", "records_jsonb", "records_wide"):
            started = time.perf_counter()
            await conn.execute(f"VACUUM ANALYZE {table}")
            vacuum[table] = round(time.perf_counter() - started, 2)
        layout_sizes = await sizes(conn)
        log("sizes (MiB): " + ", ".join(f"{k} {v['total']}" for k, v in layout_sizes.items() if k in LAYOUTS))
        sample = [r["id"] for r in await conn.fetch(
            "SELECT id FROM records TABLESAMPLE SYSTEM (1) WHERE workspace_id = $1 LIMIT 200", WORKSPACE_ID)]
        the_study = Study(conn, obj, sample)
        measured = await measure(the_study, args.repeats)
        await explain(conn, measured)
        sweep = await plan_sweep(the_study, 3)
        schema_costs = await jsonb_schema_costs(conn, obj, [0, 100, 500, 1000]) if not args.skip_index_scaling else {}
        ways_out: dict[str, Any] = {}
        if not args.skip_variants:
            # The EAV SQL with one change each (measured on the same data; not product changes).
            await measure(the_study, args.variant_repeats, ("eav_fenced",), measured)
            await explain(conn, measured)
            await conn.execute('CREATE STATISTICS st_record_values_text (mcv) ON attribute_id, '
                               '(left(v_text, 200) COLLATE "C") FROM record_values')
            await conn.execute("ANALYZE record_values")
            await measure(the_study, args.variant_repeats, ("eav_stats",), measured)
            await explain(conn, measured)
            await conn.execute("DROP STATISTICS st_record_values_text")
            await conn.execute("ANALYZE record_values")
            ways_out["text_key_seconds"] = round(await add_text_key(conn), 1)
            ways_out["text_key_sizes_mib"] = await sizes(conn)
            await measure(the_study, args.variant_repeats, ("eav_fixed",), measured)
            await explain(conn, measured)
    finally:
        await conn.close()
    return {"load": loaded, "vacuum_analyze_s": vacuum, "sizes_mib": layout_sizes, "queries": measured,
            "eav_plan_sweep": sweep, "jsonb_schema_costs": schema_costs, "eav_ways_out": ways_out}


def headline(result: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for layout in ("eav", "jsonb", "wide"):
        out[f"{layout}_load_s"] = {"value": result["load"]["seconds"][layout], "unit": "s"}
        out[f"{layout}_size_mib"] = {"value": result["sizes_mib"][layout]["total"], "unit": "MiB"}
    for name in ("eq_sort", "and3_range", "point_read", "contains_one", "contains_two"):
        for layout in ("eav", "eav_fixed", "jsonb", "wide"):
            if layout in result["queries"][name]:
                out[f"{name}_{layout}_p95_ms"] = {"value": result["queries"][name][layout]["latency_ms"]["p95"],
                                                  "unit": "ms"}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=500_000)
    parser.add_argument("--chunk", type=int, default=2000, help="records per COPY transaction")
    parser.add_argument("--repeats", type=int, default=5, help="measured passes over each query's values")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--skip-nofk", action="store_true", help="do not load the EAV tables without foreign keys")
    parser.add_argument("--skip-index-scaling", action="store_true")
    parser.add_argument("--skip-variants", action="store_true", help="do not measure the EAV SQL variants")
    parser.add_argument("--variant-repeats", type=int, default=3)
    args = parser.parse_args()
    env = stack_env()
    load_before = load_average()
    started = time.monotonic()
    try:
        with bench_database(env, name=DATABASE) as url:
            result = asyncio.run(study(url, args))
    except BenchmarkError as err:
        sys.exit(f"bench_storage: {err}")
    warnings = []
    load_after = load_average()
    if max(load_before[0], load_after[0]) > 2.5:
        warnings.append(f"the machine was busy (1-minute load average {load_before[0]} before, {load_after[0]} after, "
                        f"on {os.cpu_count()} CPUs): latencies include waiting for a CPU")
    write_result(NAME, {
        "description": f"{args.records:,} records in typed EAV (Tessera), jsonb + expression indexes, wide table",
        "settings": vars(args), "warnings": warnings, "headline": headline(result),
        "load_average": {"before": load_before, "after": load_after},
        "minutes": round((time.monotonic() - started) / 60, 1), **result})
    log(f"done in {(time.monotonic() - started) / 60:.1f} min; wrote results/{NAME}.json")


if __name__ == "__main__":
    main()
