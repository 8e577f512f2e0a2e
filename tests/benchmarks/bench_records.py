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
from collections import Counter, deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))  # run as a plain script from anywhere

import asyncpg  # noqa: E402
import httpx  # noqa: E402
import orjson  # noqa: E402
from harness import (  # noqa: E402
    LOAD_CPU,
    BenchmarkError,
    Server,
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
from records_data import OBJECT_SLUG, REGIONS, STAGES, attribute_specs, generate_batch  # noqa: E402
from tqdm import tqdm  # noqa: E402
from workload_data import record_copy_rows, tessera_id  # noqa: E402

NAME = "records"
DATABASE = "tessera_bench_records"
"""Its own scratch database: other benchmarks recreate ``tessera_bench`` and would cut this long
run short."""
API = "/api/developers"
BATCH_TARGET_RPS = 20_000
CREATE_P50_TARGET_MS = 2.0
GET_P50_TARGET_MS = 1.0
QUERY_P95_TARGET_MS = 50.0
PRESETS = {"full": (1_000_000, 9, 100_000), "quick": (50_000, 2, 10_000)}


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def asyncpg_url(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


def percentiles(samples_ms: Sequence[float]) -> dict[str, float]:
    """p50/p95/p99/mean/max of latencies in ms (nearest-rank percentiles)."""
    ordered = sorted(samples_ms)

    def rank(p: float) -> float:
        return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]

    return {"count": len(ordered), "p50": round(rank(50), 3), "p95": round(rank(95), 3),
            "p99": round(rank(99), 3), "mean": round(statistics.fmean(ordered), 3), "max": round(ordered[-1], 3)}


def postgres_cpu_seconds() -> float:
    """User + system CPU of every ``postgres`` process (server and backends) so far; backends
    that exited meanwhile are lost, so use it over phases with long-lived connections."""
    total = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        if name == "postgres":
            fields = stat[stat.rindex(")") + 2:].split()
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def run_queue_seconds(pid: int) -> float:
    """Time a process has spent runnable but waiting for a CPU (``/proc/<pid>/schedstat``): on a
    shared machine, the part of latency that is other processes' doing."""
    return int(Path(f"/proc/{pid}/schedstat").read_text().split()[1]) / 1e9


@dataclass
class Workspace:
    label: str
    workspace_id: int
    key: str
    records: int
    stream: int
    object_id: int = 0

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}", "Content-Type": "application/json"}


