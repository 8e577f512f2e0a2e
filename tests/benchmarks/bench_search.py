"""Search at scale (issue 6): indexing throughput, search latency over HTTP against Meilisearch
itself, and write-to-searchable freshness, on 1,000,000 companies (``--quick``: 20,000).

One run, one fresh database (``tessera_bench_search``) and one Meilisearch index of its own
(``MEILI_INDEX_PREFIX=benchsearch``, deleted at the end); the Tessera server is pinned to
CPU 0 and this process (the client) to CPU 1; the worker, PostgreSQL and Meilisearch are not
pinned.

1. **Data.** Companies (name, domain, industry, description, employee count) that read like
   real ones: about 25,000 invented brand words, each shared by ~40 companies
   (``Veltrano Payments GmbH``, ``Veltrano Labs``), unique domains. Loaded with ``COPY``: the
   ``records``, ``record_values`` and ``unique_values`` rows the product itself builds for each
   item (its validation and normalisers), but not a timeline event nor an outbox row per record.
2. **Indexing.** ``tessera search reindex --workspace W --restart`` (the CLI) over every
   record: documents/s, and the share of that time Meilisearch spent in its indexing tasks.
   Then the **relay** (the worker's path for everyday writes): 50,000 ``record.updated`` rows put
   in the outbox at once, drained by one ``tessera worker``; documents/s from the relay's own
   ``processed_at`` stamps.
3. **Search latency.** ``POST /v1/search`` with a realistic mix of queries (full names, brand
   words, brand words with a typo, domains, prefixes, descriptive words, people's names),
   one at a time on a keep-alive connection; and, interleaved query by query in the same run,
   the exact ``/multi-search`` body Tessera sends, straight to Meilisearch (an ``httpx`` client
   with ``Accept-Encoding: identity``, as Tessera's). Target Tessera **p95 <= 30 ms**; the ratio
   Tessera/Meilisearch is reported. **Guard**: the same Meilisearch requests from an ``httpx``
   client with its default ``Accept-Encoding`` (gzip) against one with ``identity``.
4. **Freshness.** With the worker running: 20 creates/s for 60 s through
   ``POST /v1/objects/company``; a poller searches every 50 ms (``POST /v1/search`` for the run's
   token, filtered to the domains still pending) and notes when each record first appears.
   Freshness = first seen - create answered. Target **p99 <= 2 s**.

Run: ``python tests/benchmarks/bench_search.py --quick`` while developing; full size is the
default; it first waits up to 5 minutes for the 1-minute load average to fall below 1.5
(``--force`` does not wait) and records the load average in the result.
Writes ``results/search.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import asyncpg
import httpx
import orjson
from company_data import FIRST_NAMES, LAST_NAMES, Company, companies
from harness import (
    LOAD_CPU,
    REPO,
    BenchmarkError,
    bench_database,
    create_workspace,
    free_port,
    load_average,
    serve,
    stack_env,
    venv_bin,
)
from profiling import profile_requests, py_spy, summarize_profile
from search_freshness import FRESHNESS_GIVE_UP_S, freshness, freshness_diagnosis, relay_nudge_blocked
from search_meili import index_stats, last_task_uid, meili_tasks, meili_tasks_seconds
from workload_data import (
    api_client,
    asyncpg_url,
    copy_records,
    delete_meili_index,
    load_object,
    log,
    meili_headers,
    own_redis_db,
    percentiles,
    pin_self,
    run_sized,
    run_worker,
    sized_parser,
    timed,
    vacuum_analyze,
)

NAME = "search"
DATABASE = "tessera_bench_search"
REDIS_DB = 13
"""Redis database of this benchmark's job queue (see ``workload_data.own_redis_db``)."""
INDEX_PREFIX = "benchsearch"
SEARCH_P95_TARGET_MS = 30.0
FRESHNESS_P99_TARGET_S = 2.0
PRESETS = {"full": {"records": 1_000_000, "relay_backlog": 50_000, "queries": 600, "guard_samples": 200,
                    "rate": 20.0, "write_seconds": 60.0},
           "quick": {"records": 20_000, "relay_backlog": 5_000, "queries": 150, "guard_samples": 60,
                     "rate": 10.0, "write_seconds": 15.0}}


