"""Evaluate recall (``POST /v1/context/ask``) on tests/data/recall_eval.

    python tests/eval/run_recall.py [--questions path ...] [--json out.json] [--show-misses]

Runs the real thing in one process: a fresh database, the API (ASGI), an arq worker (extraction,
the memory relay, Meilisearch indexing), then remembers every text of ``memories.jsonl`` in order
through ``POST /v1/context/text``, waits until all are indexed, and asks every question.

Scores (rules in tests/data/recall_eval/README.md and docs/intelligence.md):

- ``hit_at_5``: a passage of a supporting memory is among the 5 passages ask ranked first
  (``metadata.passages_ranked``; an insight counts as its artifact's), over answerable questions;
- ``answer_hit``: the answer contains one of ``answer_contains`` (casefold, digit grouping
  ignored), over answerable questions;
- ``update_accuracy``: for ``update`` questions, the answer hit AND the passage the answer leads
  with comes from the newer (supporting) memory;
- ``abstention_accuracy``: for ``unanswerable`` questions, the answer says it has no information.

Writes ``tests/benchmarks/results/recall_eval.json`` and exits 1 when a figure falls below its
floor (the figures measured when this set was last tuned, minus a margin); the issue's targets
are printed next to them, met or missed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "platform"))

DATA = REPO / "tests" / "data" / "recall_eval"
RESULTS = REPO / "tests" / "benchmarks" / "results" / "recall_eval.json"
TARGETS = {"hit_at_5": 0.95, "answer_hit": 0.9, "update_accuracy": 0.85, "abstention_accuracy": 0.9}
FLOORS = {"hit_at_5": 0.81, "answer_hit": 0.62, "update_accuracy": 0.6, "abstention_accuracy": 0.4}
"""The tuned figures of 2026-12-03 (0.860, 0.673, 0.667, 0.458) less 0.05: a regression guard. The
targets above are the issue's; docs/intelligence.md says by how much each is missed."""
ABSTAINED = "I have no information"


