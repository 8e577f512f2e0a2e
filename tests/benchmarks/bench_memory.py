"""Memory recall (issue 14): how fast one worker embeds and indexes remembered passages, and how
fast ``POST /v1/context/ask`` answers with 100,000 of them in one workspace.

One run, one fresh database (``tessera_bench_memory``), a Meilisearch index of its own
(``MEILI_INDEX_PREFIX=benchmemory``, deleted at the end), no LLM. The server is pinned to CPU 0,
this process (the client) to CPU 1; the worker is not pinned.

1. **Passages.** Synthetic notes (a person, a company, a project and a dated fact per sentence,
   drawn from fixed vocabularies with a seeded generator) are written straight into PostgreSQL as
   artifacts (``completed``, so no extraction runs) with their memory items, what
   ``POST /v1/context/text`` commits, until there are 100,000 passages (``--quick``: 5,000). The
   first 10,000 (2,000) get their outbox rows and one ``tessera worker`` indexes them:
   **passages indexed per second** (embedding and Meilisearch confirmation included), from the first
   row taken to the last done; the worker's CPU per passage and RSS. The rest are embedded by a
   pool of two processes and pushed as ``tessera search reindex`` does (not a measured figure:
   one worker would take ~20 minutes for all of them).
2. **Ask.** Questions about facts the notes hold (a third of them paraphrased), one at a time on a
   keep-alive connection: p50/p95/p99 (target p95 <= 50 ms); the share whose answer holds the
   fact is recorded as a sanity check, not a quality figure (the recall eval is that).
3. **Embedding cost** in this process: per passage (batches of 1,000) and per query (single
   calls), and the model's resident memory (RSS before and after loading it, in a fresh
   subprocess); the API's and the worker's RSS as measured.

Run: ``python tests/benchmarks/bench_memory.py --quick`` while developing. Writes
``results/memory.json``.
"""

from __future__ import annotations

import asyncio
import os
import random
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "platform"))

import asyncpg
from harness import (
    LOAD_CPU,
    BenchmarkError,
    bench_database,
    create_workspace,
    free_port,
    load_average,
    serve,
    stack_env,
    venv_bin,
)
from workload_data import (
    api_client,
    asyncpg_url,
    delete_meili_index,
    log,
    own_redis_db,
    percentiles,
    pin_self,
    run_sized,
    run_worker,
    sized_parser,
    timed,
)

from tessera.context.memory import split_passages

NAME = "memory"
DATABASE = "tessera_bench_memory"
REDIS_DB = 8
INDEX_PREFIX = "benchmemory"
PRESETS = {"full": {"passages": 100_000, "queued": 10_000, "questions": 300},
           "quick": {"passages": 5_000, "queued": 2_000, "questions": 60}}
TARGET_P95_MS = 50.0
FIRST = ["Sarah", "Kenji", "Priya", "Lars", "Fatima", "Rafael", "Aisha", "Tomás", "Mei", "Omar", "Ingrid", "Diego",
         "Hannah", "Yusuf", "Elena", "Marcus", "Chloe", "Ravi", "Zofia", "Kwame"]
LAST = ["Okonkwo", "Watanabe", "Natarajan", "Eriksen", "Al-Sayed", "Montoya", "Bello", "Lindqvist", "Chen",
        "Haddad", "Novak", "Silva", "Kowalski", "Mensah", "Fischer", "Rossi", "Dubois", "Tanaka", "Ivanova", "Park"]
COMPANIES = ["Globex", "Initech", "Acme Logistics", "Nordlicht Energie", "Taxora", "Umbrella Health", "Vandelay",
             "Hooli", "Stark Freight", "Wayne Foods", "Cyberdyne", "Soylent", "Tyrell Labs", "Wonka Retail",
             "Aperture Data", "Gringotts Bank", "Oscorp", "Duff Brewing", "Pied Piper", "Massive Dynamic"]
THINGS = [("renewal quote", "price quote for the renewal"), ("security review", "security assessment"),
          ("data migration", "move of the data"), ("pilot rollout", "trial deployment"),
          ("contract signature", "signing of the agreement"), ("invoice dispute", "billing disagreement"),
          ("onboarding workshop", "training session for new users"), ("API integration", "connection to our API"),
          ("budget approval", "sign-off on spending"), ("hardware delivery", "shipment of the devices")]
PROJECTS = ["Atlas", "Borealis", "Cobalt", "Delta", "Ember", "Falcon", "Granite"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]


