"""Soak: Tessera's API and worker under a fixed-rate mixed load for minutes, watching errors,
latency and memory.

    make soak                                           # 10 minutes at 200 req/s
    .venv/bin/python tests/soak/run_soak.py --minutes 3 # with .stack/env exported (or found)

It starts ``tessera serve`` and ``tessera worker`` as subprocesses (both pinned to CPU 0 when the
machine has two CPUs) on the local stack, on a fresh database ``tessera_soak`` migrated with
``tessera migrate``, Redis database 3 and Meilisearch indexes prefixed ``tessera_soak``, so
nothing of the dev server, the tests (Redis 1) or the benchmarks (Redis 2) is touched. This
process, pinned to CPU 1, seeds a custom object with records, tasks and notes, then drives an
**open-loop** load: requests are *scheduled* at a fixed rate (``--rate``, default 200/s,
exponential inter-arrival times) whether or not earlier ones have answered, so a slow server
cannot slow the load down and hide its own latency (latency is measured from the scheduled
time; a request that cannot even start because ``--max-in-flight`` are outstanding is *dropped*
and counted apart: the rate was not held). The mix:

    40 % GET /v1/records/{id}               10 % POST /v1/search
    20 % POST /v1/objects/ticket (create)    5 % tasks and notes (create task / create note /
    10 % PATCH /v1/records/{id}                  list a record's tasks, in turn)
    10 % POST /v1/objects/ticket/records     5 % GET /v1/records/{id}/timeline
         (filter + sort, limit 20, total)

Every non-2xx answer is an error except a 404 or 409 (counted apart; none is expected), and so
is a timeout or a connection failure. The resident memory (RSS) of the API process and of the
worker (each with its child processes) is sampled every 10 s; growth is the average of the last
minute against the average of the first. A progress line is printed every 30 s. Results go to
``tests/benchmarks/results/soak.json`` (headline: ``errors`` <= 0, ``dropped_requests`` <= 0,
``achieved_rps`` >= 95 % of the rate, ``rss_growth_pct`` of the API and the worker <= 10), so
``tests/benchmarks/run.py --doc-only`` lists them with the benchmarks. Exit status 0 even when
a target is missed (like the benchmarks), 1 on a crash.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "benchmarks"))
from harness import (  # noqa: E402  (the benchmarks' helpers live beside them, not in a package)
    LOAD_CPU,
    free_port,
    load_average,
    pinning_enabled,
    venv_bin,
    write_result,
)
from soak_stack import (  # noqa: E402  (beside this script)
    API,
    DATABASE,
    MEILI_PREFIX,
    NAME,
    REDIS_DB,
    Proc,
    asyncpg_url,
    descendants,
    drop_meili_indexes,
    flush_redis_db,
    log,
    recreate_database,
    rss_mib,
    stack_env,
    start,
    stop,
    wait_healthy,
    with_database,
    with_redis_db,
)

"""Redis database of the soak (0 dev server, 1 tests, 2 benchmarks)."""
OBJECT = "ticket"
RSS_EVERY_S = 10.0
PROGRESS_EVERY_S = 30.0
EXPECTED_STATUSES = {404, 409}
ERRORS_TARGET = 0
RSS_GROWTH_TARGET_PCT = 10.0

MIX: tuple[tuple[str, float], ...] = (
    ("read", 0.40),
    ("create", 0.20),
    ("update", 0.10),
    ("query", 0.10),
    ("search", 0.10),
    ("tasks_notes", 0.05),
    ("timeline", 0.05),
)
STAGES = ("New", "Open", "Pending", "Solved", "Closed")
PRIORITIES = ("Low", "Normal", "High", "Urgent")
WORDS = ("printer", "invoice", "login", "password", "refund", "shipping", "delay", "crash", "upgrade",
         "billing", "export", "import", "timeout", "latency", "mobile", "android", "ios", "browser",
         "dashboard", "report", "webhook", "integration", "calendar", "reminder", "license", "seat")
ATTRIBUTES = (
    {"name": "Title", "slug": "title", "type": "text"},
    {"name": "Stage", "slug": "stage", "type": "select",
     "options": {"select_options": [{"name": s} for s in STAGES]}},
    {"name": "Priority", "slug": "priority", "type": "select",
     "options": {"select_options": [{"name": p} for p in PRIORITIES]}},
    {"name": "Requester", "slug": "requester", "type": "email"},
    {"name": "Score", "slug": "score", "type": "number", "options": {"is_whole_number": True}},
    {"name": "Opened", "slug": "opened_on", "type": "date"},
    {"name": "Escalated", "slug": "escalated", "type": "boolean"},
    {"name": "Body", "slug": "body", "type": "text"},
)


def ticket(rng: random.Random, n: int) -> dict[str, Any]:
    words = rng.choices(WORDS, k=3)
    return {
        "title": f"{words[0].title()} {words[1]} issue #{n}",
        "stage": rng.choice(STAGES),
        "priority": rng.choice(PRIORITIES),
        "requester": f"user{rng.randrange(5000)}@customer{rng.randrange(50)}.example.com",
        "score": rng.randrange(101),
        "opened_on": f"2026-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}",
        "escalated": rng.random() < 0.2,
        "body": " ".join(rng.choices(WORDS, k=12 + rng.randrange(30))),
    }


async def setup_workspace(base_url: str, key: str, seed_records: int, rng: random.Random) -> list[str]:
    """The custom object, ``seed_records`` tickets (batch endpoint), and a few tasks and notes;
    returns the tickets' ids."""
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=base_url + API, headers=headers, timeout=120) as client:
        made = await client.post("/v1/objects", json={"name": "Ticket", "slug": OBJECT, "type": "custom"})
        made.raise_for_status()
        for attribute in ATTRIBUTES:
            (await client.post(f"/v1/objects/{OBJECT}/attributes", json=attribute)).raise_for_status()
        ids: list[str] = []
        for start_at in range(0, seed_records, 1000):
            size = min(1000, seed_records - start_at)
            body = {"records": [{"attributes": ticket(rng, start_at + i)} for i in range(size)]}
            reply = await client.post(f"/v1/objects/{OBJECT}/records/batch", json=body)
            reply.raise_for_status()
            data = reply.json()
            if data["created"] != size:
                raise RuntimeError(f"seeding: batch created {data['created']} of {size}: {reply.text[:500]}")
            ids += [item["id"] for item in data["results"]]
        for i in range(50):
            (await client.post("/v1/tasks", json={"title": f"Seed task {i}", "entity_ids": [rng.choice(ids)],
                                                   "priority": "medium"})).raise_for_status()
            (await client.post("/v1/notes", json={"title": f"Seed note {i}", "content": "seed",
                                                   "entity_id": rng.choice(ids)})).raise_for_status()
    return ids