def load(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def normalise(text: str) -> str:
    return re.sub(r"(?<=\d)[,\u202f](?=\d{3})", "", text.casefold())


def contains_any(answer: str, wanted: list[str]) -> bool:
    folded = normalise(answer)
    return any(normalise(w) in folded for w in wanted)


async def run(question_files: list[Path], show_misses: bool) -> dict[str, Any]:
    import asyncpg
    import httpx
    from arq.worker import Worker
    from redis import Redis

    from tessera.app import create_app
    from tessera.clock import system_clock
    from tessera.migrate import upgrade
    from tessera.settings import Settings
    from tessera.workspaces import create_workspace
    from workers.deps import DEPS_KEY
    from workers.settings import build_worker_settings

    base = Settings()
    db_url = base.database_url.rsplit("/", 1)[0] + "/tessera_eval_recall"
    redis_url = base.redis_url.rsplit("/", 1)[0] + "/9"
    admin = await asyncpg.connect(db_url.rsplit("/", 1)[0] + "/postgres")
    await admin.execute('DROP DATABASE IF EXISTS "tessera_eval_recall" WITH (FORCE)')
    await admin.execute('CREATE DATABASE "tessera_eval_recall"')
    await admin.close()
    Redis.from_url(redis_url).flushdb()
    os.environ.update({"DATABASE_URL": db_url, "REDIS_URL": redis_url})
    settings = Settings(log_level="WARNING", meili_index_prefix=f"tessera_eval_{os.getpid()}",
                        rate_limit_default_per_minute=1_000_000, rate_limit_workspace_per_minute=1_000_000)
    await asyncio.to_thread(upgrade, settings)
    app = create_app(settings)
    memories = load(DATA / "memories.jsonl")
    questions = [q for path in question_files for q in load(path)]
    async with app.router.lifespan_context(app):
        worker = Worker(**{**build_worker_settings(settings), "handle_signals": False, "poll_delay": 0.05})
        task = asyncio.create_task(worker.async_run())
        state = app.state.tessera
        made = await create_workspace(state.engine, name="recall-eval",
                                      pepper=settings.key_pepper.get_secret_value().encode(), clock=system_clock)
        headers = {"Authorization": f"Bearer {made.api_key}"}
        transport = httpx.ASGITransport(app=app)
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://eval/api/developers/", headers=headers,
                                         timeout=60) as http:
                started = time.monotonic()
                artifact_of: dict[int, str] = {}
                for memory in sorted(memories, key=lambda m: m["order"]):
                    response = await http.post("v1/context/text", json={"content": memory["text"],
                                                                          "context": memory["context"]})
                    response.raise_for_status()
                    artifact_of[response.json()["artifact_id"]] = memory["id"]
                    await asyncio.sleep(0.002)  # distinct creation times, in order
                conn = await asyncpg.connect(db_url)
                try:
                    while True:
                        pending = await conn.fetchval(
                            "SELECT (SELECT count(*) FROM artifacts WHERE status IN ('pending', 'processing')) + "
                            "(SELECT count(*) FROM outbox WHERE topic = 'memory' AND processed_at IS NULL)")
                        if pending == 0:
                            break
                        if time.monotonic() - started > 600:
                            raise SystemExit(f"indexing did not finish: {pending} pending")
                        await asyncio.sleep(0.2)
                    insight_of = {r["id"]: r["artifact_id"] for r in await conn.fetch(
                        "SELECT id, artifact_id FROM insights")}
                    passages = await conn.fetchval("SELECT count(*) FROM memory_items")
                finally:
                    await conn.close()
                ingest_s = time.monotonic() - started

                def memory_of(source_type: str, source_id: int) -> str | None:
                    if source_type == "insight":
                        source_id = insight_of.get(source_id, -1)
                    return artifact_of.get(source_id)

                rows = []
                latencies = []
                for q in questions:
                    began = time.perf_counter()
                    response = await http.post("v1/context/ask", json={"query": q["question"]})
                    latencies.append(time.perf_counter() - began)
                    response.raise_for_status()
                    body = response.json()
                    ranked = [memory_of(p["source_type"], p["source_id"]) for p in body["metadata"]["passages_ranked"]]
                    lead = next((memory_of(s["source_type"], s[f"{s['source_type']}_id"])
                                 for s in body["signals_used"] if s.get("type") == "memory"), None)
                    abstained = body["answer"].startswith(ABSTAINED)
                    rows.append({"id": q["id"], "kind": q["kind"], "question": q["question"],
                                 "answer": body["answer"], "ranked": ranked, "lead": lead, "abstained": abstained,
                                 "hit5": bool(set(q["support"]) & set(ranked[:5])),
                                 "answer_hit": (not abstained) and contains_any(body["answer"], q["answer_contains"]),
                                 "support": q["support"], "expected": q["answer_contains"],
                                 "confidence": body["metadata"]["recall_confidence"],
                                 "why_not": body["metadata"].get("not_answered_because", ""),
                                 "residual": body["metadata"].get("recall_residual", 0.0),
                                 "scores": [p["score"] for p in body["metadata"]["passages_ranked"]]})
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
            with contextlib.suppress(asyncio.CancelledError):
                await worker.close()
            started = worker.ctx.get(DEPS_KEY)
            for index in (started.search, started.memory_index) if started is not None else ():
                with contextlib.suppress(Exception):
                    await index.client.wait_for_task(await index.client.delete_index(index.index_uid))
    answerable = [r for r in rows if r["kind"] != "unanswerable"]
    updates = [r for r in rows if r["kind"] == "update"]
    unanswerable = [r for r in rows if r["kind"] == "unanswerable"]

    def share(items: list[Any]) -> float:
        return round(sum(1 for i in items if i) / len(items), 3) if items else 0.0

    claims = [r for r in rows if r["kind"] != "update" and "That changed what was noted before" in r["answer"]]
    figures = {
        "hit_at_5": share([r["hit5"] for r in answerable]),
        "answer_hit": share([r["answer_hit"] for r in answerable]),
        "update_accuracy": share([r["answer_hit"] and r["lead"] in r["support"] for r in updates]),
        "abstention_accuracy": share([r["abstained"] for r in unanswerable]),
    }
    by_kind = {kind: {"questions": len(group), "hit_at_5": share([r["hit5"] for r in group]),
                      "answer_hit": share([r["answer_hit"] for r in group]),
                      "abstained": share([r["abstained"] for r in group])}
               for kind in ("direct", "paraphrase", "update", "unanswerable")
               if (group := [r for r in rows if r["kind"] == kind])}
    latencies.sort()
    report = {"figures": figures, "targets": TARGETS, "by_kind": by_kind,
              "update_claims_elsewhere": len(claims), "memories": len(memories),
              "passages": passages, "questions": len(rows), "ingest_seconds": round(ingest_s, 1),
              "ask_p50_ms": round(latencies[len(latencies) // 2] * 1000, 1),
              "ask_p95_ms": round(latencies[int(len(latencies) * 0.95)] * 1000, 1)}
    if show_misses:
        for r in rows:
            ok = r["abstained"] if r["kind"] == "unanswerable" else r["answer_hit"]
            if not ok or (r["kind"] != "unanswerable" and not r["hit5"]):
                print(f"--- {r['id']} [{r['kind']}] {r['question']}\n    expected {r['expected']} from "
                      f"{r['support']}; ranked {r['ranked']}; hit5={r['hit5']}\n    answer: {r['answer'][:300]}")
    if os.environ.get("RECALL_EVAL_ROWS"):
        Path(os.environ["RECALL_EVAL_ROWS"]).write_text(json.dumps(rows, indent=1))
    return report


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--questions", nargs="*", type=Path, default=[DATA / "questions.jsonl"])
    parser.add_argument("--json", type=Path, default=RESULTS)
    parser.add_argument("--show-misses", action="store_true")
    parser.add_argument("--report-only", action="store_true",
                        help="never exit 1 (the holdout: its figures are reported, not gated)")
    args = parser.parse_args()
    report = asyncio.run(run(args.questions, args.show_misses))
    print(json.dumps(report, indent=2))
    for name, value in report["figures"].items():
        verdict = "met" if value >= TARGETS[name] else f"MISSED by {TARGETS[name] - value:.3f}"
        print(f"{name:22} {value:.3f}  target {TARGETS[name]:.2f}  {verdict}")
    report["benchmark"] = args.json.stem
    report["date"] = time.strftime("%Y-%m-%d")
    report["headline"] = {name: {"value": value, "min": TARGETS[name]} for name, value in report["figures"].items()}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    below = [n for n, v in report["figures"].items() if v < FLOORS[n]]
    if below and not args.report_only:
        print("below the floor:", ", ".join(below))
        raise SystemExit(1)


if __name__ == "__main__":
    main()
