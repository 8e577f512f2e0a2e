"""Tessera against its peers: Directus and NocoDB, same collection, same workload, one run.

    make bench-peers                                   # installs the peers first, 100,000 records
    .venv/bin/python tests/benchmarks/bench_peers.py --records 20000     # quicker
    .venv/bin/python tests/benchmarks/bench_peers.py --only tessera,nocodb

The peers come from ``tests/benchmarks/peers/install.sh`` (into ``$TESSERA_PEERS_DIR``, default
``~/.cache/tessera-peers``; none of their code enters the repository). Each product in turn, alone
on the machine's CPU 0 (the load generators, wrk and this process, on CPU 1):

1. starts on loopback on a free port, on its own fresh PostgreSQL database (``peers_tessera``,
   ``peers_directus``, ``peers_nocodb``), and bootstraps an admin and a token through its API;
2. creates the same 10-field collection: ``name`` text, ``stage`` and ``region`` single selects,
   ``amount`` decimal number, ``owner_email`` email, ``score`` whole number, ``close_date`` date,
   ``is_active`` boolean, ``website`` URL, ``notes`` long text, each in the product's native type
   (Directus has no select or email type: a string with a dropdown interface, a string), with an
   index on ``stage`` and ``close_date`` on the peers (Tessera indexes every attribute itself);
3. loads ``--records`` records through its bulk endpoint, 1,000 per request, ``--load-clients``
   requests in flight: the **batch create** figure (records/s over the whole load);
4. measures with wrk, ``--duration`` seconds each after a warm-up: **get by id** (ids drawn from the
   load) and **filter + sort + count** (``stage`` = one of five values in turn, sorted by
   ``close_date`` descending, 50 per page, with the total count), each with 1 connection
   (latency) and 8 (throughput); then **single creates** with 1 and 8 connections (records/s, p50).

Headline: for each peer and figure, how many times better Tessera is (records/s or requests/s:
Tessera / peer; latency: peer / Tessera), target >= 5 (>= 10 for batch creates). A peer that
fails to install or start is reported and skipped (its ratios are missing), not fatal, unless
``--strict``. Writes ``results/peers.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from harness import LOAD_CPU, BenchmarkError, load_average, pinning_enabled, stack_env, write_result, wrk
from peers_products import Directus, NocoDB, Product, Tessera, expect_success, log
from peers_workload import (
    BATCH_SIZE,
    CLOSE_DAYS,
    CREATE_LUA,
    GET_LUA,
    NOTE_WORDS,
    REGIONS,
    ROTATE_LUA,
    STAGES,
    WORDS,
    generate_records,
    lua_list,
    lua_string,
)

NAME = "peers"
DEFAULT_PEERS_DIR = Path(os.environ.get("TESSERA_PEERS_DIR") or Path.home() / ".cache" / "tessera-peers")
TARGET = 5.0
BATCH_TARGET = 10.0


# -- measurements ------------------------------------------------------------------------------


async def bulk_load(product: Product, args: argparse.Namespace) -> tuple[dict[str, Any], list[str]]:
    """Every record through the bulk endpoint, ``BATCH_SIZE`` per request, ``args.load_clients``
    requests in flight; bodies are built before the clock starts."""
    batches = (args.records + BATCH_SIZE - 1) // BATCH_SIZE
    bodies = []
    for batch in range(batches):
        size = min(BATCH_SIZE, args.records - batch * BATCH_SIZE)
        path, body = product.bulk_request(generate_records(args.seed, batch, size))
        bodies.append((batch, size, path, body))
    queue = list(reversed(bodies))
    ids: list[str] = []
    failures: list[str] = []
    durations: list[float] = []
    server = product.server
    assert server is not None
    cpu_before = server.cpu_seconds()
    started = time.monotonic()
    last_report = started

    async def client_loop(client: httpx.AsyncClient) -> None:
        nonlocal last_report
        while queue and not failures:
            batch, size, path, body = queue.pop()
            sent = time.monotonic()
            reply = await client.post(path, content=body)
            durations.append(time.monotonic() - sent)
            if not 200 <= reply.status_code < 300:
                failures.append(f"batch {batch}: HTTP {reply.status_code} {reply.text[:500]}")
                return
            ids.extend(product.bulk_ids(reply, size))
            now = time.monotonic()
            if now - last_report > 15:
                last_report = now
                log(f"{product.label}: loaded {len(ids):,} / {args.records:,} "
                    f"({len(ids) / (now - started):,.0f} records/s)")

    limits = httpx.Limits(max_connections=args.load_clients, max_keepalive_connections=args.load_clients)
    async with httpx.AsyncClient(base_url=product.base_url, headers=product.headers, timeout=600,
                                 limits=limits) as client:
        await asyncio.gather(*(client_loop(client) for _ in range(args.load_clients)))
    elapsed = time.monotonic() - started
    if failures:
        raise BenchmarkError(f"{product.label} bulk load failed: {failures[0]}")
    cpu = server.cpu_seconds() - cpu_before
    rate = len(ids) / elapsed
    durations.sort()
    log(f"{product.label}: batch creates: {len(ids):,} records in {elapsed:.1f} s = {rate:,.0f} records/s "
        f"(server CPU {cpu / elapsed:.0%})")
    return {"records": len(ids), "batch_size": BATCH_SIZE, "clients": args.load_clients,
            "seconds": round(elapsed, 2), "records_per_s": round(rate, 1),
            "batch_p50_ms": round(durations[len(durations) // 2] * 1000, 1),
            "server_cpu_utilization": round(cpu / elapsed, 3)}, ids


def checked_wrk(product: Product, label: str, lua: str, seconds: float, connections: int) -> dict[str, Any]:
    server = product.server
    assert server is not None
    before = server.cpu_seconds()
    figures = wrk(product.base_url, duration=seconds, connections=connections, threads=1,
                  headers=product.headers, lua=lua, timeout_s=30)
    cpu = server.cpu_seconds() - before
    errors = figures["errors"]
    if errors["non_2xx"] or errors["timeout"] or errors["connect"] or errors["read"]:
        raise BenchmarkError(f"{product.label} {label}: wrk saw {errors} (non-2xx, timeouts or socket errors)")
    figures["server_cpu_utilization"] = round(cpu / (figures["duration_us"] / 1e6), 3)
    log(f"{product.label}: {label}: {figures['requests_per_s']:,.1f} req/s, p50 {figures['latency_ms']['p50']:.2f} ms, "
        f"p99 {figures['latency_ms']['p99']:.2f} ms (c={connections}, server CPU "
        f"{figures['server_cpu_utilization']:.0%})")
    return figures


def measure_gets(product: Product, ids: list[str], args: argparse.Namespace) -> dict[str, Any]:
    sample = random.Random(args.seed).sample(ids, min(len(ids), 2000))
    prefix = product.get_path_prefix()
    reply = httpx.get(product.base_url + prefix + sample[0], headers=product.headers, timeout=30)
    expect_success(reply, f"{product.label} get by id")
    lua = GET_LUA.replace("__IDS__", lua_list(sample)).replace("__PATH__", prefix)
    checked_wrk(product, "get warm-up", lua, args.warmup, 8)
    return {"ids": len(sample), "body_bytes": len(reply.content),
            "c1": checked_wrk(product, "get by id", lua, args.duration, 1),
            "c8": checked_wrk(product, "get by id", lua, args.duration, 8)}


def measure_queries(product: Product, args: argparse.Namespace) -> dict[str, Any]:
    requests = [product.query_request(stage) for stage in STAGES]
    totals = {}
    for stage, (method, path, body) in zip(STAGES, requests, strict=True):
        reply = httpx.request(method, product.base_url + path, headers=product.headers, content=body, timeout=60)
        expect_success(reply, f"{product.label} query")
        data = reply.json()
        rows = product.query_rows(data)
        totals[stage] = product.query_total(data)
        if len(rows) != min(50, totals[stage]) or totals[stage] <= 0:
            raise BenchmarkError(f"{product.label} query {stage}: {len(rows)} rows, total {totals[stage]}")
        seen = [product.row_stage_and_date(row) for row in rows]
        if any(s != stage for s, _ in seen):
            raise BenchmarkError(f"{product.label} query {stage}: rows of other stages: {seen[:3]}")
        dates = [str(d)[:10] for _, d in seen]
        if dates != sorted(dates, reverse=True):
            raise BenchmarkError(f"{product.label} query {stage}: not sorted by close_date desc: {dates[:5]}")
    entries = ",".join("{" + ",".join([lua_string(m), lua_string(p), lua_string(b) if b else "nil"]) + "}"
                       for m, p, b in requests)
    lua = ROTATE_LUA.replace("__REQUESTS__", "{" + entries + "}")
    checked_wrk(product, "query warm-up", lua, args.warmup, 8)
    return {"totals": totals, "request": {"method": requests[0][0], "path": requests[0][1], "body": requests[0][2]},
            "c1": checked_wrk(product, "filter+sort+count", lua, args.duration, 1),
            "c8": checked_wrk(product, "filter+sort+count", lua, args.duration, 8)}


def measure_creates(product: Product, args: argparse.Namespace) -> dict[str, Any]:
    prefix, suffix = product.create_wrap()
    probe = generate_records(args.seed, 10_000_000, 1)[0]
    probe_body = prefix + json.dumps(probe) + suffix
    reply = httpx.post(product.base_url + product.create_path(), headers=product.headers, content=probe_body,
                       timeout=30)
    expect_success(reply, f"{product.label} single create")
    out: dict[str, Any] = {}
    for phase, connections in (("warmup", 8), ("c1", 1), ("c8", 8)):
        lua = (CREATE_LUA.replace("__STAGES__", lua_list(STAGES)).replace("__REGIONS__", lua_list(REGIONS))
               .replace("__WORDS__", lua_list(WORDS)).replace("__NOTE_WORDS__", lua_list(NOTE_WORDS))
               .replace("__TAG__", f"{phase}{int(time.time())}").replace("__SEED__", str(args.seed))
               .replace("__CLOSE_DAYS__", str(CLOSE_DAYS)).replace("__PATH__", product.create_path())
               .replace("__PREFIX__", lua_string(prefix)).replace("__SUFFIX__", lua_string(suffix)))
        seconds = args.warmup if phase == "warmup" else args.duration
        figures = checked_wrk(product, f"single create {phase}", lua, seconds, connections)
        if phase != "warmup":
            out[phase] = figures
    return out


def probe_queries(product: Product, count: int) -> dict[str, Any]:
    """``count`` filter + sort + count requests, one at a time: median and largest time, and the
    answers that were not 2xx (a probe reports a failure, it does not stop the run)."""
    times, failures = [], []
    with httpx.Client(base_url=product.base_url, headers=product.headers, timeout=120) as client:
        for number in range(count):
            method, path, body = product.query_request(STAGES[number % len(STAGES)])
            started = time.monotonic()
            try:
                reply = client.request(method, path, content=body)
                if not 200 <= reply.status_code < 300:
                    failures.append(f"HTTP {reply.status_code} {reply.text[:200]}")
            except httpx.HTTPError as err:
                failures.append(f"{type(err).__name__}: {err}")
            times.append((time.monotonic() - started) * 1000)
    times.sort()
    return {"requests": count, "median_ms": round(times[len(times) // 2], 1), "max_ms": round(times[-1], 1),
            "failures": failures}


async def analyze(database_url: str) -> float:
    """``ANALYZE`` the whole database (what autovacuum does within a minute or so of a bulk
    load on an idle server); returns the seconds it took."""
    conn = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://", 1))
    try:
        started = time.monotonic()
        await conn.execute("ANALYZE")
        return time.monotonic() - started
    finally:
        await conn.close()


def run_product(product: Product, args: argparse.Namespace) -> dict[str, Any]:
    log(f"== {product.label}")
    started = time.monotonic()
    with product.running(args):
        assert product.server is not None
        log(f"{product.label}: up at {product.base_url} (pid {product.server.pid})")
        product.setup()
        load, ids = asyncio.run(bulk_load(product, args))
        # Right after a bulk load PostgreSQL has no statistics for the new rows until autovacuum
        # analyzes the tables (its launcher wakes every minute). Record the queries as they are
        # then, and measure after an ANALYZE, the same for every product.
        statistics: dict[str, Any] = {"before_analyze": probe_queries(product, 1)}
        if product.database_url and not args.no_analyze:
            statistics["analyze_s"] = round(asyncio.run(analyze(product.database_url)), 2)
            statistics["after_analyze"] = probe_queries(product, 5)
        before = statistics["before_analyze"]
        log(f"{product.label}: filter+sort+count right after the load: {before['median_ms']:,.1f} ms"
            + (f" ({before['failures'][0]})" if before["failures"] else "")
            + (f"; after ANALYZE: {statistics['after_analyze']['median_ms']:,.1f} ms" if "after_analyze" in statistics
               else ""))
        if args.settle:
            time.sleep(args.settle)
        gets = measure_gets(product, ids, args)
        queries = measure_queries(product, args)
        creates = measure_creates(product, args)
        memory = product.server.memory()
    return {"info": product.info, "batch_create": load, "query_statistics": statistics, "get_by_id": gets,
            "filter_sort_count": queries,
            "single_create": creates, "memory": memory, "seconds": round(time.monotonic() - started, 1)}


# -- figures -----------------------------------------------------------------------------------


def figures_of(result: dict[str, Any]) -> dict[str, tuple[float, str, bool]]:
    """``{metric: (value, unit, higher_is_better)}`` of one product."""
    creates, gets, queries = result["single_create"], result["get_by_id"], result["filter_sort_count"]
    return {
        "create_c1_rps": (creates["c1"]["requests_per_s"], "records/s", True),
        "create_c1_p50": (creates["c1"]["latency_ms"]["p50"], "ms", False),
        "create_c8_rps": (creates["c8"]["requests_per_s"], "records/s", True),
        "create_c8_p50": (creates["c8"]["latency_ms"]["p50"], "ms", False),
        "batch_rps": (result["batch_create"]["records_per_s"], "records/s", True),
        "get_p50": (gets["c1"]["latency_ms"]["p50"], "ms", False),
        "get_p99": (gets["c1"]["latency_ms"]["p99"], "ms", False),
        "get_c8_rps": (gets["c8"]["requests_per_s"], "req/s", True),
        "query_p50": (queries["c1"]["latency_ms"]["p50"], "ms", False),
        "query_p99": (queries["c1"]["latency_ms"]["p99"], "ms", False),
        "query_c8_rps": (queries["c8"]["requests_per_s"], "req/s", True),
    }


def ratios(products: dict[str, dict[str, Any]]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Headline (ratios with targets) and a table of every product's absolute figures."""
    table = {label: {metric: {"value": value, "unit": unit} for metric, (value, unit, _) in figures_of(r).items()}
             for label, r in products.items()}
    headline: dict[str, Any] = {}
    if "tessera" not in products:
        return headline, table
    ours = figures_of(products["tessera"])
    for peer in ("directus", "nocodb"):
        if peer not in products:
            continue
        theirs = figures_of(products[peer])
        for metric, (value, _, higher) in ours.items():
            other = theirs[metric][0]
            ratio = (value / other if other else 0.0) if higher else (other / value if value else 0.0)
            headline[f"x_vs_{peer}_{metric}"] = {"value": round(ratio, 2), "unit": "x",
                                                 "min": BATCH_TARGET if metric == "batch_rps" else TARGET}
    return headline, table