@dataclass
class Run:
    args: argparse.Namespace
    env: dict[str, str]
    url: str
    server: Server
    workspaces: list[Workspace]
    result: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def main(self) -> Workspace:
        return self.workspaces[0]

    def batches(self, workspace: Workspace) -> range:
        return range((workspace.records + self.args.batch_size - 1) // self.args.batch_size)

    def batch_size_of(self, workspace: Workspace, batch: int) -> int:
        size: int = min(self.args.batch_size, workspace.records - batch * self.args.batch_size)
        return size


# -- setup ---------------------------------------------------------------------------------


def create_object(base_url: str, workspace: Workspace) -> None:
    with httpx.Client(base_url=base_url + API, headers=workspace.headers, timeout=30.0) as client:
        made = client.post("/v1/objects", json={"name": "Deal", "slug": OBJECT_SLUG, "type": "custom"})
        if made.status_code != 200:
            raise BenchmarkError(f"creating the object failed: {made.status_code} {made.text[:500]}")
        workspace.object_id = int(made.json()["id"])
        for spec in attribute_specs():
            reply = client.post(f"/v1/objects/{OBJECT_SLUG}/attributes", json=spec.request())
            if reply.status_code != 200:
                raise BenchmarkError(f"creating attribute {spec.slug} failed: {reply.status_code} {reply.text[:500]}")


# -- 1. bulk load --------------------------------------------------------------------------


async def bulk_load(run: Run) -> dict[str, Any]:
    args = run.args
    log("generating batch bodies (not timed)")
    started = time.monotonic()
    work: deque[tuple[Workspace, int, int, bytes]] = deque()
    body_bytes = 0
    for workspace in run.workspaces:
        for batch in run.batches(workspace):
            size = run.batch_size_of(workspace, batch)
            records = generate_batch(args.seed, workspace.stream, batch, size)
            body = orjson.dumps({"records": [{"attributes": r} for r in records]})
            body_bytes += len(body)
            work.append((workspace, batch, size, body))
    log(f"generated {len(work)} batches ({body_bytes / 2**20:,.0f} MiB of JSON) in {time.monotonic() - started:.1f} s")

    total = sum(w.records for w in run.workspaces)
    per_workspace: dict[str, dict[str, float]] = {w.label: {"records": 0, "first": 0.0, "last": 0.0}
                                                  for w in run.workspaces}
    timeline: list[tuple[float, int]] = []
    failures: list[str] = []
    progress = tqdm(total=total, unit="rec", unit_scale=True, desc="batch load", mininterval=2.0,
                    file=sys.stderr, smoothing=0.05)
    limits = httpx.Limits(max_connections=args.clients, max_keepalive_connections=args.clients)
    cpu_before, pg_before = run.server.cpu_seconds(), postgres_cpu_seconds()
    waited_before = run_queue_seconds(run.server.pid)
    t0 = time.monotonic()

    async def client_loop(client: httpx.AsyncClient) -> None:
        while work and not failures:
            workspace, batch, size, body = work.popleft()
            sent = time.monotonic()
            reply = await client.post(f"/v1/objects/{OBJECT_SLUG}/records/batch", content=body,
                                      headers=workspace.headers)
            done = time.monotonic()
            if reply.status_code != 200 or reply.json().get("created") != size:
                failures.append(f"{workspace.label} batch {batch}: HTTP {reply.status_code} {reply.text[:300]}")
                return
            stats = per_workspace[workspace.label]
            stats["first"] = stats["first"] or sent - t0
            stats["last"] = done - t0
            stats["records"] += size
            timeline.append((done - t0, size))
            progress.update(size)

    waits: Counter[str] = Counter()
    sampler = asyncio.create_task(sample_waits(run.url, waits))
    async with httpx.AsyncClient(base_url=run.server.base_url + API, timeout=300.0, limits=limits) as client:
        await asyncio.gather(*(client_loop(client) for _ in range(args.clients)))
    elapsed = time.monotonic() - t0
    sampler.cancel()
    progress.close()
    if failures:
        raise BenchmarkError("batch load failed: " + "; ".join(failures[:3]))
    server_cpu = run.server.cpu_seconds() - cpu_before
    pg_cpu = postgres_cpu_seconds() - pg_before
    rps = total / elapsed
    log(f"batch load: {total:,} records in {elapsed:.1f} s = {rps:,.0f} records/s; server CPU "
        f"{server_cpu / elapsed:.0%}, PostgreSQL CPU {pg_cpu / elapsed:.0%} of one core")

    # Throughput in tenths of the load: does it fall as the tables and indexes grow?
    segments = []
    timeline.sort()
    if timeline:
        tenth = max(1, len(timeline) // 10)
        previous = 0.0
        for start in range(0, len(timeline), tenth):
            chunk = timeline[start:start + tenth]
            span = chunk[-1][0] - previous
            segments.append(round(sum(size for _, size in chunk) / span, 1) if span > 0 else None)
            previous = chunk[-1][0]
    return {
        "records": total,
        "batches": sum(len(run.batches(w)) for w in run.workspaces),
        "batch_size": args.batch_size,
        "clients": args.clients,
        "seconds": round(elapsed, 2),
        "records_per_s": round(rps, 1),
        "records_per_s_by_tenth": segments,
        "per_workspace": {label: {"records": int(s["records"]),
                                  "records_per_s": round(s["records"] / (s["last"] - s["first"]), 1)
                                  if s["last"] > s["first"] else None}
                          for label, s in per_workspace.items()},
        "server_cpu": {"seconds": round(server_cpu, 1), "utilization": round(server_cpu / elapsed, 3),
                       "us_per_record": round(server_cpu / total * 1e6, 1),
                       "run_queue_wait_s": round(run_queue_seconds(run.server.pid) - waited_before, 1)},
        "postgres_cpu": {"seconds": round(pg_cpu, 1), "utilization": round(pg_cpu / elapsed, 3),
                         "us_per_record": round(pg_cpu / total * 1e6, 1)},
        "body_mib": round(body_bytes / 2**20, 1),
        "backend_states": wait_shares(waits),
        "load_average_after": load_average(),
    }


async def sample_waits(url: str, waits: Counter[str], interval: float = 0.2) -> None:
    """Count, every ``interval`` seconds, what each busy backend of the benchmark database is
    doing: ``cpu`` (running, no wait event), ``Lock:transactionid``, ``IO:DataFileRead``...
    and ``idle in transaction`` (waiting for the API process)."""
    conn = await asyncpg.connect(asyncpg_url(url))
    try:
        while True:
            rows = await conn.fetch(
                "SELECT state, wait_event_type, wait_event FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND backend_type = 'client backend' AND state <> 'idle'")
            for row in rows:
                if row["state"] != "active":
                    waits[row["state"]] += 1
                elif row["wait_event_type"] is None:
                    waits["cpu"] += 1
                else:
                    waits[f"{row['wait_event_type']}:{row['wait_event']}"] += 1
            waits["_samples"] += 1
            await asyncio.sleep(interval)
    except asyncio.CancelledError:
        pass
    finally:
        await conn.close()


def wait_shares(waits: Counter[str]) -> dict[str, float]:
    """Average number of backends in each state over the samples (a backend busy all the time
    counts 1.0)."""
    samples = waits.pop("_samples", 0)
    return {state: round(count / samples, 2) for state, count in waits.most_common()} if samples else {}


# -- 1b. the COPY floor --------------------------------------------------------------------

FLOOR_SCHEMA = "copy_floor"
FLOOR_TABLES = ("records", "record_values", "unique_values")


async def create_floor_tables(conn: asyncpg.Connection) -> None:
    """``copy_floor.records|record_values|unique_values``: the product's tables with the same
    columns, defaults, indexes (``LIKE ... INCLUDING ALL``) and foreign keys (copied from the
    catalog, pointing at the scratch copies where they pointed at these tables)."""
    await conn.execute(f"DROP SCHEMA IF EXISTS {FLOOR_SCHEMA} CASCADE")
    await conn.execute(f"CREATE SCHEMA {FLOOR_SCHEMA}")
    for table in FLOOR_TABLES:
        await conn.execute(f"CREATE TABLE {FLOOR_SCHEMA}.{table} (LIKE public.{table} INCLUDING ALL)")
    for table in FLOOR_TABLES:
        rows = await conn.fetch(
            "SELECT conname, pg_get_constraintdef(oid) AS def FROM pg_constraint "
            "WHERE conrelid = $1::regclass AND contype = 'f'", f"public.{table}")
        for row in rows:
            definition = row["def"]
            for target in FLOOR_TABLES:
                definition = definition.replace(f"REFERENCES {target}(", f"REFERENCES {FLOOR_SCHEMA}.{target}(")
            await conn.execute(f"ALTER TABLE {FLOOR_SCHEMA}.{table} ADD CONSTRAINT {row['conname']} {definition}")


async def copy_floor(run: Run) -> dict[str, Any]:
    """COPY the rows the batch load wrote (regenerated from the same seeds) into scratch tables."""
    from sqlalchemy.ext.asyncio import create_async_engine

    from tessera.db.tenant import Tenant
    from tessera.registry.repository import load_schema

    args = run.args
    url = asyncpg_url(run.url)
    engine = create_async_engine(url.replace("postgresql://", "postgresql+asyncpg://", 1))
    objects = {}
    async with engine.connect() as sa_conn:
        for workspace in run.workspaces:
            schema = await load_schema(Tenant(sa_conn, workspace.workspace_id))
            obj = schema.object(OBJECT_SLUG)
            assert obj is not None
            objects[workspace.label] = obj
    await engine.dispose()

    admin = await asyncpg.connect(url)
    await create_floor_tables(admin)
    connections = [await asyncpg.connect(url, server_settings={"timezone": "UTC"})
                   for _ in range(args.copy_connections)]
    now = datetime.now(UTC)
    counter = 0

    def build(workspace: Workspace, batch: int) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]],
                                                         list[tuple[Any, ...]]]:
        raw = generate_batch(args.seed, workspace.stream, batch, run.batch_size_of(workspace, batch))
        millis = int(time.time() * 1000)

        def next_id() -> int:
            nonlocal counter
            counter += 1
            return tessera_id(millis, counter)

        return record_copy_rows(objects[workspace.label], workspace.workspace_id, raw, next_id, "copy-floor", now)

    async def copy(conn: asyncpg.Connection, rows: tuple[list[Any], list[Any], list[Any]]) -> None:
        records, values, claims = rows
        async with conn.transaction():
            await conn.copy_records_to_table(
                "records", schema_name=FLOOR_SCHEMA, records=records,
                columns=["workspace_id", "id", "object_id", "parent_record_id", "data", "created_by",
                         "created_by_id", "created_at", "updated_at"])
            await conn.copy_records_to_table(
                "record_values", schema_name=FLOOR_SCHEMA, records=values,
                columns=["workspace_id", "record_id", "attribute_id", "ord", "facet", "v_text", "v_num", "v_ts",
                         "v_bool", "v_json"])
            if claims:
                await conn.copy_records_to_table("unique_values", schema_name=FLOOR_SCHEMA, records=claims,
                                                 columns=["workspace_id", "attribute_id", "value_key", "record_id"])

    jobs = [(w, b) for w in run.workspaces for b in run.batches(w)]
    total = sum(w.records for w in run.workspaces)
    value_rows = 0
    build_s = copy_s = 0.0
    progress = tqdm(total=total, unit="rec", unit_scale=True, desc="COPY floor", mininterval=2.0, file=sys.stderr)
    for start in range(0, len(jobs), len(connections)):
        round_jobs = jobs[start:start + len(connections)]
        t = time.perf_counter()
        built = [build(w, b) for w, b in round_jobs]
        build_s += time.perf_counter() - t
        t = time.perf_counter()
        await asyncio.gather(*(copy(conn, rows) for conn, rows in zip(connections, built, strict=False)))
        copy_s += time.perf_counter() - t
        value_rows += sum(len(rows[1]) for rows in built)
        progress.update(sum(len(rows[0]) for rows in built))
    progress.close()
    copied = await admin.fetchval(f"SELECT count(*) FROM {FLOOR_SCHEMA}.records")
    sizes = await admin.fetch(
        "SELECT c.relname, pg_total_relation_size(c.oid) AS bytes FROM pg_class c JOIN pg_namespace n "
        "ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind = 'r'", FLOOR_SCHEMA)
    if not args.keep_copy:
        await admin.execute(f"DROP SCHEMA {FLOOR_SCHEMA} CASCADE")
    for conn in connections:
        await conn.close()
    await admin.close()
    if copied != total:
        raise BenchmarkError(f"COPY floor wrote {copied} records, expected {total}")
    rps = total / copy_s
    log(f"COPY floor: {total:,} records ({value_rows:,} value rows) in {copy_s:.1f} s of COPY = {rps:,.0f} "
        f"records/s; building the rows in Python took {build_s:.1f} s ({build_s / total * 1e6:.0f} us/record)")
    return {
        "records": total,
        "value_rows": value_rows,
        "connections": len(connections),
        "copy_seconds": round(copy_s, 2),
        "records_per_s": round(rps, 1),
        "build_seconds": round(build_s, 2),
        "build_us_per_record": round(build_s / total * 1e6, 1),
        "table_mib": {r["relname"]: round(r["bytes"] / 2**20, 1) for r in sizes},
        "kept": bool(args.keep_copy),
    }


