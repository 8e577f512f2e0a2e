"""Record engine at scale: bulk load, single create, get by id and filtered queries over
1,000,000 records in one workspace plus 9 workspaces of 100,000 (``--quick``: 50,000 + 2 x 10,000).

One run, one fresh database (``harness.bench_database``), one Tessera server pinned to CPU 0:

1. **Bulk load** through ``POST /v1/objects/deal/records/batch`` (batches of 1,000, ``--clients``
   concurrent HTTP clients; bodies are generated before the clock starts). Target >= 20,000
   records/s. The *floor* measured in the same run: asyncpg ``copy_records_to_table`` of the
   same rows (built with the product's own ``validate_attributes``, ``add_value_rows`` and
   ``unique_keys``) into a scratch copy of ``records``, ``record_values`` and ``unique_values``
   (same columns, indexes and foreign keys), on ``--copy-connections`` connections, one
   transaction per 1,000 records; only the COPY transactions are timed. Reported as
   ``batch_vs_copy``. The batch path also writes a timeline event and an outbox row per record,
   which the floor does not.
2. ``VACUUM ANALYZE`` of the whole database (timed): sets the visibility map, so counts can use
   index-only scans, and gives the planner statistics, as autovacuum would after a bulk load.
3. **Get by id** ``GET /v1/records/{id}``: wrk cycling through 10,000 random ids of the large
   workspace, 1 connection (target p50 <= 1 ms) and 8 connections.
4. **Queries** in the large workspace, one client, each answer carrying ``total``:
   ``filter_sort`` (one-attribute filter, sort by another, limit 50) and ``and3_range``
   (``$and`` of a select, a number range and a boolean), several filter values each; p50/p95/p99
   (target p95 <= 50 ms each) and every value's ``total``. The SQL of the slowest value of each
   shape is captured by running the product's ``RecordQuery`` directly and kept with
   ``EXPLAIN (ANALYZE, BUFFERS)`` in the results.
5. **Single create** ``POST /v1/objects/deal``: wrk with a Lua body generator (every body
   distinct, unique website), 1 connection (target p50 <= 2 ms) and 8 connections.
6. Peak RSS of the API process.

Run: ``python tests/benchmarks/bench_records.py --quick`` while developing; the full size is the
default (20-40 minutes on the 2-CPU reference machine). Writes ``results/records.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))  # run as a plain script from anywhere

import asyncpg  # noqa: E402
import httpx  # noqa: E402
import orjson  # noqa: E402
from captured_sql import CapturingTenant, fence_exists  # noqa: E402
from harness import (  # noqa: E402
    LOAD_CPU,
    BenchmarkError,
    bench_database,
    create_workspace,
    free_port,
    load_average,
    pinning_enabled,
    serve,
    stack_env,
    write_result,
    wrk,
)
from records_data import OBJECT_SLUG, REGIONS, STAGES  # noqa: E402
from records_load import bulk_load, copy_floor, vacuum_analyze  # noqa: E402
from records_run import API, Run, Workspace, create_object, run_queue_seconds  # noqa: E402
from workload_data import asyncpg_url, log, percentiles  # noqa: E402

NAME = "records"
DATABASE = "tessera_bench_records"
"""Its own scratch database: other benchmarks recreate ``tessera_bench`` and would cut this long
run short."""
BATCH_TARGET_RPS = 20_000
CREATE_P50_TARGET_MS = 2.0
GET_P50_TARGET_MS = 1.0
QUERY_P95_TARGET_MS = 50.0
PRESETS = {"full": (1_000_000, 9, 100_000), "quick": (50_000, 2, 10_000)}


# -- 3. get by id --------------------------------------------------------------------------


def checked_wrk(label: str, url: str, *, lua: str, headers: dict[str, str], seconds: float,
                connections: int) -> dict[str, Any]:
    figures = wrk(url, duration=seconds, connections=connections, threads=1, headers=headers, lua=lua)
    errors = figures["errors"]
    if errors["non_2xx"] or errors["timeout"]:
        raise BenchmarkError(f"{label}: wrk saw {errors['non_2xx']} non-2xx responses and {errors['timeout']} "
                             f"timeouts")
    log(f"{label}: {figures['requests_per_s']:,.0f} req/s, p50 {figures['latency_ms']['p50']:.2f} ms, "
        f"p99 {figures['latency_ms']['p99']:.2f} ms ({connections} connection(s))")
    return figures


async def sample_ids(run: Run, count: int) -> list[int]:
    conn = await asyncpg.connect(asyncpg_url(run.url))
    try:
        rows = await conn.fetch("SELECT id FROM records TABLESAMPLE SYSTEM (5) WHERE workspace_id = $1 "
                                "AND parent_record_id IS NULL LIMIT $2", run.main.workspace_id, count * 4)
    finally:
        await conn.close()
    ids = [r["id"] for r in rows]
    random.Random(run.args.seed).shuffle(ids)
    return ids[:count]


def get_by_id(run: Run, ids: list[int]) -> dict[str, Any]:
    path = f"{API}/v1/records/"
    reply = httpx.get(run.server.base_url + path + str(ids[0]), headers=run.main.headers, timeout=10)
    if reply.status_code != 200 or reply.json().get("id") != str(ids[0]):
        raise BenchmarkError(f"GET record answered {reply.status_code}: {reply.text[:300]}")
    lua = (f"local ids = {{{','.join(repr(str(i)) for i in ids)}}}\nlocal n = #ids\nlocal i = 0\n"
           f"request = function()\n  i = i + 1\n  return wrk.format('GET', '{path}' .. ids[(i % n) + 1])\nend\n")
    headers = {"Authorization": run.main.headers["Authorization"]}
    out: dict[str, Any] = {"ids": len(ids), "body_bytes": len(reply.content)}
    checked_wrk("get warm-up", run.server.base_url, lua=lua, headers=headers, seconds=run.args.warmup,
                connections=8)
    for connections in (1, 8):
        before, waited = run.server.cpu_seconds(), run_queue_seconds(run.server.pid)
        figures = checked_wrk(f"get by id c={connections}", run.server.base_url, lua=lua, headers=headers,
                              seconds=run.args.duration, connections=connections)
        figures["server_cpu_us_per_request"] = round((run.server.cpu_seconds() - before) / figures["requests"] * 1e6, 1)
        figures["server_run_queue_us_per_request"] = round(
            (run_queue_seconds(run.server.pid) - waited) / figures["requests"] * 1e6, 1)
        out[f"c{connections}"] = figures
    return out


# -- 4. queries ----------------------------------------------------------------------------


def query_shapes() -> dict[str, list[dict[str, Any]]]:
    """Request bodies of each measured query shape: several filter values each, chosen to cover
    both of the listing's regimes (few matches: filter-first; many: index walks)."""
    filter_sort: list[dict[str, Any]] = [
        {"filter": {"stage": stage}, "sort": {"attribute": "close_date", "direction": "desc"}} for stage in STAGES]
    filter_sort += [{"filter": {"region": region}, "sort": {"attribute": "amount", "direction": "desc"}}
                    for region in REGIONS[:3]]
    filter_sort += [{"filter": {"owner_email": email}, "sort": {"attribute": "score", "direction": "asc"}}
                    for email in ("owner.0@sales0.example.com", "owner.200@sales4.example.com")]
    and3: list[dict[str, Any]] = []
    for index, (stage, low, width, active) in enumerate([
            ("Lead", 10, 20, True), ("Qualified", 40, 10, False), ("Proposal", 0, 50, True),
            ("Won", 70, 5, True), ("Lost", 25, 30, False), ("Lead", 90, 11, False),
            ("Qualified", 0, 100, True), ("Proposal", 55, 15, False), ("Won", 5, 40, False), ("Lost", 60, 2, True)]):
        and3.append({"filter": {"$and": [{"stage": stage}, {"score": {"$gte": low, "$lt": low + width}},
                                         {"is_active": active}]}, "_label": f"and3-{index}"})
    for shape in (filter_sort, and3):
        for body in shape:
            body["limit"] = 50
    return {"filter_sort": filter_sort, "and3_range": and3}


