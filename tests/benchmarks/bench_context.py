"""Context (issue 7): how many artifacts one worker turns into records and insights per second,
and how fast ``POST /v1/context/ask`` answers once they exist.

One run, one fresh database (``tessera_bench_context``) and a Meilisearch index of its own
(``MEILI_INDEX_PREFIX=benchcontext``, deleted at the end); no LLM (``LLM_*`` unset: the
built-in extractor and reasoner, as a default deployment runs). The Tessera server is pinned
to CPU 0 and this process (the client) to CPU 1; the worker is not pinned.

1. **Artifacts.** With no worker running, ``POST /v1/context/text`` 1,000 times (``--quick``: 73)
   with the texts of ``tests/data/context_eval/cases.jsonl`` (emails, call notes, chats...),
   cycled: after the first pass the same people and companies come back, so later artifacts
   match existing records instead of creating them, as a real inbox does. Then one
   ``tessera worker`` starts (its default 20 concurrent jobs) and the artifacts' states are
   polled every 0.25 s: **artifacts/s** from the first artifact leaving ``pending`` to the last
   one completed (and, for reference, from the worker's start). The worker's CPU seconds per
   artifact and peak RSS are recorded; its search relay runs meanwhile, as in production.
2. **Ask.** Once every artifact is done and the search outbox is drained: questions naming an
   email, a domain, a person, a company, or nothing in particular ("latest buying signals?"),
   one at a time on a keep-alive connection: p50/p95/p99 per kind and overall.

No targets are set for these figures yet; they are reported for the issue.

Run: ``python tests/benchmarks/bench_context.py --quick`` while developing; full size is the
default; it first waits up to 5 minutes for the 1-minute load average to fall below 1.5
(``--force`` does not wait) and records the load average in the result.
Writes ``results/context.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import asyncpg
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
    sample,
    sized_parser,
    timed,
)

NAME = "context"
DATABASE = "tessera_bench_context"
REDIS_DB = 14
"""Redis database of this benchmark's job queue (see ``workload_data.own_redis_db``)."""
INDEX_PREFIX = "benchcontext"
CASES = REPO / "tests" / "data" / "context_eval" / "cases.jsonl"
PRESETS = {"full": {"artifacts": 1000, "questions": 300}, "quick": {"artifacts": 73, "questions": 60}}
POLL_S = 0.25


def load_cases() -> list[dict[str, Any]]:
    return [json.loads(line) for line in CASES.read_text().splitlines() if line.strip()]