# -- load --------------------------------------------------------------------------------------


@dataclass
class Stats:
    """Per-operation results, plus everything needed for the 30 s progress lines."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    window: list[float] = field(default_factory=list)
    statuses: dict[str, Counter[int]] = field(default_factory=lambda: defaultdict(Counter))
    errors: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    error_samples: list[str] = field(default_factory=list)
    expected: Counter[str] = field(default_factory=Counter)
    completed: int = 0
    scheduled: int = 0
    skipped: int = 0
    skipped_by_op: Counter[str] = field(default_factory=Counter)
    per_second: Counter[int] = field(default_factory=Counter)

    def error_count(self) -> int:
        return sum(sum(c.values()) for c in self.errors.values())


class Driver:
    def __init__(self, client: httpx.AsyncClient, ids: list[str], args: argparse.Namespace, stats: Stats) -> None:
        self.client = client
        self.ids = ids
        self.args = args
        self.stats = stats
        self.rng = random.Random(args.seed)
        self.created = 0
        self.tasks_notes_turn = 0
        self.in_flight = 0
        self.t0 = 0.0

    def pick(self) -> str:
        return self.ids[self.rng.randrange(len(self.ids))]

    def request(self, op: str) -> tuple[str, str, Any]:
        """``(method, path, json)`` of one request of operation ``op``."""
        rng = self.rng
        if op == "read":
            return "GET", f"/v1/records/{self.pick()}", None
        if op == "create":
            self.created += 1
            return "POST", f"/v1/objects/{OBJECT}", {"attributes": ticket(rng, 10_000_000 + self.created)}
        if op == "update":
            return "PATCH", f"/v1/records/{self.pick()}", {"attributes": {
                "stage": rng.choice(STAGES), "score": rng.randrange(101), "escalated": rng.random() < 0.2}}
        if op == "query":
            body: dict[str, Any] = {"filter": {"stage": rng.choice(STAGES)}, "limit": 20,
                                    "sort": {"attribute": rng.choice(("opened_on", "score")),
                                             "direction": rng.choice(("asc", "desc"))}}
            if rng.random() < 0.5:
                body["filter"]["priority"] = rng.choice(PRIORITIES)
            return "POST", f"/v1/objects/{OBJECT}/records", body
        if op == "search":
            return "POST", "/v1/search", {"query": " ".join(rng.choices(WORDS, k=rng.choice((1, 2))))}
        if op == "tasks_notes":
            self.tasks_notes_turn += 1
            turn = self.tasks_notes_turn % 3
            if turn == 0:
                return "POST", "/v1/tasks", {"title": f"Follow up {self.tasks_notes_turn}",
                                             "entity_ids": [self.pick()], "priority": "high"}
            if turn == 1:
                return "POST", "/v1/notes", {"title": f"Call notes {self.tasks_notes_turn}",
                                             "content": "Customer called about " + rng.choice(WORDS),
                                             "entity_id": self.pick()}
            return "GET", f"/v1/tasks?entity_id={self.pick()}&limit=20", None
        if op == "timeline":
            return "GET", f"/v1/records/{self.pick()}/timeline", None
        raise ValueError(op)

    async def fire(self, op: str, scheduled: float) -> None:
        method, path, body = self.request(op)
        stats = self.stats
        try:
            reply = await self.client.request(method, path, json=body)
            latency = (time.monotonic() - scheduled) * 1000
            status = reply.status_code
            stats.statuses[op][status] += 1
            if 200 <= status < 300:
                stats.latencies[op].append(latency)
                stats.window.append(latency)
                if op == "create":
                    self.ids.append(reply.json()["id"])
            elif status in EXPECTED_STATUSES:
                stats.expected[f"{op}:{status}"] += 1
            else:
                stats.errors[op][f"HTTP {status}"] += 1
                if len(stats.error_samples) < 20:
                    stats.error_samples.append(f"{method} {path} -> {status}: {reply.text[:300]}")
        except (httpx.HTTPError, ValueError, KeyError) as err:
            stats.errors[op][type(err).__name__] += 1
            if len(stats.error_samples) < 20:
                stats.error_samples.append(f"{method} {path} -> {type(err).__name__}: {err}")
        finally:
            self.in_flight -= 1
            stats.completed += 1
            stats.per_second[int(time.monotonic() - self.t0)] += 1

    async def run(self, seconds: float) -> set[asyncio.Task[None]]:
        """Schedule requests at ``args.rate`` per second (Poisson arrivals) for ``seconds``."""
        ops = [op for op, _ in MIX]
        weights = [w for _, w in MIX]
        pending: set[asyncio.Task[None]] = set()
        self.t0 = time.monotonic()
        next_at = self.t0
        end = self.t0 + seconds
        while True:
            next_at += self.rng.expovariate(self.args.rate)
            if next_at >= end:
                break
            delay = next_at - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            op = self.rng.choices(ops, weights)[0]
            self.stats.scheduled += 1
            if self.in_flight >= self.args.max_in_flight:
                # The server is too far behind: an open-loop client would have to queue without
                # bound. Drop the request (counted: the rate was not held) and move on.
                self.stats.skipped += 1
                self.stats.skipped_by_op[op] += 1
                continue
            self.in_flight += 1  # counted from scheduling: a task not yet started is outstanding too
            task = asyncio.create_task(self.fire(op, next_at))
            pending.add(task)
            task.add_done_callback(pending.discard)
        return pending


def pct(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, math.ceil(p / 100 * len(ordered)) - 1))
    return round(ordered[rank], 2)


async def monitor(driver: Driver, api: Proc, worker: Proc, samples: list[dict[str, Any]], seconds: float) -> None:
    """Every 10 s: RSS of the API and the worker; every 30 s: a progress line."""
    t0 = time.monotonic()
    next_progress = PROGRESS_EVERY_S
    last_completed, last_errors, last_t = 0, 0, 0.0
    while True:
        elapsed = time.monotonic() - t0
        samples.append({"t": round(elapsed, 1), "api_rss_mib": rss_mib(api.pid),
                        "worker_rss_mib": rss_mib(worker.pid), "in_flight": driver.in_flight})
        for proc in (api, worker):
            if proc.process.poll() is not None:
                raise RuntimeError(f"{proc.label} exited with {proc.process.returncode} during the soak:\n"
                                   + "\n".join(proc.tail))
        if elapsed + 0.5 >= next_progress:
            stats = driver.stats
            done, errors = stats.completed, stats.error_count()
            span = elapsed - last_t
            window = stats.window
            stats.window = []
            log(f"[{elapsed / 60:4.1f} min] {(done - last_completed) / span:6.1f} req/s, "
                f"p50 {pct(window, 50) or 0:6.1f} ms, p99 {pct(window, 99) or 0:7.1f} ms, "
                f"errors {errors} (+{errors - last_errors}), dropped {stats.skipped}, in flight {driver.in_flight}, "
                f"RSS api {samples[-1]['api_rss_mib']:.0f} MiB, worker {samples[-1]['worker_rss_mib']:.0f} MiB")
            last_completed, last_errors, last_t = done, errors, elapsed
            next_progress += PROGRESS_EVERY_S
        if elapsed >= seconds:
            return
        await asyncio.sleep(min(RSS_EVERY_S, max(0.1, seconds - elapsed)))


def growth(samples: list[dict[str, Any]], key: str, seconds: float) -> dict[str, Any]:
    """Average of the first minute against the average of the last minute."""
    minute = min(60.0, seconds / 3)
    first = [s[key] for s in samples if s["t"] <= minute]
    last = [s[key] for s in samples if s["t"] >= seconds - minute]
    if not first or not last:
        return {"first_mib": None, "last_mib": None, "growth_pct": None}
    first_avg, last_avg = statistics.fmean(first), statistics.fmean(last)
    return {"first_mib": round(first_avg, 1), "last_mib": round(last_avg, 1),
            "growth_pct": round((last_avg - first_avg) / first_avg * 100, 2) if first_avg else None,
            "max_mib": max(s[key] for s in samples), "window_s": minute}


async def outbox_backlog(url: str) -> dict[str, Any]:
    conn = await asyncpg.connect(asyncpg_url(url))
    try:
        row = await conn.fetchrow(
            "SELECT count(*) FILTER (WHERE processed_at IS NULL) AS pending, count(*) AS total, "
            "max(attempts) AS max_attempts, "
            "extract(epoch FROM now() - min(created_at) FILTER (WHERE processed_at IS NULL)) AS oldest_s "
            "FROM outbox")
    finally:
        await conn.close()
    return {"pending": row["pending"], "total": row["total"], "max_attempts": row["max_attempts"],
            "oldest_pending_s": round(float(row["oldest_s"]), 1) if row["oldest_s"] is not None else None}


async def drive(args: argparse.Namespace, base_url: str, key: str, ids: list[str], api: Proc,
                worker: Proc) -> dict[str, Any]:
    stats = Stats()
    seconds = args.minutes * 60
    limits = httpx.Limits(max_connections=args.max_in_flight, max_keepalive_connections=64)
    headers = {"Authorization": f"Bearer {key}"}
    samples: list[dict[str, Any]] = []
    async with httpx.AsyncClient(base_url=base_url + API, headers=headers, timeout=args.timeout,
                                 limits=limits) as client:
        driver = Driver(client, ids, args, stats)
        cpu_before = {p.label: cpu_seconds(p.pid) for p in (api, worker)}
        driver_cpu_before = time.process_time()
        started = time.monotonic()
        watcher = asyncio.create_task(monitor(driver, api, worker, samples, seconds))
        pending = await driver.run(seconds)
        if pending:
            await asyncio.wait(pending, timeout=args.timeout + 5)
        elapsed = time.monotonic() - started
        await watcher
        cpu = {label: round((cpu_seconds(p.pid) - cpu_before[label]) / elapsed, 3)
               for label, p in (("api", api), ("worker", worker))}
        # The load generator's own share of a CPU: near 1.0 it, not the server, set the pace.
        cpu["load_generator"] = round((time.process_time() - driver_cpu_before) / elapsed, 3)
    return {"stats": stats, "samples": samples, "elapsed": elapsed, "cpu": cpu, "records_at_end": len(ids)}


def cpu_seconds(pid: int) -> float:
    total = 0.0
    for member in descendants(pid):
        try:
            stat = Path(f"/proc/{member}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


# -- report ------------------------------------------------------------------------------------


def summarize(args: argparse.Namespace, run: dict[str, Any], setup: dict[str, Any],
              after: dict[str, Any]) -> dict[str, Any]:
    stats: Stats = run["stats"]
    seconds = args.minutes * 60
    endpoints = {}
    for op, _ in MIX:
        values = stats.latencies.get(op, [])
        endpoints[op] = {
            "ok": len(values),
            "p50_ms": pct(values, 50), "p99_ms": pct(values, 99), "max_ms": round(max(values), 1) if values else None,
            "statuses": {str(k): v for k, v in sorted(stats.statuses[op].items())},
            "errors": dict(stats.errors.get(op, {})),
            "dropped": stats.skipped_by_op.get(op, 0),
        }
    all_ok = [v for values in stats.latencies.values() for v in values]
    errors = stats.error_count()
    api_growth = growth(run["samples"], "api_rss_mib", seconds)
    worker_growth = growth(run["samples"], "worker_rss_mib", seconds)
    achieved = stats.completed / run["elapsed"] if run["elapsed"] else 0.0
    headline: dict[str, Any] = {
        "errors": {"value": errors, "max": ERRORS_TARGET},
        # Requests the fixed rate called for but that could not even start: the server was
        # --max-in-flight requests behind. Not errors of the server, but the rate was not held.
        "dropped_requests": {"value": stats.skipped, "max": 0},
        "api_rss_growth_pct": {"value": api_growth["growth_pct"] or 0.0, "unit": "%", "max": RSS_GROWTH_TARGET_PCT},
        "worker_rss_growth_pct": {"value": worker_growth["growth_pct"] or 0.0, "unit": "%",
                                  "max": RSS_GROWTH_TARGET_PCT},
        "achieved_rps": {"value": round(achieved, 1), "unit": "req/s", "min": round(args.rate * 0.95, 1)},
        "p50_ms": {"value": pct(all_ok, 50) or 0.0, "unit": "ms"},
        "p99_ms": {"value": pct(all_ok, 99) or 0.0, "unit": "ms"},
        "api_rss_last_mib": {"value": api_growth["last_mib"] or 0.0, "unit": "MiB"},
        "worker_rss_last_mib": {"value": worker_growth["last_mib"] or 0.0, "unit": "MiB"},
        "minutes": {"value": args.minutes, "unit": "min"},
    }
    warnings = []
    if stats.skipped:
        warnings.append(f"{stats.skipped} of {stats.scheduled} scheduled requests were dropped: "
                        f"{args.max_in_flight} were already in flight (the server could not keep up with "
                        f"{args.rate:g} req/s)")
    if after["outbox"]["pending"]:
        warnings.append(f"outbox: {after['outbox']['pending']} events still unprocessed "
                        f"{args.drain_s:.0f} s after the load stopped")
    return {
        "settings": {"minutes": args.minutes, "rate": args.rate, "mix": dict(MIX), "seed_records": args.seed_records,
                     "max_in_flight": args.max_in_flight, "timeout_s": args.timeout, "pinned": pinning_enabled(),
                     "database": DATABASE, "redis_db": REDIS_DB, "meili_index_prefix": MEILI_PREFIX},
        "headline": headline,
        "endpoints": endpoints,
        "throughput": {"scheduled": stats.scheduled, "completed": stats.completed, "skipped": stats.skipped,
                       "achieved_rps": round(achieved, 1), "elapsed_s": round(run["elapsed"], 1),
                       "slowest_second": min(stats.per_second.values()) if stats.per_second else None,
                       "completed_per_s_by_minute": [
                           round(sum(v for k, v in stats.per_second.items() if m * 60 <= k < (m + 1) * 60) / 60, 1)
                           for m in range(math.ceil(seconds / 60))]},
        "errors": {"count": errors, "expected_404_409": dict(stats.expected), "samples": stats.error_samples},
        "memory": {"api": api_growth, "worker": worker_growth, "samples": run["samples"]},
        "cpu_utilization": run["cpu"],
        "server_log_problems": setup["log_problems"],
        "records_at_end": run["records_at_end"],
        "after": after,
        "load_average": {"before": setup["load_before"], "after": load_average()},
        "warnings": warnings,
    }


def print_table(result: dict[str, Any]) -> None:
    rows = [("endpoint", "ok", "p50 ms", "p99 ms", "max ms", "errors", "404/409", "dropped")]
    expected = result["errors"]["expected_404_409"]
    for op, figures in result["endpoints"].items():
        rows.append((op, f"{figures['ok']:,}", str(figures["p50_ms"]), str(figures["p99_ms"]), str(figures["max_ms"]),
                     str(sum(figures["errors"].values())),
                     str(sum(v for k, v in expected.items() if k.startswith(op + ":"))), str(figures["dropped"])))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    print()
    for number, row in enumerate(rows):
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
        if number == 0:
            print("  ".join("-" * width for width in widths))
    print()
    for metric, entry in result["headline"].items():
        target = (f" (target <= {entry['max']})" if "max" in entry else
                  f" (target >= {entry['min']})" if "min" in entry else "")
        verdict = ""
        if "max" in entry or "min" in entry:
            ok = entry["value"] <= entry.get("max", math.inf) and entry["value"] >= entry.get("min", -math.inf)
            verdict = "  pass" if ok else "  MISS"
        print(f"{metric:24} {entry['value']}{(' ' + entry['unit']) if entry.get('unit') else ''}{target}{verdict}")
    for warning in result["warnings"]:
        print(f"warning: {warning}")


# -- main --------------------------------------------------------------------------------------


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    base_env = stack_env()
    url = with_database(base_env["DATABASE_URL"], DATABASE)
    env = {**base_env, "DATABASE_URL": url, "REDIS_URL": with_redis_db(base_env.get("REDIS_URL", ""), REDIS_DB),
           "MEILI_INDEX_PREFIX": MEILI_PREFIX, "LOG_LEVEL": "WARNING", "PYTHONUNBUFFERED": "1",
           # The limiter keeps running (one Redis round trip per request) but never refuses.
           "RATE_LIMIT_DEFAULT_PER_MINUTE": "100000000", "RATE_LIMIT_WORKSPACE_PER_MINUTE": "100000000"}
    load_before = load_average()
    log(f"soak: fresh database {DATABASE}, Redis db {REDIS_DB}, Meilisearch prefix {MEILI_PREFIX!r}")
    await recreate_database(url)
    await flush_redis_db(env["REDIS_URL"])
    dropped = await drop_meili_indexes(env)
    if dropped:
        log(f"soak: dropped {dropped} Meilisearch index(es) of an earlier soak")
    migrated = subprocess.run([venv_bin("tessera"), "migrate"], env=env, cwd=REPO, capture_output=True, text=True,
                              check=False)
    if migrated.returncode != 0:
        raise RuntimeError(f"tessera migrate failed:\n{migrated.stderr[-3000:]}")
    made = subprocess.run([venv_bin("tessera"), "admin", "create-workspace", "--name", "soak"], env=env, cwd=REPO,
                          capture_output=True, text=True, check=False)
    if made.returncode != 0:
        raise RuntimeError(f"create-workspace failed:\n{made.stderr[-3000:]}")
    key = json.loads(made.stdout.strip().splitlines()[-1])["api_key"]

    port = args.port or free_port()
    base_url = f"http://127.0.0.1:{port}"
    api = start("api", [venv_bin("tessera"), "serve", "--host", "127.0.0.1", "--port", str(port)], env)
    worker = start("worker", [venv_bin("tessera"), "worker"], env)
    try:
        await wait_healthy(api, base_url)
        if pinning_enabled():
            os.sched_setaffinity(0, {LOAD_CPU})  # the load generator's CPU; API and worker have CPU 0
        rng = random.Random(args.seed)
        t = time.monotonic()
        ids = await setup_workspace(base_url, key, args.seed_records, rng)
        # Fresh tables have no planner statistics until autovacuum gets to them (up to a minute
        # or more), and record queries plan badly without them: analyze now, as autovacuum would.
        conn = await asyncpg.connect(asyncpg_url(url))
        try:
            await conn.execute("ANALYZE")
        finally:
            await conn.close()
        log(f"soak: seeded {len(ids):,} records, 50 tasks, 50 notes in {time.monotonic() - t:.1f} s (then ANALYZE); "
            f"API pid {api.pid}, worker pid {worker.pid}")
        log(f"soak: {args.minutes:g} min at {args.rate:g} req/s (open loop), mix "
            + ", ".join(f"{op} {share:.0%}" for op, share in MIX))
        run = await drive(args, base_url, key, ids, api, worker)
        # The worker should keep up: give it a moment, then look at what it left behind.
        deadline = time.monotonic() + args.drain_s
        backlog = await outbox_backlog(url)
        while backlog["pending"] and time.monotonic() < deadline:
            await asyncio.sleep(1)
            backlog = await outbox_backlog(url)
        after = {"outbox": backlog}
        async with httpx.AsyncClient(base_url=base_url + API, headers={"Authorization": f"Bearer {key}"},
                                     timeout=30) as client:
            found = await client.post("/v1/search", json={"query": "issue", "limit": 1})
            after["search_answers"] = found.status_code
            after["search_degraded"] = found.json().get("degraded") if found.status_code == 200 else None
    finally:
        codes = {"api": stop(api), "worker": stop(worker)}
    setup = {"load_before": load_before,
             "log_problems": {p.label: dict(p.warnings) for p in (api, worker)},
             "exit_codes": codes}
    result = summarize(args, run, setup, after)
    result["exit_codes"] = codes
    if any(p.warnings for p in (api, worker)):
        result["warnings"].append("error lines in the server logs: " + json.dumps(setup["log_problems"]))
        result["log_tail"] = {p.label: list(p.tail)[-20:] for p in (api, worker)}
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10.0, help="length of the load (default 10)")
    parser.add_argument("--rate", type=float, default=200.0, help="requests per second, all operations (200)")
    parser.add_argument("--seed-records", type=int, default=5000, help="records created before the load (5,000)")
    parser.add_argument("--max-in-flight", type=int, default=256, help="outstanding requests before one is dropped")
    parser.add_argument("--timeout", type=float, default=30.0, help="per-request timeout, seconds")
    parser.add_argument("--drain-s", type=float, default=30.0, help="wait this long for the worker's backlog")
    parser.add_argument("--port", type=int, default=0, help="API port (default: a free one)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-write", action="store_true", help="do not write results/soak.json")
    args = parser.parse_args()
    if shutil.which("taskset") is None:
        log("soak: taskset not found: API, worker and load generator share the CPUs")
    result = asyncio.run(main_async(args))
    if not args.no_write:
        write_result(NAME, result)
        log(f"soak: wrote {Path('tests/benchmarks/results') / (NAME + '.json')}")
    print_table(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