def body_label(body: dict[str, Any]) -> str:
    return orjson.dumps({k: v for k, v in body.items() if k != "limit"}).decode()


def measure_queries(run: Run) -> dict[str, Any]:
    path = f"{run.server.base_url}{API}/v1/objects/{OBJECT_SLUG}/records"
    out: dict[str, Any] = {}
    with httpx.Client(headers=run.main.headers, timeout=120.0) as client:
        for shape, bodies in query_shapes().items():
            payloads = [orjson.dumps({k: v for k, v in b.items() if not k.startswith("_")}) for b in bodies]
            totals: list[int] = []
            for payload in payloads:  # warm-up, and the total each value must keep answering
                reply = client.post(path, content=payload)
                if reply.status_code != 200:
                    raise BenchmarkError(f"{shape}: HTTP {reply.status_code}: {reply.text[:300]}")
                answer = reply.json()
                if len(answer["data"]) != min(50, answer["total"]):
                    raise BenchmarkError(f"{shape}: {len(answer['data'])} rows for total {answer['total']}")
                totals.append(answer["total"])
            samples: list[float] = []
            by_value: list[list[float]] = [[] for _ in payloads]
            deadline = time.monotonic() + run.args.query_seconds
            index = 0
            while time.monotonic() < deadline or len(samples) < run.args.query_min_requests:
                which = index % len(payloads)
                started = time.perf_counter()
                reply = client.post(path, content=payloads[which])
                elapsed_ms = (time.perf_counter() - started) * 1000
                if reply.status_code != 200 or reply.json()["total"] != totals[which]:
                    raise BenchmarkError(f"{shape}: HTTP {reply.status_code} or a changed total: {reply.text[:300]}")
                samples.append(elapsed_ms)
                by_value[which].append(elapsed_ms)
                index += 1
            stats = percentiles(samples)
            log(f"{shape}: {stats['count']} requests, p50 {stats['p50']:.1f} ms, p95 {stats['p95']:.1f} ms, "
                f"p99 {stats['p99']:.1f} ms")
            out[shape] = {"latency_ms": stats, "values": [
                {"body": body_label({k: v for k, v in body.items() if not k.startswith("_")}), "total": total,
                 "median_ms": round(statistics.median(times), 2), "max_ms": round(max(times), 2)}
                for body, total, times in zip(bodies, totals, by_value, strict=True)]}
    return out


