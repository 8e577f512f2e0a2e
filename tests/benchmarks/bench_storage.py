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
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))  # run as a plain script from anywhere

import asyncpg  # noqa: E402
import orjson  # noqa: E402
from captured_sql import CapturingTenant, RewritingTenant, fence_exists, fixed  # noqa: E402
from harness import BenchmarkError, bench_database, load_average, stack_env, write_result  # noqa: E402
from records_data import REGIONS, STAGES, TAGS, object_definition  # noqa: E402
from storage_layouts import (  # noqa: E402
    FIRST_ATTRIBUTE_ID,
    LAYOUTS,
    OBJECT_ID,
    WORKSPACE_ID,
    create_schema,
    jsonb_expressions,
    load,
    sizes,
)
from workload_data import asyncpg_url, log, percentiles  # noqa: E402

from schema_registry.definitions import AttributeDefinition, ObjectDefinition  # noqa: E402
from schema_registry.query import parse_filter, parse_sorts  # noqa: E402
from tessera.records.cursor import CursorCodec  # noqa: E402
from tessera.records.listing import RecordQuery  # noqa: E402

NAME = "storage"
DATABASE = "tessera_storage_study"


# -- queries -------------------------------------------------------------------------------


Answer = tuple[int, list[tuple[str, tuple[Any, ...], float]]]
"""What running one query value returns: the total, and each statement run with its args and ms."""


@dataclass
class Query:
    """One query shape, as parameter values and a way to run one value in each layout."""

    name: str
    values: list[Any]
    runners: dict[str, Callable[[Any], Awaitable[Answer]]]


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