# -- 2. VACUUM ANALYZE ---------------------------------------------------------------------


async def vacuum_analyze(run: Run) -> dict[str, Any]:
    conn = await asyncpg.connect(asyncpg_url(run.url))
    try:
        started = time.monotonic()
        await conn.execute("VACUUM ANALYZE")
        elapsed = time.monotonic() - started
        counts = await conn.fetch("SELECT workspace_id, count(*) AS n FROM records GROUP BY 1")
        sizes = await conn.fetch(
            "SELECT c.relname, pg_relation_size(c.oid) AS heap, pg_indexes_size(c.oid) AS indexes, "
            "pg_total_relation_size(c.oid) AS total FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relname = ANY($1::text[])",
            ["records", "record_values", "unique_values", "timeline_events", "outbox"])
        value_rows = await conn.fetchval("SELECT count(*) FROM record_values")
    finally:
        await conn.close()
    by_workspace = {r["workspace_id"]: r["n"] for r in counts}
    for workspace in run.workspaces:
        if by_workspace.get(workspace.workspace_id) != workspace.records:
            raise BenchmarkError(f"{workspace.label} holds {by_workspace.get(workspace.workspace_id)} records, "
                                 f"expected {workspace.records}")
    log(f"VACUUM ANALYZE: {elapsed:.1f} s")
    return {"seconds": round(elapsed, 1), "value_rows": value_rows,
            "sizes_mib": {r["relname"]: {"heap": round(r["heap"] / 2**20, 1), "indexes": round(r["indexes"] / 2**20, 1),
                                         "total": round(r["total"] / 2**20, 1)} for r in sizes}}


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