async def explain_slowest(run: Run, queries: dict[str, Any]) -> dict[str, Any]:
    """For the slowest value of each shape: the SQL the product runs (captured from
    ``RecordQuery``), each statement's time when run directly, and EXPLAIN (ANALYZE, BUFFERS)."""
    from sqlalchemy.ext.asyncio import create_async_engine

    from schema_registry.query import parse_filter, parse_sorts
    from tessera.db.tenant import Tenant
    from tessera.records.cursor import CursorCodec
    from tessera.records.listing import RecordQuery
    from tessera.registry.repository import load_schema

    url = asyncpg_url(run.url)
    engine = create_async_engine(url.replace("postgresql://", "postgresql+asyncpg://", 1))
    async with engine.connect() as sa_conn:
        obj = (await load_schema(Tenant(sa_conn, run.main.workspace_id))).object(OBJECT_SLUG)
    await engine.dispose()
    assert obj is not None
    conn = await asyncpg.connect(url, server_settings={"timezone": "UTC"})
    out: dict[str, Any] = {}
    try:
        for shape, measured in queries.items():
            slowest = max(measured["values"], key=lambda v: v["median_ms"])
            body = orjson.loads(slowest["body"])
            sort = body.get("sort")
            pairs = [(sort["attribute"], sort.get("direction", "asc"))] if sort else []
            tenant = CapturingTenant(conn, run.main.workspace_id)
            query = RecordQuery(tenant, obj, node=parse_filter(obj, body.get("filter")),  # type: ignore[arg-type]
                                sorts=parse_sorts(obj, pairs), codec=CursorCodec(b"bench", run.main.workspace_id, "x"))
            for _ in range(3):  # warm, then keep the last run's statements
                tenant.statements.clear()
                page = await query.page(limit=50, offset=0, cursor=None)
            statements = []
            for sql, args, ms in tenant.statements:
                plan = await conn.fetch("EXPLAIN (ANALYZE, BUFFERS) " + sql, run.main.workspace_id, *args)
                # The same statement with its EXISTS probes fenced (see captured_sql.fence_exists):
                # what the page would cost if PostgreSQL walked the index as the plan intends.
                fenced = fence_exists(sql) if "OFFSET 0" not in sql else sql  # the walks fence their own
                fenced_ms = None
                if fenced != sql:
                    started = time.perf_counter()
                    await conn.fetch(fenced, run.main.workspace_id, *args)
                    fenced_ms = round((time.perf_counter() - started) * 1000, 2)
                statements.append({"sql": " ".join(sql.split()), "direct_ms": round(ms, 2),
                                   "fenced_ms": fenced_ms, "explain": [r[0] for r in plan]})
            out[shape] = {"body": slowest["body"], "total": page.total, "statements": statements}
            log(f"{shape}: slowest value {slowest['body']}: " +
                ", ".join(f"{s['direct_ms']:.1f} ms" + (f" (fenced {s['fenced_ms']:.1f} ms)" if s["fenced_ms"] else "")
                          for s in statements) + " per statement (direct)")
    finally:
        await conn.close()
    return out