def company_item(company: Company) -> dict[str, Any]:
    return {"name": company.name, "domains": [company.domain], "industry": company.industry,
            "description": company.description, "employee_count": company.employee_count}


def typo(word: str, rng: random.Random) -> str:
    """One edit (substitution or transposition) past the first letter; Meilisearch tolerates one
    typo in words of 5+ letters."""
    if len(word) < 5:
        return word
    i = rng.randrange(1, len(word) - 1)
    if rng.random() < 0.5:
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    letter = rng.choice("aeioulnrst".replace(word[i].lower(), ""))
    return word[:i] + letter + word[i + 1:]


def make_queries(sampled: list[Company], count: int, rng: random.Random) -> list[tuple[str, str]]:
    """(kind, query) pairs in a realistic mix."""
    kinds = [("name", 25), ("brand", 20), ("brand_typo", 20), ("domain", 10), ("prefix", 10),
             ("descriptive", 10), ("person", 5)]
    out = []
    for _ in range(count):
        (kind,) = rng.choices([k for k, _ in kinds], [w for _, w in kinds])
        company = rng.choice(sampled)
        if kind == "name":
            query = company.name
        elif kind == "brand":
            query = company.brand.lower()
        elif kind == "brand_typo":
            query = typo(company.brand.lower(), rng)
        elif kind == "domain":
            query = company.domain
        elif kind == "prefix":
            query = company.brand.lower()[:rng.choice((3, 4, 5))]
        elif kind == "descriptive":
            words = re.findall(r"[a-z]+", company.description.lower())
            start = rng.randrange(0, max(1, len(words) - 2))
            query = " ".join(words[start:start + 2])
        else:
            query = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
        out.append((kind, query))
    return out


# -- phases ------------------------------------------------------------------------------------


