"""The write phases of ``bench_records``: the bulk load through the batch endpoint (with the lock
and I/O waits sampled meanwhile), its floor (the same rows with asyncpg COPY into scratch tables),
and the ``VACUUM ANALYZE`` after it."""

from __future__ import annotations

import asyncio
import sys
import time
from collections import Counter, deque
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
import orjson
from harness import BenchmarkError, load_average
from records_data import OBJECT_SLUG, generate_batch
from records_run import API, Run, Workspace, postgres_cpu_seconds, run_queue_seconds
from tqdm import tqdm
from workload_data import asyncpg_url, log, record_copy_rows, tessera_id

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