# -- 5. single create ----------------------------------------------------------------------

CREATE_LUA = """
math.randomseed(__SEED__)
local stages = {"Lead", "Lead", "Lead", "Qualified", "Qualified", "Proposal", "Won", "Lost"}
local regions = {"NA East", "NA West", "EMEA North", "EMEA South", "APAC", "LATAM", "ANZ", "Africa"}
local counter = 0
request = function()
  counter = counter + 1
  local body = string.format(
    '{"attributes":{"name":"wrk deal %d","stage":"%s","amount":{"amount":%.2f,"currency_code":"USD"},' ..
    '"owner_email":"Owner.%d@sales1.example.com","region":"%s","score":%d,"close_date":"2026-%02d-%02d",' ..
    '"is_active":%s,"website":"https://www.__RUN__-%d.io/","notes":"Created by wrk, request %d of __RUN__."}}',
    counter, stages[math.random(#stages)], math.random() * 50000, math.random(0, 249),
    regions[math.random(#regions)], math.random(0, 100), math.random(1, 12), math.random(1, 28),
    (math.random() < 0.65) and "true" or "false", counter, counter)
  return wrk.format("POST", "__PATH__", nil, body)
end
"""


def single_create(run: Run) -> dict[str, Any]:
    path = f"{API}/v1/objects/{OBJECT_SLUG}"
    probe = httpx.post(run.server.base_url + path, headers=run.main.headers, timeout=10, json={"attributes": {
        "name": "probe", "stage": "Lead", "website": "https://probe-create.io"}})
    if probe.status_code != 200:
        raise BenchmarkError(f"create answered {probe.status_code}: {probe.text[:300]}")
    out: dict[str, Any] = {}
    for phase, connections in (("warmup", 8), ("c1", 1), ("c8", 8)):
        tag = f"wrk{phase}{int(time.time())}"
        lua = (CREATE_LUA.replace("__SEED__", str(run.args.seed)).replace("__RUN__", tag)
               .replace("__PATH__", path))
        seconds = run.args.warmup if phase == "warmup" else run.args.duration
        before, waited = run.server.cpu_seconds(), run_queue_seconds(run.server.pid)
        figures = checked_wrk(f"create {phase}", run.server.base_url, lua=lua, headers=run.main.headers,
                              seconds=seconds, connections=connections)
        figures["server_cpu_us_per_request"] = round((run.server.cpu_seconds() - before) / figures["requests"] * 1e6, 1)
        figures["server_run_queue_us_per_request"] = round(
            (run_queue_seconds(run.server.pid) - waited) / figures["requests"] * 1e6, 1)
        if phase != "warmup":
            out[phase] = figures
    return out