def questions(cases: list[dict[str, Any]], count: int, rng: random.Random) -> list[tuple[str, str]]:
    """(kind, question) pairs naming what the cases contain, plus workspace-wide ones."""
    pool: dict[str, list[str]] = {"email": [], "domain": [], "person": [], "company": [], "workspace": [
        "What are the latest buying signals?", "Which accounts mentioned budget recently?",
        "Who is evaluating a competitor?", "What deals are at risk this quarter?"]}
    for case in cases:
        expected = case.get("expected", {})
        for person in expected.get("people", []):
            if person.get("name"):
                pool["person"].append(f"Tell me about {person['name']}")
            for email in person.get("emails", []):
                pool["email"].append(f"What do we know about {email}?")
        for company in expected.get("companies", []):
            if company.get("name"):
                pool["company"].append(f"Any news from {company['name']}?")
            for domain in company.get("domains", []):
                pool["domain"].append(f"What's the status with {domain}?")
    kinds = [k for k in pool if pool[k]]
    return [(kind, rng.choice(pool[kind])) for kind in (kinds * (count // len(kinds) + 1))[:count]]


async def _states(url: str) -> dict[str, int]:
    conn = await asyncpg.connect(asyncpg_url(url))
    try:
        rows = await conn.fetch("SELECT status, count(*) AS n FROM artifacts GROUP BY status")
        return {r["status"]: int(r["n"]) for r in rows}
    finally:
        await conn.close()


async def _summary(url: str) -> dict[str, Any]:
    conn = await asyncpg.connect(asyncpg_url(url))
    try:
        row = await conn.fetchrow(
            "SELECT count(*) FILTER (WHERE status = 'completed') AS completed, "
            "count(*) FILTER (WHERE status = 'failed') AS failed, "
            "sum((result->>'entities_created')::int) AS created, sum((result->>'entities_updated')::int) AS updated, "
            "sum((result->>'insights_created')::int) AS insights, "
            "sum((result->>'relationships_created')::int) AS relationships, max(attempts) AS max_attempts, "
            "extract(epoch FROM max(completed_at) - min(completed_at)) AS completion_span_s FROM artifacts")
        errors = await conn.fetch("SELECT error, count(*) AS n FROM artifacts WHERE status = 'failed' "
                                  "GROUP BY error ORDER BY n DESC LIMIT 5")
        records = await conn.fetchval("SELECT count(*) FROM records")
        pending_search = await conn.fetchval(
            "SELECT count(*) FROM outbox WHERE topic = 'search' AND processed_at IS NULL")
        out = {k: (float(v) if k == "completion_span_s" and v is not None else v) for k, v in dict(row).items()}
        out.update({"records": records, "search_outbox_pending": pending_search,
                    "failures": [{"error": e["error"], "count": e["n"]} for e in errors]})
        return out
    finally:
        await conn.close()


async def _search_pending(url: str) -> int:
    conn = await asyncpg.connect(asyncpg_url(url))
    try:
        return int(await conn.fetchval("SELECT count(*) FROM outbox WHERE topic = 'search' AND processed_at IS NULL"))
    finally:
        await conn.close()


def process(url: str, worker: Any, total: int) -> dict[str, Any]:
    """Poll the artifacts until all are done; figures of the worker's throughput."""
    first_claim = None
    last_done = time.monotonic()
    cpu_before = worker.cpu_seconds()
    deadline = time.monotonic() + max(900, total * 2)
    logged = 0.0
    while True:
        states = asyncio.run(_states(url))
        now = time.monotonic()
        pending = states.get("pending", 0)
        done = states.get("completed", 0) + states.get("failed", 0)
        if first_claim is None and pending < total:
            first_claim = now
        if now - logged > 5:
            logged = now
            log(f"artifacts: {states}")
        if done >= total:
            last_done = now
            break
        if now > deadline or not worker.alive():
            raise BenchmarkError(f"artifacts stuck at {states}:\n" + "\n".join(worker.output_tail))
        time.sleep(POLL_S)
    cpu = worker.cpu_seconds() - cpu_before
    started = first_claim or worker.started_at
    seconds = last_done - started
    return {"artifacts": total, "seconds": round(seconds, 2),
            "artifacts_per_s": round(total / seconds, 2) if seconds else None,
            "seconds_incl_worker_start": round(last_done - worker.started_at, 2),
            "artifacts_per_s_incl_worker_start": round(total / (last_done - worker.started_at), 2),
            "worker_cpu_s": round(cpu, 2), "worker_cpu_ms_per_artifact": round(cpu * 1000 / total, 1),
            "worker_cpu_utilisation": round(cpu / (last_done - worker.started_at), 2)}


def run(args: argparse.Namespace) -> dict[str, Any]:
    preset = dict(PRESETS["quick" if args.quick else "full"])
    if args.artifacts is not None:
        preset["artifacts"] = args.artifacts
    pin_self(LOAD_CPU)
    rng = random.Random(args.seed)
    env = stack_env(MEILI_INDEX_PREFIX=INDEX_PREFIX)
    for name in ("LLM_BASE_URL", "LLM_MODEL", "LLM_API_KEY"):
        env.pop(name, None)
    own_redis_db(env, REDIS_DB)
    uid = f"{INDEX_PREFIX}_records"
    cases = load_cases()
    load_before = load_average()
    warnings: list[str] = []
    delete_meili_index(env, uid)
    try:
        with bench_database(env, name=DATABASE) as url:
            env["DATABASE_URL"] = url
            made = create_workspace(env)
            key = made["api_key"]
            with serve(env, free_port()) as server, api_client(server.base_url, key) as client:
                log(f"posting {preset['artifacts']:,} texts (no worker running)")
                post_ms = []
                for number in range(preset["artifacts"]):
                    case = cases[number % len(cases)]
                    elapsed, _ = timed(client, "POST", "/v1/context/text",
                                       json={"content": case["text"], "context": case.get("context")})
                    post_ms.append(elapsed)
                states = asyncio.run(_states(url))
                if states.get("pending") != preset["artifacts"]:
                    raise BenchmarkError(f"expected {preset['artifacts']} pending artifacts, found {states}")
                load_measure = load_average()
                with run_worker(env) as worker:
                    log("worker started; processing")
                    throughput = process(url, worker, preset["artifacts"])
                    log(f"processed {preset['artifacts']:,} artifacts in {throughput['seconds']} s = "
                        f"{throughput['artifacts_per_s']} artifacts/s (worker CPU "
                        f"{throughput['worker_cpu_ms_per_artifact']} ms/artifact)")
                    deadline = time.monotonic() + 600
                    while asyncio.run(_search_pending(url)) and time.monotonic() < deadline:
                        time.sleep(0.5)
                    summary = asyncio.run(_summary(url))
                    log(f"results: {summary}")
                    worker_memory = worker.memory()
                    asked = questions(cases, preset["questions"], rng)
                    by_kind: dict[str, list[float]] = {}
                    empty = 0
                    cpu_before = server.cpu_seconds()
                    sample(client, [("POST", "/v1/context/ask", {"query": q}) for _, q in asked[:5]], rounds=1,
                           warmup=0)
                    for kind, question in asked:
                        elapsed, reply = timed(client, "POST", "/v1/context/ask", json={"query": question})
                        by_kind.setdefault(kind, []).append(elapsed)
                        if not reply.json().get("entities_considered"):
                            empty += 1
                    ask_cpu = (server.cpu_seconds() - cpu_before) / (len(asked) + 5)
                    load_after_measure = load_average()
                api_memory = server.memory()
    finally:
        if not args.keep_index:
            delete_meili_index(env, uid)
    all_ms = [v for values in by_kind.values() for v in values]
    ask = {"overall": percentiles(all_ms), "by_kind": {k: percentiles(v) for k, v in by_kind.items()},
           "answers_without_entities": empty, "server_cpu_ms_per_request": round(ask_cpu * 1000, 2)}
    log(f"ask: p50 {ask['overall']['p50']:.1f} ms, p95 {ask['overall']['p95']:.1f} ms, p99 "
        f"{ask['overall']['p99']:.1f} ms; by kind "
        + ", ".join(f"{k} p95 {v['p95']:.1f}" for k, v in ask["by_kind"].items()))
    if summary.get("failed"):
        warnings.append(f"{summary['failed']} artifacts failed: {summary['failures']}")
    if load_measure[0] > 1.5 or load_after_measure[0] > 1.5:
        warnings.append(f"1-minute load average was {load_measure[0]} / {load_after_measure[0]} around the "
                        f"measurements: other work shared the machine")
    if not args.quick and args.start_load[0] >= 1.5:
        warnings.append(f"full run started with a 1-minute load average of {args.start_load[0]} (>= 1.5)")
    if args.quick:
        warnings.append(f"quick preset ({preset['artifacts']:,} artifacts), "
                        "not the issue's sizes: a development run")
    headline = {
        "artifacts_per_s": {"value": throughput["artifacts_per_s"], "unit": "artifacts/s"},
        "worker_cpu_ms_per_artifact": {"value": throughput["worker_cpu_ms_per_artifact"], "unit": "ms"},
        "worker_peak_rss_mib": {"value": worker_memory["peak_rss_mib"], "unit": "MiB"},
        "ask_p50_ms": {"value": ask["overall"]["p50"], "unit": "ms"},
        "ask_p95_ms": {"value": ask["overall"]["p95"], "unit": "ms"},
        "ask_p99_ms": {"value": ask["overall"]["p99"], "unit": "ms"},
    }
    return {
        "description": f"{preset['artifacts']:,} artifacts through one worker; POST /v1/context/ask latency",
        "preset": "quick" if args.quick else "full",
        "settings": {**preset, "seed": args.seed, "database": DATABASE, "redis_db": REDIS_DB,
                     "texts": str(CASES.relative_to(REPO)), "distinct_texts": len(cases)},
        "warnings": warnings,
        "headline": headline,
        "load_average": {"start": args.start_load,
                         "before": load_before, "measuring": load_measure, "after_measuring": load_after_measure,
                         "after": load_average()},
        "post_text_ms": percentiles(post_ms),
        "throughput": throughput,
        "results": summary,
        "ask": ask,
        "worker_memory": worker_memory,
        "api_memory": api_memory,
        "sample_questions": asked[:10],
    }


def main() -> None:
    parser = sized_parser(__doc__)
    parser.add_argument("--artifacts", type=int, default=None, help="texts to post")
    parser.add_argument("--keep-index", action="store_true", help="leave the Meilisearch index in place")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    run_sized(NAME, run, args)


if __name__ == "__main__":
    main()
