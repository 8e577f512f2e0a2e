"""Compounding at scale (issue 16): consolidation and pattern detection over 100,000 insights
(``--quick``: 10,000; ``--size N`` for any other).

One fresh database (``tessera_bench_compounding``), one workspace. The insights go in directly
with ``COPY`` (loading them through the extraction pipeline would take hours and is not what is
measured): 200 companies, 60 themes ("raised concerns about the security review before
signing"), each insight an objection, risk or next step about one company; 10 % repeat an
earlier insight of the same company in nearly the same words (the duplicates consolidation
must merge). Each insight has its memory item with a 384-d unit vector, as the memory relay
stores them: one direction per theme plus noise, a repeat close to its original. The vectors are
synthetic (computing 100,000 MiniLM embeddings takes ~11 minutes on one core and measures the
relay, not compounding); their model id is the empty one the jobs use without an embedder.

Then the two jobs' work runs in this process as the worker runs it (``RunContext`` in one
transaction, committed): consolidation, then pattern detection, each timed end to end (reading,
computing, writing). Targets: consolidation <= 60 s and pattern detection <= 60 s at 100,000
insights on the reference machine.

Run: ``python tests/benchmarks/bench_compounding.py --quick``. Writes ``results/compounding.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import asyncpg
import numpy as np
from harness import bench_database, create_workspace, load_average, stack_env, write_result

THEMES = [f"{a} {b}" for a in ("security", "pricing", "integration", "migration", "onboarding", "reporting")
          for b in ("review", "model", "timeline", "effort", "scope", "approval", "support", "limits", "costs",
                    "roadmap")]
TYPES = ("objection", "risk", "next_step")
TARGET_SECONDS = 60.0


def build(size: int, seed: int = 16) -> tuple[list[tuple[Any, ...]], np.ndarray]:
    """``size`` insight rows (id, type, content, confidence, entity_ids, dedupe_key, created_at) and their vectors."""
    rng = random.Random(seed)
    np_rng = np.random.default_rng(seed)
    directions = np_rng.normal(size=(len(THEMES), 384)).astype(np.float32)
    rows: list[tuple[Any, ...]] = []
    vectors = np.zeros((size, 384), dtype=np.float32)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for n in range(size):
        if n > 100 and rng.random() < 0.1:
            original = rows[rng.randrange(len(rows))]
            content = original[2].replace(" before signing", " before signing the contract")
            rows.append((n + 1, original[1], content, 0.7, original[4], f"bench-{n}", start + timedelta(minutes=n)))
            vectors[n] = vectors[original[0] - 1] + np_rng.normal(scale=0.02, size=384)
        else:
            theme = rng.randrange(len(THEMES))
            company = rng.randrange(200)
            kind = rng.choice(TYPES)
            content = f"Company {company} raised concerns about the {THEMES[theme]} before signing, call {n}."
            rows.append((n + 1, kind, content, 0.7, [1_000_000 + company], f"bench-{n}", start + timedelta(minutes=n)))
            vectors[n] = directions[theme] + np_rng.normal(scale=0.9, size=384)
        vectors[n] /= np.linalg.norm(vectors[n])
    return rows, vectors


async def load(url: str, workspace_id: int, rows: list[tuple[Any, ...]], vectors: np.ndarray) -> None:
    conn = await asyncpg.connect(url)
    try:
        base = await conn.fetchval("SELECT next_id()")
        await conn.copy_records_to_table(
            "insights", columns=["workspace_id", "id", "type", "content", "confidence", "entity_ids", "dedupe_key",
                                 "created_at"],
            records=[(workspace_id, base + r[0], *r[1:]) for r in rows])
        await conn.copy_records_to_table(
            "memory_items", columns=["workspace_id", "source_type", "source_id", "position", "start_offset",
                                     "end_offset", "context", "content", "entity_ids", "created_at", "indexed_at",
                                     "vector", "vector_model"],
            records=[(workspace_id, "insight", base + r[0], 0, 0, len(r[2]), r[1], r[2], r[4], r[6], r[6],
                      vectors[i].tobytes(), "") for i, r in enumerate(rows)])
        await conn.execute("VACUUM ANALYZE insights")
        await conn.execute("VACUUM ANALYZE memory_items")
    finally:
        await conn.close()


async def measure(url: str, workspace_id: int) -> dict[str, Any]:
    from sqlalchemy.ext.asyncio import create_async_engine

    from tessera.changes import Actor, Changes, Stamp
    from tessera.db.ids import IdAllocator
    from tessera.db.tenant import Tenant
    from tessera.settings import Settings
    from workers.compounding import consolidation, patterns
    from workers.compounding.runs import RunContext

    settings = Settings(database_url=url)
    engine = create_async_engine(settings.sqlalchemy_url)
    out: dict[str, Any] = {}
    try:
        jobs = (("consolidation", consolidation.consolidate), ("pattern_detection", patterns.detect_patterns))
        for name, work in jobs:
            now = datetime.now(UTC)
            started = time.perf_counter()
            async with engine.begin() as conn:
                changes = Changes(IdAllocator(), Stamp(Actor("bench", name), now))
                tenant = Tenant(conn, workspace_id)
                outcome = await work(RunContext(tenant=tenant, changes=changes, settings=settings, now=now, job_id=1))
                await changes.flush(tenant)
            seconds = time.perf_counter() - started
            out[name] = {"seconds": round(seconds, 2), "insights_scanned": outcome.insights_scanned,
                         "insights_affected": outcome.insights_affected,
                         "candidates_created": outcome.candidates_created,
                         **({"patterns_found": outcome.result["patterns_found"]} if "patterns_found" in outcome.result
                            else {"insights_merged": outcome.result["insights_merged"]})}
            print(name, out[name], flush=True)
    finally:
        await engine.dispose()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10,000 insights")
    parser.add_argument("--size", type=int, default=None)
    args = parser.parse_args()
    size = args.size or (10_000 if args.quick else 100_000)
    env = stack_env()
    rows, vectors = build(size)
    with bench_database(env, name="tessera_bench_compounding") as url:
        made = create_workspace({**env, "DATABASE_URL": url})
        workspace_id = int(made["workspace_id"])
        plain = url.replace("postgresql+asyncpg://", "postgresql://", 1)
        started = time.perf_counter()
        asyncio.run(load(plain, workspace_id, rows, vectors))
        loaded = round(time.perf_counter() - started, 1)
        timings = asyncio.run(measure(plain, workspace_id))
    headline = {f"{name}_seconds": {"value": t["seconds"], "unit": "s", "max": TARGET_SECONDS * size / 100_000}
                for name, t in timings.items()}
    result = write_result("compounding", {"size": size, "load_seconds": loaded, "load_average": load_average(),
                                          "jobs": timings, "headline": headline})
    print(result["headline"])


if __name__ == "__main__":
    main()