# -- the run -------------------------------------------------------------------------------


def code_state() -> dict[str, Any]:
    """The commit measured and the product files changed on top of it (others edit concurrently)."""
    import subprocess

    def git(*argv: str) -> str:
        done = subprocess.run(["git", *argv], cwd=REPO, capture_output=True, text=True, check=False)
        return done.stdout.rstrip("\n")

    changed = git("status", "--porcelain", "--", "platform", "schema_registry").splitlines()
    return {"commit": git("rev-parse", "--short", "HEAD"), "changed_product_files": [line[3:] for line in changed]}


def run_benchmark(args: argparse.Namespace) -> dict[str, Any]:
    if pinning_enabled():
        os.sched_setaffinity(0, {LOAD_CPU})  # the load generator's CPU; the server has CPU 0
    env = stack_env()
    load_before = load_average()
    phases: dict[str, Any] = {"code": code_state()}
    with bench_database(env, name=DATABASE) as url:
        env["DATABASE_URL"] = url
        workspaces = []
        for index in range(1 + args.other_workspaces):
            label = "main" if index == 0 else f"other{index}"
            made = create_workspace(env, f"bench-{label}")
            workspaces.append(Workspace(label, int(made["workspace_id"]), made["api_key"],
                                        args.records if index == 0 else args.other_records, stream=index))
        with serve(env, free_port()) as server:
            run = Run(args, env, url, server, workspaces)
            for workspace in workspaces:
                create_object(server.base_url, workspace)
            phases["batch_load"] = asyncio.run(bulk_load(run))
            phases["load_average_after_load"] = load_average()
            if not args.skip_copy:
                phases["copy_floor"] = asyncio.run(copy_floor(run))
            phases["vacuum_analyze"] = asyncio.run(vacuum_analyze(run))
            ids = asyncio.run(sample_ids(run, 10_000))
            phases["get_by_id"] = get_by_id(run, ids)
            phases["queries"] = measure_queries(run)
            phases["query_plans"] = asyncio.run(explain_slowest(run, phases["queries"]))
            phases["single_create"] = single_create(run)
            memory = server.memory()
    return summarize(args, phases, memory, load_before)