def print_summary(table: dict[str, Any], headline: dict[str, Any]) -> None:
    labels = list(table)
    metrics = list(next(iter(table.values())))
    rows = [("figure", *labels, *(f"x vs {p}" for p in labels if p != "tessera"))]
    for metric in metrics:
        row = [metric]
        for label in labels:
            entry = table[label][metric]
            row.append(f"{entry['value']:,.2f} {entry['unit']}")
        for peer in labels:
            if peer == "tessera":
                continue
            entry = headline.get(f"x_vs_{peer}_{metric}")
            row.append(f"{entry['value']:.2f}{'' if entry['value'] >= entry['min'] else ' MISS'}" if entry else "-")
        rows.append(tuple(row))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    print()
    for number, row in enumerate(rows):
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
        if number == 0:
            print("  ".join("-" * w for w in widths))


# -- main --------------------------------------------------------------------------------------


def read_peers_env(peers_dir: Path) -> dict[str, str]:
    env_file = peers_dir / "env"
    if not env_file.exists():
        raise BenchmarkError(f"{env_file} missing: run tests/benchmarks/peers/install.sh first "
                             f"(`make bench-peers` does)")
    values = {}
    for line in env_file.read_text().splitlines():
        name, sep, value = line.partition("=")
        if sep:
            values[name.strip()] = value.strip()
    return values


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=100_000, help="records loaded per product (100,000)")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per measured phase (10)")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of warm-up per kind of request (3)")
    parser.add_argument("--load-clients", type=int, default=2, help="bulk requests in flight during the load (2)")
    parser.add_argument("--settle", type=float, default=2.0, help="pause after the load, seconds (2)")
    parser.add_argument("--only", default="tessera,directus,nocodb", help="comma-separated products to run")
    parser.add_argument("--nocodb-db", choices=("pg", "sqlite"), default="pg",
                        help="NocoDB's database: PostgreSQL (default) or its own SQLite file (NocoDB 0.301.3 "
                             "on SQLite refuses 1,000-record bulk inserts: SQLITE_ERROR 'Expression...')")
    parser.add_argument("--peers-dir", type=Path, default=DEFAULT_PEERS_DIR)
    parser.add_argument("--no-analyze", action="store_true",
                        help="measure without the ANALYZE after the load (statistics as autovacuum left them)")
    parser.add_argument("--strict", action="store_true", help="a peer that fails is an error, not a skip")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-write", action="store_true", help=f"do not write results/{NAME}.json")
    args = parser.parse_args()

    if pinning_enabled():
        os.sched_setaffinity(0, {LOAD_CPU})  # the load generator's CPU; the servers get CPU 0
    env = stack_env()
    if "DATABASE_URL" not in env:
        raise BenchmarkError("DATABASE_URL is not set (run through make, which sources .stack/env)")
    wanted = [name.strip() for name in args.only.split(",") if name.strip()]
    peers: dict[str, str] = {}
    if any(name != "tessera" for name in wanted):
        peers = read_peers_env(args.peers_dir)
    factories = {"tessera": lambda: Tessera(env), "directus": lambda: Directus(env, peers),
                 "nocodb": lambda: NocoDB(env, peers, args.nocodb_db)}
    load_before = load_average()
    products: dict[str, dict[str, Any]] = {}
    failed: dict[str, str] = {}
    for name in wanted:
        product = factories[name]()
        try:
            products[name] = run_product(product, args)
        except (BenchmarkError, httpx.HTTPError, OSError, KeyError, ValueError) as err:
            tail = "\n".join(product.server.output_tail) if product.server else ""
            failed[name] = f"{type(err).__name__}: {err}"[:3000] + (f"\nserver output tail:\n{tail}" if tail else "")
            log(f"{name}: FAILED: {failed[name]}")
            if args.strict or name == "tessera":
                raise
    headline, table = ratios(products)
    warnings = [f"{name} failed and was skipped: {reason.splitlines()[0]}" for name, reason in failed.items()]
    for name, result in products.items():
        for phase in ("get_by_id", "filter_sort_count"):
            utilization = result[phase]["c8"]["server_cpu_utilization"]
            if utilization < 0.85:
                warnings.append(f"{name} {phase} c8: server CPU only {utilization:.0%} busy (other processes or "
                                f"the database limited it)")
    misses = [metric for metric, entry in headline.items() if entry["value"] < entry["min"]]
    data = {
        "settings": {"records": args.records, "duration_s": args.duration, "warmup_s": args.warmup,
                     "load_clients": args.load_clients, "batch_size": BATCH_SIZE, "nocodb_db": args.nocodb_db,
                     "seed": args.seed, "pinned": pinning_enabled(),
                     "ratio": "Tessera/peer for rates, peer/Tessera for latencies: higher is better for Tessera"},
        "headline": headline,
        "figures": table,
        "products": products,
        "failed": failed,
        "misses": misses,
        "load_average": {"before": load_before, "after": load_average()},
        "warnings": warnings,
    }
    if not args.no_write:
        write_result(NAME, data)
        log(f"wrote results/{NAME}.json")
    if table:
        print_summary(table, headline)
    for warning in warnings:
        print(f"warning: {warning}")
    if misses:
        print(f"below target: {', '.join(misses)}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchmarkError as err:
        print(f"bench_peers: {err}", file=sys.stderr)
        sys.exit(1)