def fact(rng: random.Random) -> tuple[str, dict[str, str]]:
    person = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    company, (thing, paraphrase) = rng.choice(COMPANIES), rng.choice(THINGS)
    project = f"{rng.choice(PROJECTS)}-{rng.randint(1, 99)}"
    day = f"{rng.randint(1, 28)} {rng.choice(MONTHS)}"
    sentence = f"{person} from {company} said the {thing} for project {project} is planned for {day}."
    return sentence, {"person": person, "company": company, "thing": thing, "paraphrase": paraphrase,
                      "project": project, "day": day}


def notes(count_passages: int, rng: random.Random) -> tuple[list[str], list[dict[str, str]]]:
    """Texts of 5-7 sentences until they make ``count_passages`` passages, and their facts."""
    texts, facts, total = [], [], 0
    while total < count_passages:
        sentences = []
        for _ in range(rng.randint(5, 7)):
            sentence, known = fact(rng)
            sentences.append(sentence)
            facts.append(known)
        text = " ".join(sentences)
        texts.append(text)
        total += len(split_passages(text))
    return texts, facts


async def load(url: str, workspace_id: int, texts: list[str], queued: int) -> int:
    """Write artifacts and their memory items as ``POST /v1/context/text`` would, with outbox rows
    for the first ``queued`` texts (the worker indexes those; the rest are embedded by ``prefill``)."""
    conn = await asyncpg.connect(asyncpg_url(url))
    try:
        base = datetime.now(UTC) - timedelta(days=len(texts) / 1000)
        artifact_ids = [r["id"] for r in await conn.fetch(
            "SELECT next_id() AS id FROM generate_series(1, $1)", len(texts))]
        rows: list[tuple[Any, ...]] = []
        outbox: list[tuple[Any, ...]] = []
        for number, (artifact_id, text) in enumerate(zip(artifact_ids, texts, strict=True)):
            when = base + timedelta(seconds=number * 86.4)
            for p in split_passages(text):
                rows.append((workspace_id, "artifact", artifact_id, p.position, p.start, p.end, "Meeting notes",
                             p.content, [], when))
            if number < queued:
                outbox.append((workspace_id, "memory", "memory.changed", "artifact", artifact_id))
        await conn.executemany(
            "INSERT INTO artifacts (workspace_id, id, content, context, status, created_by_id, created_at, "
            "updated_at, completed_at) VALUES ($1, $2, $3, 'Meeting notes', 'completed', 'bench', now(), now(), now())",
            [(workspace_id, a, t) for a, t in zip(artifact_ids, texts, strict=True)])
        await conn.copy_records_to_table(
            "memory_items", records=rows, columns=["workspace_id", "source_type", "source_id", "position",
                                                   "start_offset", "end_offset", "context", "content", "entity_ids",
                                                   "created_at"])
        await conn.copy_records_to_table(
            "outbox", records=outbox, columns=["workspace_id", "topic", "event_type", "aggregate_type", "aggregate_id"])
        await conn.execute("ANALYZE memory_items")
        return len(rows)
    finally:
        await conn.close()


async def _pending(url: str) -> int:
    conn = await asyncpg.connect(asyncpg_url(url))
    try:
        return int(await conn.fetchval(
            "SELECT count(*) FROM outbox WHERE topic = 'memory' AND processed_at IS NULL"))
    finally:
        await conn.close()


def _embed_chunk(job: tuple[str, list[tuple[int, str]]]) -> list[tuple[int, bytes]]:
    from workers.memory.embedding import shared_embedder, to_blob

    embedder = shared_embedder()
    _, items = job
    vectors = embedder.embed([text for _, text in items])
    return [(item_id, to_blob(v)) for (item_id, _), v in zip(items, vectors, strict=True)]