def summarize(args: argparse.Namespace, phases: dict[str, Any], memory: dict[str, float],
              load_before: list[float]) -> dict[str, Any]:
    batch = phases["batch_load"]
    copy = phases.get("copy_floor")
    get, create, queries = phases["get_by_id"], phases["single_create"], phases["queries"]
    headline: dict[str, Any] = {
        "batch_records_per_s": {"value": batch["records_per_s"], "unit": "records/s", "min": BATCH_TARGET_RPS},
    }
    if copy:
        headline["copy_records_per_s"] = {"value": copy["records_per_s"], "unit": "records/s"}
        headline["batch_vs_copy"] = {"value": round(batch["records_per_s"] / copy["records_per_s"], 3)}
    headline.update({
        "create_c1_p50_ms": {"value": create["c1"]["latency_ms"]["p50"], "unit": "ms", "max": CREATE_P50_TARGET_MS},
        "create_c1_p99_ms": {"value": create["c1"]["latency_ms"]["p99"], "unit": "ms"},
        "create_c1_rps": {"value": round(create["c1"]["requests_per_s"], 1), "unit": "records/s"},
        "create_c8_p50_ms": {"value": create["c8"]["latency_ms"]["p50"], "unit": "ms"},
        "create_c8_p99_ms": {"value": create["c8"]["latency_ms"]["p99"], "unit": "ms"},
        "create_c8_rps": {"value": round(create["c8"]["requests_per_s"], 1), "unit": "records/s"},
        "get_c1_p50_ms": {"value": get["c1"]["latency_ms"]["p50"], "unit": "ms", "max": GET_P50_TARGET_MS},
        "get_c1_p99_ms": {"value": get["c1"]["latency_ms"]["p99"], "unit": "ms"},
        "get_c8_rps": {"value": round(get["c8"]["requests_per_s"], 1), "unit": "req/s"},
    })
    for shape, measured in queries.items():
        latency = measured["latency_ms"]
        headline[f"{shape}_p50_ms"] = {"value": latency["p50"], "unit": "ms"}
        headline[f"{shape}_p95_ms"] = {"value": latency["p95"], "unit": "ms", "max": QUERY_P95_TARGET_MS}
        headline[f"{shape}_p99_ms"] = {"value": latency["p99"], "unit": "ms"}
    headline["api_peak_rss_mib"] = {"value": memory["peak_rss_mib"], "unit": "MiB"}
    warnings = []
    load_after = load_average()
    if max(load_before[0], load_after[0], phases["load_average_after_load"][0]) > 2.5:
        warnings.append(f"the machine was busy (1-minute load average {load_before[0]} before, "
                        f"{phases['load_average_after_load'][0]} after the load, {load_after[0]} at the end, on "
                        f"{os.cpu_count()} CPUs): other work shared it")
    if batch["server_cpu"]["utilization"] < 0.85:
        warnings.append(f"the API process was only {batch['server_cpu']['utilization']:.0%} busy during the batch "
                        f"load: PostgreSQL ({batch['postgres_cpu']['utilization']:.0%} of a core) or the clients "
                        f"limited the rate")
    preset = "quick" if (args.records, args.other_workspaces, args.other_records) == PRESETS["quick"] else (
        "full" if (args.records, args.other_workspaces, args.other_records) == PRESETS["full"] else "custom")
    return {
        "description": (f"{args.records:,} deal records in one workspace + {args.other_workspaces} x "
                        f"{args.other_records:,}: batch load vs COPY, single create, get by id, filtered queries"),
        "preset": preset,
        "settings": {k: v for k, v in vars(args).items() if k != "quick"},
        "warnings": warnings,
        "headline": headline,
        "load_average": {"before": load_before, "after_load": phases["load_average_after_load"], "after": load_after},
        "api_memory": memory,
        **{k: v for k, v in phases.items() if k != "load_average_after_load"},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=PRESETS["full"][0], help="records in the main workspace")
    parser.add_argument("--other-workspaces", type=int, default=PRESETS["full"][1])
    parser.add_argument("--other-records", type=int, default=PRESETS["full"][2], help="records per other workspace")
    parser.add_argument("--quick", action="store_true", help="50,000 + 2 x 10,000 records, for development")
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=4, help="concurrent HTTP clients of the batch load")
    parser.add_argument("--copy-connections", type=int, default=2, help="concurrent COPY connections of the floor")
    parser.add_argument("--skip-copy", action="store_true", help="no COPY floor")
    parser.add_argument("--keep-copy", action="store_true", help="leave the floor's scratch tables in place")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per wrk measurement")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of wrk warm-up (discarded)")
    parser.add_argument("--query-seconds", type=float, default=30.0, help="measured seconds per query shape")
    parser.add_argument("--query-min-requests", type=int, default=30, help="at least this many per shape")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if args.quick:
        args.records, args.other_workspaces, args.other_records = PRESETS["quick"]
    started = time.monotonic()
    try:
        result = write_result(NAME, run_benchmark(args))
    except BenchmarkError as err:
        sys.exit(f"bench_records: {err}")
    log(f"done in {(time.monotonic() - started) / 60:.1f} min")
    for metric, entry in result["headline"].items():
        target = (f" (target >= {entry['min']})" if "min" in entry else "") + (
            f" (target <= {entry['max']})" if "max" in entry else "")
        log(f"  {metric}: {entry['value']} {entry.get('unit', '')}{target}")
    for warning in result["warnings"]:
        log(f"warning: {warning}")


if __name__ == "__main__":
    main()