class CapturingTenant:
    """What ``RecordQuery`` needs of a ``Tenant``, on a plain asyncpg connection, keeping every
    statement it runs (``$1`` is the workspace id, as in ``Tenant.fetch``)."""

    def __init__(self, conn: asyncpg.Connection, workspace_id: int) -> None:
        self.conn = conn
        self.workspace_id = workspace_id
        self.statements: list[tuple[str, tuple[Any, ...], float]] = []

    async def fetch(self, statement: str, *args: Any) -> list[Any]:
        started = time.perf_counter()
        rows: list[Any] = await self.conn.fetch(statement, self.workspace_id, *args)
        self.statements.append((statement, args, (time.perf_counter() - started) * 1000))
        return rows

    async def fetchrow(self, statement: str, *args: Any) -> Any:
        rows = await self.fetch(statement, *args)
        return rows[0] if rows else None

    async def fetch_one(self, statement: str, *args: Any) -> Any:
        (row,) = await self.fetch(statement, *args)
        return row


async def explain_slowest(run: Run, queries: dict[str, Any]) -> dict[str, Any]:
    """For the slowest value of each shape: the SQL the product runs (captured from
    ``RecordQuery``), each statement's time when run directly, and EXPLAIN (ANALYZE, BUFFERS)."""
    from bench_storage import fence_exists
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
                # The same statement with its EXISTS probes fenced (see bench_storage.fence_exists):
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