async def prefill(url: str, env: dict[str, str], workspace_id: int) -> dict[str, float]:
    """Embed the items no worker was asked to index with one process per core, store the vectors,
    then push the documents as ``tessera search reindex`` does (it reuses stored vectors): the
    100,000-passage corpus in a third of the time one worker takes. Not a measured figure."""
    from multiprocessing import get_context

    from tessera.db.engine import create_engine
    from tessera.settings import Settings
    from workers.lifecycle import embedder, memory_index, search_engine
    from workers.memory.maintenance import reindex_memory

    started = time.monotonic()
    conn = await asyncpg.connect(asyncpg_url(url))
    try:
        rows = await conn.fetch("SELECT id, content FROM memory_items WHERE workspace_id = $1 AND vector IS NULL "
                                "ORDER BY id", workspace_id)
        chunks = [("", [(r["id"], r["content"]) for r in rows[i:i + 500]]) for i in range(0, len(rows), 500)]
        model = embedder(Settings()).model_id  # derives the quantized model once, before the pool
        with get_context("spawn").Pool(2) as pool:
            done = 0
            for result in pool.imap_unordered(_embed_chunk, chunks):
                await conn.executemany(
                    "UPDATE memory_items SET vector = $2, vector_model = $3 WHERE workspace_id = $1 AND id = $4",
                    [(workspace_id, blob, model, item_id) for item_id, blob in result])
                done += len(result)
                if done % 10_000 < 500:
                    log(f"prefill: {done:,} of {len(rows):,} passages embedded")
    finally:
        await conn.close()
    settings = Settings()
    db = create_engine(settings, pool_size=2)
    engine = search_engine(settings)
    try:
        await reindex_memory(db, memory_index(settings, engine.client), embedder(settings), [workspace_id])
    finally:
        await engine.client.close()
        await db.dispose()
    return {"passages": len(rows), "seconds": round(time.monotonic() - started, 1)}


def index(url: str, worker: Any, rows_total: int, passages: int) -> dict[str, Any]:
    started = None
    cpu_before = worker.cpu_seconds()
    deadline = time.monotonic() + 3600
    logged = 0.0
    while True:
        pending = asyncio.run(_pending(url))
        now = time.monotonic()
        if started is None and pending < rows_total:
            started = now
        if now - logged > 10:
            logged = now
            log(f"memory outbox: {pending:,} of {rows_total:,} sources pending")
        if pending == 0:
            break
        if now > deadline or not worker.alive():
            raise BenchmarkError("memory indexing stuck:\n" + "\n".join(worker.output_tail))
        time.sleep(0.25)
    seconds = time.monotonic() - (started or worker.started_at)
    cpu = worker.cpu_seconds() - cpu_before
    return {"passages": passages, "seconds": round(seconds, 1), "passages_per_s": round(passages / seconds, 1),
            "worker_cpu_s": round(cpu, 1), "worker_cpu_ms_per_passage": round(cpu * 1000 / passages, 3)}


def questions(facts: list[dict[str, str]], count: int, rng: random.Random) -> list[tuple[str, str]]:
    out = []
    for known in rng.sample(facts, count):
        if rng.random() < 1 / 3:
            out.append((f"When is the {known['paraphrase']} for project {known['project']}?", known["day"]))
        else:
            out.append((f"When is the {known['thing']} for project {known['project']} planned?", known["day"]))
    return out


EMBED_PROBE = """
import json, sys, time
sys.path.insert(0, "platform"); sys.path.insert(0, ".")
def rss():
    return int(open("/proc/self/status").read().split("VmRSS:")[1].split()[0]) / 1024
before = rss()
from workers.memory.embedding import Embedder
e = Embedder(); e.embed(["warm up"])
after = rss()
texts = [sys.argv[1]] * 1000
best_batch = min((lambda t: (e.embed(texts), time.perf_counter() - t)[1])(time.perf_counter()) for _ in range(5))
singles = []
for _ in range(500):
    t = time.perf_counter(); e.embed(["When is the renewal quote for project Atlas-7 planned?"])
    singles.append(time.perf_counter() - t)
singles.sort()
# best_batch: seconds for 1,000 passages = milliseconds per passage
print(json.dumps({"model_rss_mib": round(after - before, 1), "per_passage_ms": round(best_batch, 6),
                  "per_query_ms_p50": round(singles[250] * 1000, 4),
                  "per_query_ms_p95": round(singles[475] * 1000, 4)}))
"""


def embedding_cost(sample_text: str) -> dict[str, float]:
    import json

    out = subprocess.run([venv_bin("python"), "-c", EMBED_PROBE, sample_text], capture_output=True, text=True,
                         check=True, cwd=str(Path(__file__).resolve().parents[2]))
    figures: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return figures