def load_data(url: str, workspace_id: int, total: int, seed: int) -> tuple[dict[str, Any], list[Company]]:
    rng = random.Random(seed)
    sampled: list[Company] = []
    every = max(1, total // 3000)

    def items() -> Any:
        for n, company in enumerate(companies(total, seed)):
            if n % every == 0:
                sampled.append(company)
            yield company_item(company)

    last = [time.monotonic()]

    def progress(done: int) -> None:
        if time.monotonic() - last[0] > 10 or done == total:
            last[0] = time.monotonic()
            log(f"COPY companies: {done:,}/{total:,}")

    stats = asyncio.run(copy_records(url, workspace_id, "company", iter(items()), total, progress=progress))
    stats["vacuum_analyze_s"] = vacuum_analyze(url, ["records", "record_values", "unique_values"])
    rng.shuffle(sampled)
    return stats, sampled


def reindex(env: dict[str, str], workspace_id: int, total: int, uid: str) -> dict[str, Any]:
    since = last_task_uid(env)
    log(f"tessera search reindex --workspace {workspace_id} ({total:,} records)")
    started = time.monotonic()
    done = subprocess.run([venv_bin("tessera"), "search", "reindex", "--workspace", str(workspace_id), "--restart"],
                          env=env, cwd=REPO, check=False, stdout=subprocess.PIPE, stderr=None)
    seconds = time.monotonic() - started
    if done.returncode != 0:
        raise BenchmarkError(f"tessera search reindex failed (exit {done.returncode})")
    stats = index_stats(env, uid)
    meili = meili_tasks_seconds(env, uid, since)
    result = {"records": total, "seconds": round(seconds, 1), "documents_per_s": round(total / seconds, 1),
              "meili_task_seconds": meili["seconds"], "meili_tasks": meili["tasks"],
              "meili_share": round(meili["seconds"] / seconds, 3) if seconds else None,
              "index_documents": stats.get("numberOfDocuments"),
              "index_size_mib": round(stats.get("rawDocumentDbSize", 0) / 2**20, 1) if stats else None}
    log(f"reindex: {total:,} documents in {seconds:.1f} s = {result['documents_per_s']:,.0f} docs/s; "
        f"Meilisearch tasks took {meili['seconds']:.1f} s of it ({meili['tasks']} tasks)")
    if stats.get("numberOfDocuments") != total:
        raise BenchmarkError(f"the index holds {stats.get('numberOfDocuments')} documents, expected {total}")
    return result


async def reindex_breakdown(url: str, env: dict[str, str], workspace_id: int) -> dict[str, Any]:
    """Where one reindex chunk's time goes, with the product's own functions: reading the ids,
    ``documents_for`` (reading the records and building the documents; every SQL statement it
    runs is counted), building the documents alone (pure CPU), and ``apply`` (Meilisearch add +
    wait for the task)."""
    from sqlalchemy import event, text

    from search.documents import build_document
    from tessera.db.engine import create_engine
    from tessera.settings import Settings
    from workers import search_indexer, search_maintenance
    from workers.lifecycle import search_engine
    from workers.search_indexer import Schemas

    # Names as of this writing, with the earlier ones as a fallback.
    documents_for = search_indexer.documents_for
    apply = search_indexer.apply
    chunk = search_maintenance.CHUNK

    settings = Settings(database_url=url, meili_url=env.get("MEILI_URL", "http://127.0.0.1:7700"),
                        meili_master_key=env.get("MEILI_MASTER_KEY", ""), meili_index_prefix=INDEX_PREFIX)
    db = create_engine(settings, pool_size=2)
    engine = search_engine(settings)
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(str(args[2])[:80])

    event.listen(db.sync_engine, "before_cursor_execute", count)
    try:
        async with db.connect() as conn:
            t0 = time.perf_counter()
            ids = [r.id for r in (await conn.execute(text(
                "SELECT id FROM records WHERE workspace_id = :ws ORDER BY id LIMIT :n"),
                {"ws": workspace_id, "n": chunk})).all()]
            t1 = time.perf_counter()
            statements.clear()
            schemas = Schemas()
            documents, gone = await documents_for(conn, schemas, [(workspace_id, i) for i in ids])
            t2 = time.perf_counter()
            in_documents = list(statements)
            rows = (await conn.execute(text("SELECT id, data FROM records WHERE workspace_id = :ws AND "
                                            "id = ANY(CAST(:ids AS bigint[]))"),
                                       {"ws": workspace_id, "ids": ids})).all()
            obj = next(iter(schemas.entries.values())).object("company")
            t3 = time.perf_counter()
            for row in rows:
                build_document(obj, row.id, workspace_id, orjson.loads(row.data) if isinstance(row.data, str)
                               else row.data)
            t4 = time.perf_counter()
        t5 = time.perf_counter()
        await apply(engine, documents, gone)
        t6 = time.perf_counter()
    finally:
        await engine.client.close()
        await db.dispose()
    kinds: dict[str, int] = {}
    for statement in in_documents:
        kinds[statement] = kinds.get(statement, 0) + 1
    n = len(ids)
    return {"chunk": n, "select_ids_ms": round((t1 - t0) * 1000, 1),
            "documents_ms": round((t2 - t1) * 1000, 1), "documents_sql_statements": len(in_documents),
            "documents_statement_kinds": dict(sorted(kinds.items(), key=lambda kv: -kv[1])[:5]),
            "build_only_ms": round((t4 - t3) * 1000, 1), "apply_meili_ms": round((t6 - t5) * 1000, 1),
            "us_per_record": {"documents": round((t2 - t1) * 1e6 / n, 1), "build_only": round((t4 - t3) * 1e6 / n, 1),
                              "meili": round((t6 - t5) * 1e6 / n, 1)}}


async def _relay_backlog(url: str, workspace_id: int, count: int) -> None:
    conn = await asyncpg.connect(asyncpg_url(url))
    try:
        await conn.execute(
            "INSERT INTO outbox (workspace_id, topic, event_type, aggregate_type, aggregate_id, payload) "
            "SELECT workspace_id, 'search', 'record.updated', 'record', id, '{}'::jsonb FROM "
            "(SELECT workspace_id, id FROM records WHERE workspace_id = $1 ORDER BY random() LIMIT $2) r",
            workspace_id, count)
    finally:
        await conn.close()


async def _pending(url: str) -> int:
    conn = await asyncpg.connect(asyncpg_url(url))
    try:
        return int(await conn.fetchval("SELECT count(*) FROM outbox WHERE topic = 'search' AND processed_at IS NULL"))
    finally:
        await conn.close()


async def _relay_stamps(url: str) -> Any:
    conn = await asyncpg.connect(asyncpg_url(url))
    try:
        return await conn.fetch("SELECT processed_at, count(*) AS n FROM outbox WHERE topic = 'search' "
                                "GROUP BY processed_at ORDER BY processed_at")
    finally:
        await conn.close()


def relay_throughput(url: str, worker: Any, count: int, started: float) -> dict[str, Any]:
    """Time the relay draining ``count`` search outbox rows queued before ``worker`` started (at
    ``started``)."""
    deadline = started + max(600, count / 50)
    while True:
        pending = asyncio.run(_pending(url))
        if pending == 0:
            break
        if time.monotonic() > deadline or not worker.alive():
            raise BenchmarkError(f"relay stalled with {pending:,} rows pending:\n" + "\n".join(worker.output_tail))
        time.sleep(0.5)
    wall = time.monotonic() - started
    stamps = asyncio.run(_relay_stamps(url))
    batches = [(r["processed_at"], r["n"]) for r in stamps]
    span = (batches[-1][0] - batches[0][0]).total_seconds() if len(batches) > 1 else 0.0
    rows_in_span = sum(n for _, n in batches[:-1])
    result = {"rows": count, "batches": len(batches), "wall_seconds_incl_worker_start": round(wall, 1),
              "documents_per_s": round(rows_in_span / span, 1) if span else None,
              "batch_rows": max(n for _, n in batches)}
    log(f"relay: {count:,} documents, {result['documents_per_s']} docs/s between the first and last batch "
        f"({len(batches)} batches; {wall:.1f} s including worker start)")
    return result


def search_latency(client: httpx.Client, meili: httpx.Client, bodies: list[dict[str, Any]],
                   queries: list[tuple[str, str]]) -> dict[str, Any]:
    """Tessera and Meilisearch, alternating query by query (and which goes first)."""
    tessera_ms: dict[str, list[float]] = {}
    meili_ms: dict[str, list[float]] = {}
    hits = {"tessera_empty": 0}
    for _, query in queries[:10]:  # warm-up
        timed(client, "POST", "/v1/search", json={"query": query})
        meili.post("/multi-search", content=orjson.dumps(bodies[0]))
    for number, ((kind, query), body) in enumerate(zip(queries, bodies, strict=True)):
        def one_tessera(kind: str = kind, query: str = query) -> None:
            elapsed, reply = timed(client, "POST", "/v1/search", json={"query": query})
            answer = reply.json()
            if answer.get("degraded"):
                raise BenchmarkError("search answered degraded: Meilisearch unreachable from the API")
            if not any(answer["results"].values()):
                hits["tessera_empty"] += 1
            tessera_ms.setdefault(kind, []).append(elapsed)

        def one_meili(kind: str = kind, body: dict[str, Any] = body) -> None:
            started = time.perf_counter()
            reply = meili.post("/multi-search", content=orjson.dumps(body))
            elapsed = (time.perf_counter() - started) * 1000
            if reply.status_code != 200:
                raise BenchmarkError(f"Meilisearch answered {reply.status_code}: {reply.text[:300]}")
            meili_ms.setdefault(kind, []).append(elapsed)

        for step in ((one_tessera, one_meili) if number % 2 == 0 else (one_meili, one_tessera)):
            step()
    all_t = [v for values in tessera_ms.values() for v in values]
    all_m = [v for values in meili_ms.values() for v in values]
    return {"tessera": percentiles(all_t), "meili": percentiles(all_m),
            "by_kind": {k: {"tessera": percentiles(tessera_ms[k]), "meili": percentiles(meili_ms[k])}
                        for k in tessera_ms},
            "queries_without_hits": hits["tessera_empty"]}


def gzip_guard(env: dict[str, str], bodies: list[dict[str, Any]], samples: int) -> dict[str, Any]:
    """One ``httpx`` client leaving ``Accept-Encoding`` at its default (gzip...) against one
    sending ``identity``, same Meilisearch requests, interleaved."""
    url = env.get("MEILI_URL", "http://127.0.0.1:7700").rstrip("/")
    default_headers = meili_headers(env, encoding=None)
    out: dict[str, list[float]] = {"default": [], "identity": []}
    encodings: dict[str, str] = {}
    with httpx.Client(base_url=url, headers=default_headers, timeout=30) as gzip_client, \
            httpx.Client(base_url=url, headers=meili_headers(env), timeout=30) as identity_client:
        clients = {"default": gzip_client, "identity": identity_client}
        for label, client in clients.items():
            reply = client.post("/multi-search", content=orjson.dumps(bodies[0]))
            encodings[label] = reply.headers.get("content-encoding", "none")
            encodings[f"{label}_request"] = client.headers.get("accept-encoding", "")
        for number in range(samples):
            body = orjson.dumps(bodies[number % len(bodies)])
            order = ("default", "identity") if number % 2 == 0 else ("identity", "default")
            for label in order:
                started = time.perf_counter()
                reply = clients[label].post("/multi-search", content=body)
                out[label].append((time.perf_counter() - started) * 1000)
                if reply.status_code != 200:
                    raise BenchmarkError(f"Meilisearch answered {reply.status_code}")
    result = {label: percentiles(values) for label, values in out.items()}
    result["encodings"] = encodings
    log(f"gzip guard: default Accept-Encoding ({encodings['default_request']!r}, answered "
        f"{encodings['default']}) p50 {result['default']['p50']:.2f} ms vs identity p50 "
        f"{result['identity']['p50']:.2f} ms")
    return result


def run(args: argparse.Namespace) -> dict[str, Any]:
    preset = dict(PRESETS["quick" if args.quick else "full"])
    if args.records is not None:
        preset["records"] = args.records
    pin_self(LOAD_CPU)
    rng = random.Random(args.seed)
    env = stack_env(MEILI_INDEX_PREFIX=INDEX_PREFIX)
    for name in ("LLM_BASE_URL", "LLM_MODEL", "LLM_API_KEY"):
        env.pop(name, None)
    own_redis_db(env, REDIS_DB)
    uid = f"{INDEX_PREFIX}_records"
    load_before = load_average()
    warnings: list[str] = []
    delete_meili_index(env, uid)
    try:
        with bench_database(env, name=DATABASE) as url:
            env["DATABASE_URL"] = url
            made = create_workspace(env)
            key, workspace_id = made["api_key"], int(made["workspace_id"])
            log(f"loading {preset['records']:,} companies with COPY")
            load, sampled = load_data(url, workspace_id, preset["records"], args.seed)
            log(f"loaded: {load}")
            indexing = reindex(env, workspace_id, preset["records"], uid)
            indexing["breakdown"] = asyncio.run(reindex_breakdown(url, env, workspace_id))
            log(f"reindex breakdown of one chunk: {indexing['breakdown']}")
            asyncio.run(_relay_backlog(url, workspace_id, preset["relay_backlog"]))
            log(f"relay: {preset['relay_backlog']:,} outbox rows queued; starting the worker")
            relay_since = last_task_uid(env)
            with run_worker(env) as worker:
                with tempfile.NamedTemporaryFile(suffix=".collapsed", delete=False) as handle:
                    relay_profile = handle.name
                deadline = time.monotonic() + 120
                while asyncio.run(_pending(url)) >= preset["relay_backlog"] and time.monotonic() < deadline:
                    time.sleep(0.1)  # the worker's start-up (imports) stays out of the profile
                with py_spy(worker.pid, relay_profile):
                    relay = relay_throughput(url, worker, preset["relay_backlog"], worker.started_at)
                relay["worker_profile"] = summarize_profile(relay_profile)
                Path(relay_profile).unlink(missing_ok=True)
                log(f"relay: worker profile {relay['worker_profile'].get('inclusive_pct', [])[:15]}")
                relay["meili"] = meili_tasks(env, uid, relay_since)
                log(f"relay: Meilisearch tasks {relay['meili']}")
                person = asyncio.run(load_object(url, workspace_id, "person"))
                company = asyncio.run(load_object(url, workspace_id, "company"))
                from search.engine import SearchEngine

                engine = SearchEngine(None, uid)  # type: ignore[arg-type]
                queries = make_queries(sampled, preset["queries"], rng)
                bodies = [{"queries": [engine._query(workspace_id, o, q, 10, None) for o in (person, company)]}
                          for _, q in queries]
                load_measure = load_average()
                with serve(env, free_port()) as server, api_client(server.base_url, key) as client, \
                        httpx.Client(base_url=env.get("MEILI_URL", "http://127.0.0.1:7700").rstrip("/"),
                                     headers=meili_headers(env), timeout=30) as meili:
                    log(f"search latency: {len(queries)} queries, Tessera and Meilisearch interleaved")
                    before = server.cpu_seconds()
                    latency = search_latency(client, meili, bodies, queries)
                    latency["server_cpu_ms_per_request"] = round(
                        (server.cpu_seconds() - before) * 1000 / max(1, latency["tessera"]["count"]), 2)
                    t, m = latency["tessera"], latency["meili"]
                    latency["ratio_p50"] = round(t["p50"] / m["p50"], 2)
                    latency["ratio_p95"] = round(t["p95"] / m["p95"], 2)
                    log(f"search: Tessera p50 {t['p50']:.1f} ms p95 {t['p95']:.1f} ms; Meilisearch p50 "
                        f"{m['p50']:.1f} ms p95 {m['p95']:.1f} ms; ratio p50 {latency['ratio_p50']} "
                        f"p95 {latency['ratio_p95']}")
                    latency["profile"] = profile_requests(
                        server.pid, client, [("POST", "/v1/search", {"query": q}) for _, q in queries[:300]])
                    log(f"search profile (server): {latency['profile'].get('inclusive_pct', [])[:15]}")
                    guard = gzip_guard(env, bodies, preset["guard_samples"])
                    token = f"fw{random.Random().randrange(36**6):06x}"
                    log(f"freshness: {preset['rate']:.0f} creates/s for {preset['write_seconds']:.0f} s "
                        f"(token {token})")
                    since = last_task_uid(env)
                    blocked = relay_nudge_blocked(env)
                    fresh = asyncio.run(freshness(server.base_url, key, preset["rate"], preset["write_seconds"],
                                                  token))
                    f = fresh["freshness_ms"]
                    fresh["diagnosis"] = freshness_diagnosis(url, env, uid, since)
                    fresh["diagnosis"]["relay_nudge_blocked_at_start_s"] = blocked
                    log(f"freshness diagnosis: {fresh['diagnosis']}")
                    log(f"freshness: {fresh['seen']}/{fresh['created']} seen; p50 {f.get('p50')} ms, p99 "
                        f"{f.get('p99')} ms, max {f.get('max')} ms; {fresh['never_seen']} never seen within "
                        f"{FRESHNESS_GIVE_UP_S:.0f} s")
                    api_memory = server.memory()
                worker_memory = worker.memory()
                load_after_measure = load_average()
    finally:
        if not args.keep_index:
            delete_meili_index(env, uid)
    if load_measure[0] > 1.5 or load_after_measure[0] > 1.5:
        warnings.append(f"1-minute load average was {load_measure[0]} / {load_after_measure[0]} around the "
                        f"measurements: other work shared the machine")
    if fresh["never_seen"]:
        warnings.append(f"{fresh['never_seen']} created records never became searchable within "
                        f"{FRESHNESS_GIVE_UP_S:.0f} s; the freshness p99 excludes them")
    fresh_p99 = fresh["freshness_ms"].get("p99", float("inf")) if not fresh["never_seen"] else None
    if not args.quick and args.start_load[0] >= 1.5:
        warnings.append(f"full run started with a 1-minute load average of {args.start_load[0]} (>= 1.5)")
    if args.quick:
        warnings.append(f"quick preset ({preset['records']:,} companies), "
                        "not the issue's sizes: a development run")
    headline: dict[str, Any] = {
        "search_p95_ms": {"value": latency["tessera"]["p95"], "unit": "ms", "max": SEARCH_P95_TARGET_MS},
        "search_p50_ms": {"value": latency["tessera"]["p50"], "unit": "ms"},
        "meili_p95_ms": {"value": latency["meili"]["p95"], "unit": "ms"},
        "meili_p50_ms": {"value": latency["meili"]["p50"], "unit": "ms"},
        "tessera_vs_meili_p50": {"value": latency["ratio_p50"], "unit": "x"},
        "freshness_p50_s": {"value": round(fresh["freshness_ms"].get("p50", 0) / 1000, 3), "unit": "s"},
        "freshness_p99_s": {"value": round((fresh_p99 if fresh_p99 is not None else FRESHNESS_GIVE_UP_S * 1000)
                                           / 1000, 3), "unit": "s", "max": FRESHNESS_P99_TARGET_S},
        "reindex_docs_per_s": {"value": indexing["documents_per_s"], "unit": "docs/s"},
        "relay_docs_per_s": {"value": relay["documents_per_s"], "unit": "docs/s"},
        "meili_gzip_p50_ms": {"value": guard["default"]["p50"], "unit": "ms"},
        "meili_identity_p50_ms": {"value": guard["identity"]["p50"], "unit": "ms"},
    }
    return {
        "description": f"search over {preset['records']:,} companies: indexing, latency vs Meilisearch, freshness",
        "preset": "quick" if args.quick else "full",
        "settings": {**preset, "seed": args.seed, "database": DATABASE, "redis_db": REDIS_DB, "index": uid},
        "warnings": warnings,
        "headline": headline,
        "load_average": {"start": args.start_load,
                         "before": load_before, "measuring": load_measure, "after_measuring": load_after_measure,
                         "after": load_average()},
        "load": load,
        "reindex": indexing,
        "relay": relay,
        "latency": latency,
        "gzip_guard": guard,
        "freshness": fresh,
        "api_memory": api_memory,
        "worker_memory": worker_memory,
        "sample_queries": queries[:20],
    }


def main() -> None:
    parser = sized_parser(__doc__)
    parser.add_argument("--records", type=int, default=None, help="companies to load")
    parser.add_argument("--keep-index", action="store_true", help="leave the Meilisearch index in place")
    parser.add_argument("--seed", type=int, default=6)
    args = parser.parse_args()
    run_sized(NAME, run, args)


if __name__ == "__main__":
    main()