def run(args: Any) -> dict[str, Any]:
    preset = dict(PRESETS["quick" if args.quick else "full"])
    pin_self(LOAD_CPU)
    rng = random.Random(args.seed)
    env = stack_env(MEILI_INDEX_PREFIX=INDEX_PREFIX)
    for name in ("LLM_BASE_URL", "LLM_MODEL", "LLM_API_KEY"):
        env.pop(name, None)
    own_redis_db(env, REDIS_DB)
    texts, facts = notes(preset["passages"], rng)
    warnings: list[str] = []
    uids = [f"{INDEX_PREFIX}_records", f"{INDEX_PREFIX}_memory"]
    for uid in uids:
        delete_meili_index(env, uid)
    load_before = load_average()
    try:
        with bench_database(env, name=DATABASE) as url:
            env["DATABASE_URL"] = url
            made = create_workspace(env)
            queued_notes, count = 0, 0
            while queued_notes < len(texts) and count < preset["queued"]:
                count += len(split_passages(texts[queued_notes]))
                queued_notes += 1
            passages = asyncio.run(load(url, int(made["workspace_id"]), texts, queued_notes))
            log(f"{passages:,} passages of {len(texts):,} notes written; one worker indexes the first {count:,}")
            with run_worker(env) as worker:
                throughput = index(url, worker, queued_notes, count)
                log(f"indexed {count:,} passages in {throughput['seconds']} s = "
                    f"{throughput['passages_per_s']} passages/s")
                worker_memory = worker.memory()
            os.environ.update({k: v for k, v in env.items() if k in ("DATABASE_URL", "REDIS_URL", "MEILI_URL",
                                                                       "MEILI_MASTER_KEY", "MEILI_INDEX_PREFIX")})
            filled = asyncio.run(prefill(url, env, int(made["workspace_id"])))
            log(f"prefilled {filled['passages']:,} more passages in {filled['seconds']} s")
            with serve(env, free_port()) as server, api_client(server.base_url, made["api_key"]) as client:
                asked = questions(facts, preset["questions"], rng)
                for question, _ in asked[:10]:
                    timed(client, "POST", "/v1/context/ask", json={"query": question})
                latencies, holds = [], 0
                cpu_before = server.cpu_seconds()
                load_measure = load_average()
                for question, day in asked:
                    elapsed, reply = timed(client, "POST", "/v1/context/ask", json={"query": question})
                    latencies.append(elapsed)
                    holds += day in reply.json()["answer"]
                ask_cpu_ms = (server.cpu_seconds() - cpu_before) * 1000 / len(asked)
                api_memory = server.memory()
    finally:
        for uid in uids:
            delete_meili_index(env, uid)
    ask = percentiles(latencies)
    cost = embedding_cost(texts[0][:300])
    log(f"ask p50 {ask['p50']:.1f} ms, p95 {ask['p95']:.1f} ms; answers holding the fact {holds}/{len(asked)}; "
        f"embedding {cost}")
    if load_measure[0] > 1.5:
        warnings.append(f"1-minute load average was {load_measure[0]} while asking: other work shared the machine")
    if args.quick:
        warnings.append(f"quick preset ({preset['passages']:,} passages), not the issue's size")
    headline = {
        "passages_indexed_per_s": {"value": throughput["passages_per_s"], "unit": "passages/s"},
        "ask_p50_ms": {"value": ask["p50"], "unit": "ms"},
        "ask_p95_ms": {"value": ask["p95"], "unit": "ms", "max": TARGET_P95_MS},
        "embed_ms_per_passage": {"value": cost["per_passage_ms"], "unit": "ms"},
        "embed_ms_per_query": {"value": cost["per_query_ms_p50"], "unit": "ms"},
        "model_rss_mib": {"value": cost["model_rss_mib"], "unit": "MiB"},
        "api_rss_mib": {"value": api_memory["rss_mib"], "unit": "MiB"},
        "worker_rss_mib": {"value": worker_memory["rss_mib"], "unit": "MiB"},
    }
    return {
        "description": f"{passages:,} remembered passages in one workspace: indexing by one worker, ask latency",
        "preset": "quick" if args.quick else "full",
        "settings": {**preset, "seed": args.seed, "database": DATABASE, "redis_db": REDIS_DB, "notes": len(texts)},
        "warnings": warnings,
        "headline": headline,
        "load_average": {"start": args.start_load, "before": load_before, "measuring": load_measure},
        "indexing": throughput,
        "prefill": filled,
        "ask": {**ask, "server_cpu_ms_per_request": round(ask_cpu_ms, 2), "answers_holding_the_fact": holds,
                "questions": len(asked)},
        "embedding": cost,
        "worker_memory": worker_memory,
        "api_memory": api_memory,
        "sample_questions": [q for q, _ in asked[:5]],
    }


def main() -> None:
    parser = sized_parser(__doc__)
    parser.add_argument("--seed", type=int, default=7)
    run_sized(NAME, run, parser.parse_args())


if __name__ == "__main__":
    main()
