"""Bulk data and fan-out (issue 8): a 1,000,000-row CSV import through the API and through the
CLI, and webhook deliveries to 10 subscriptions (``--quick``: 20,000 rows).

Two fresh databases (``tessera_bench_transfer`` for the imports, ``tessera_bench_webhooks``
for the fan-out), the Tessera server pinned to CPU 0, this process (the client) to CPU 1; the
worker, PostgreSQL and the fake services are not pinned. The worker's job queue is a Redis
database of its own (15).

A small subprocess plays two parts: the **webhook receiver** (records each delivery's arrival
time, ``webhook-id`` and the event's timestamp) and a **Meilisearch stand-in** that accepts every
document at once. The worker's search relay therefore runs as in production (it reads the
records and builds their documents) but Meilisearch's own indexing is not in these figures
(``bench_search`` measures it) and the shared Meilisearch is spared 2,000,000 documents.

1. **CSV.** 1,000,000 people in 6 columns (first name, last name, email, phone, job title,
   notes with commas and quotes), generated once per size and seed into ``/tmp`` and mapped
   with ``mapping`` (``First name`` -> ``name.first_name``...). Plain creates (no
   ``matching_attribute``; ``--matching`` upserts by email instead).
2. **API import.** ``POST /v1/objects/person/imports`` (multipart, streamed from the file) with
   a worker running, then ``GET /v1/imports/{id}`` every second until ``completed``:
   **rows/s** from the first poll that sees the job ``processing`` to ``completed`` (and end to
   end from the start of the upload), the upload's duration, the **API's peak RSS** during the
   upload and the **worker's peak RSS** (it ran the import and the relay).
3. **CLI import.** ``tessera import FILE`` of the same file into a second workspace, with no
   worker running: rows/s (wall clock, process start included) and the CLI's peak RSS.
4. **Webhooks.** 10 subscriptions (``record.*``) to the receiver. *Burst*: 1,000 records in one
   ``POST .../records/batch`` = 10,000 deliveries; **deliveries/s** from the batch's answer to
   the last delivery. *Steady*: single creates at a rate well under that capacity (at most 10
   events/s) for 30 s; **event-to-delivery latency** p50/p99 (receiver arrival - the event's
   ``timestamp``, which is its transaction's start).

Run: ``python tests/benchmarks/bench_transfer.py --quick`` while developing; full size is the
default; it first waits up to 5 minutes for the 1-minute load average to fall below 1.5
(``--force`` does not wait) and records the load average in the result.
Writes ``results/transfer.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import random
import subprocess
import sys
import tempfile
import time
import unicodedata
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import asyncpg
import httpx
import orjson
from company_data import FIRST_NAMES, JOB_TITLES, LAST_NAMES, brand_words
from fake_services import run_fakes
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
from workload_data import (
    API,
    PeakMemory,
    api_client,
    asyncpg_url,
    log,
    own_redis_db,
    percentiles,
    pin_self,
    run_sized,
    run_worker,
    sized_parser,
    timed,
)

NAME = "transfer"
IMPORT_DATABASE = "tessera_bench_transfer"
HOOK_DATABASE = "tessera_bench_webhooks"
REDIS_DB = 15
"""Redis database of this benchmark's job queue (see ``workload_data.own_redis_db``)."""
PRESETS = {"full": {"rows": 1_000_000, "subscriptions": 10, "burst": 1000, "steady_seconds": 30.0,
                    "steady_max_rate": 10.0},
           "quick": {"rows": 20_000, "subscriptions": 10, "burst": 100, "steady_seconds": 10.0,
                     "steady_max_rate": 5.0}}
MAPPING = {"First name": "name.first_name", "Last name": "name.last_name", "Email": "email_addresses",
           "Phone": "phone_numbers", "Job title": "job_title", "Notes": "description"}
NOTES = ("", "", "", "Met at the Berlin trade fair", 'Asked for the "Enterprise" plan, wants SSO',
         "Prefers email, not phone", "Budget approved, decision by Q3", "Former customer; churned in 2023",
         "Intro via partner, follow up next week", "Speaks French and German")


def ascii_slug(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(c for c in plain.lower() if c.isalnum())


def phone(rng: random.Random) -> str:
    kind = rng.randrange(4)
    if kind == 0:
        return f"+1 415 555 {rng.randrange(10_000):04d}"
    if kind == 1:
        return f"+44 20 7946 {rng.randrange(10_000):04d}"
    if kind == 2:
        return f"+49 30 {rng.randrange(10_000_000, 99_999_999)}"
    return f"+33 1 {rng.randrange(10, 99)} {rng.randrange(10, 99)} {rng.randrange(10, 99)} {rng.randrange(10, 99)}"


def make_csv(rows: int, seed: int) -> Path:
    """The CSV of ``rows`` people (cached in the temp folder by size and seed)."""
    path = Path(tempfile.gettempdir()) / f"tessera-bench-people-{rows}-{seed}.csv"
    if path.exists():
        return path
    rng = random.Random(seed)
    domains = [f"{w.lower()}.{rng.choice(('com', 'io', 'de', 'fr', 'co.uk'))}" for w in brand_words(20_000, rng)]
    partial = path.with_suffix(".partial")
    with partial.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(list(MAPPING))
        for n in range(rows):
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            email = f"{ascii_slug(first)}.{ascii_slug(last)}{n}@{rng.choice(domains)}"
            writer.writerow([first, last, email, phone(rng) if rng.random() < 0.7 else "",
                             rng.choice(JOB_TITLES) if rng.random() < 0.8 else "", rng.choice(NOTES)])
    partial.rename(path)
    return path


# -- imports -----------------------------------------------------------------------------------


def api_import(client: httpx.Client, server: Any, worker: Any, path: Path, matching: bool) -> dict[str, Any]:
    fields = {"mapping": orjson.dumps(MAPPING).decode()}
    if matching:
        fields["matching_attribute"] = "email_addresses"
    size = path.stat().st_size
    memory_before = server.memory()
    log(f"uploading {path.name} ({size / 2**20:.1f} MiB)")
    started = time.monotonic()
    with PeakMemory(server.pid, 0.2) as api_peak, path.open("rb") as handle:
        reply = client.post("/v1/objects/person/imports", files={"file": (path.name, handle, "text/csv")},
                            data=fields, timeout=3600)
    uploaded = time.monotonic()
    if reply.status_code != 200:
        raise BenchmarkError(f"upload answered {reply.status_code}: {reply.text[:500]}")
    job = reply.json()
    log(f"uploaded in {uploaded - started:.1f} s; import {job['id']} is {job['status']}")
    processing_from = None
    last_log = 0.0
    deadline = time.monotonic() + 6 * 3600
    while True:
        _, current = timed(client, "GET", f"/v1/imports/{job['id']}")
        body = current.json()
        now = time.monotonic()
        if processing_from is None and body["status"] in ("processing", "completed"):
            processing_from = now
        if body["status"] in ("completed", "failed"):
            break
        if now - last_log > 10:
            last_log = now
            rate = body.get("processed", 0) / (now - processing_from) if processing_from else 0
            log(f"import: {body['status']}, {body.get('processed', 0):,} rows ({rate:,.0f} rows/s)")
        if now > deadline or not worker.alive():
            raise BenchmarkError(f"import stuck: {body}\n" + "\n".join(worker.output_tail))
        time.sleep(1.0)
    done = time.monotonic()
    if body["status"] != "completed":
        raise BenchmarkError(f"the import failed: {body}")
    rows = int(body["processed"])
    seconds = done - (processing_from or uploaded)
    return {"rows": rows, "created": body.get("created"), "updated": body.get("updated"),
            "failed": body.get("failed"), "bytes": size, "upload_s": round(uploaded - started, 2),
            "processing_s": round(seconds, 1), "rows_per_s": round(rows / seconds, 1),
            "end_to_end_s": round(done - started, 1), "rows_per_s_end_to_end": round(rows / (done - started), 1),
            "api_peak_rss_during_upload_mib": round(api_peak.peak_mib, 1),
            "api_rss_before_upload_mib": memory_before, "worker_memory": worker.memory(),
            "poll_resolution_s": 1.0}


def cli_import(env: dict[str, str], workspace_id: int, path: Path, matching: bool) -> dict[str, Any]:
    argv = [venv_bin("tessera"), "import", str(path), "--workspace", str(workspace_id), "--object", "person",
            "--mapping", orjson.dumps(MAPPING).decode()]
    if matching:
        argv += ["--matching-attribute", "email_addresses"]
    log(f"tessera import {path.name} --workspace {workspace_id}")
    started = time.monotonic()
    process = subprocess.Popen(argv, env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=None)
    with PeakMemory(process.pid, 0.5) as peak:
        out, _ = process.communicate()
    seconds = time.monotonic() - started
    if process.returncode != 0:
        raise BenchmarkError(f"tessera import failed (exit {process.returncode})")
    counts = orjson.loads(out.decode().strip().splitlines()[-1])
    rows = int(counts["processed"])
    log(f"CLI import: {rows:,} rows in {seconds:.1f} s = {rows / seconds:,.0f} rows/s; {counts}")
    return {**counts, "seconds": round(seconds, 1), "rows_per_s": round(rows / seconds, 1),
            "peak_rss_mib": round(peak.peak_mib, 1)}


async def _pending_search(url: str) -> int:
    conn = await asyncpg.connect(asyncpg_url(url))
    try:
        return int(await conn.fetchval("SELECT count(*) FROM outbox WHERE topic = 'search' AND processed_at IS NULL"))
    finally:
        await conn.close()


# -- webhooks ----------------------------------------------------------------------------------


def read_deliveries(path: Path) -> list[tuple[float, str, str, float, str]]:
    """(arrival, webhook-id, event type, event time, record id) of every delivery so far."""
    out = []
    for line in path.read_text().splitlines():
        parts = line.split("\t")
        if len(parts) < 6:
            continue
        arrived, message, _path, kind, stamp, record = parts[:6]
        event_at = datetime.fromisoformat(stamp).timestamp() if stamp and stamp != "None" else 0.0
        out.append((float(arrived), message, kind, event_at, record))
    return out


def wait_deliveries(path: Path, ids: set[str], expected: int, within: float) -> list[tuple[float, str, str, float,
                                                                                             str]]:
    deadline = time.monotonic() + within
    last_log = 0.0
    while True:
        mine = [d for d in read_deliveries(path) if d[4] in ids]
        if len(mine) >= expected:
            return mine
        if time.monotonic() > deadline:
            log(f"webhooks: only {len(mine):,} of {expected:,} deliveries arrived within {within:.0f} s")
            return mine
        if time.monotonic() - last_log > 5:
            last_log = time.monotonic()
            log(f"webhooks: {len(mine):,}/{expected:,} delivered")
        time.sleep(0.2)


async def steady_creates(base_url: str, key: str, rate: float, seconds: float) -> tuple[list[str], list[float]]:
    ids: list[str] = []
    latencies: list[float] = []
    async with httpx.AsyncClient(base_url=base_url + API, headers={"Authorization": f"Bearer {key}"},
                                 timeout=30) as client:

        async def create(number: int) -> None:
            started = time.perf_counter()
            reply = await client.post("/v1/objects/person", json={"attributes": {
                "name": f"Hook Steady {number}", "email_addresses": [f"steady{number}@hooks.example.com"]}})
            if reply.status_code != 200:
                raise BenchmarkError(f"create answered {reply.status_code}: {reply.text[:300]}")
            latencies.append((time.perf_counter() - started) * 1000)
            ids.append(reply.json()["id"])

        tasks = []
        start = time.perf_counter()
        number = 0
        while time.perf_counter() - start < seconds:
            tasks.append(asyncio.create_task(create(number)))
            number += 1
            await asyncio.sleep(max(0.0, start + number / rate - time.perf_counter()))
        await asyncio.gather(*tasks)
    return ids, latencies


async def _hook_diagnosis(url: str, since: float, until: float) -> dict[str, Any]:
    conn = await asyncpg.connect(asyncpg_url(url))
    try:
        window = (datetime.fromtimestamp(since, tz=UTC), datetime.fromtimestamp(until, tz=UTC))
        sends = await conn.fetchrow(
            "WITH b AS (SELECT delivered_at, count(*) AS n, avg(last_latency_ms) AS receiver_ms "
            "FROM webhook_deliveries WHERE status = 'succeeded' AND created_at BETWEEN $1 AND $2 "
            "GROUP BY delivered_at) "
            "SELECT count(*) AS batches, avg(n) AS mean_size, max(n) AS max_size, "
            "extract(epoch FROM max(delivered_at) - min(delivered_at)) AS span_s, avg(receiver_ms) AS receiver_ms "
            "FROM b", *window)
        dispatch = await conn.fetchrow(
            "SELECT count(*) AS events, count(DISTINCT processed_at) AS batches, "
            "percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM processed_at - created_at)) AS p50_s, "
            "max(extract(epoch FROM processed_at - created_at)) AS max_s FROM outbox "
            "WHERE topic = 'webhook' AND created_at BETWEEN $1 AND $2", *window)
        waits = await conn.fetchrow(
            "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM delivered_at - created_at)) "
            "AS p50_s, "
            "max(extract(epoch FROM delivered_at - created_at)) AS max_s FROM webhook_deliveries "
            "WHERE status = 'succeeded' AND created_at BETWEEN $1 AND $2", *window)
    finally:
        await conn.close()

    def num(value: Any) -> Any:
        return round(float(value), 3) if value is not None else None

    batches = int(sends["batches"] or 0)
    span = float(sends["span_s"] or 0)
    return {"send_batches": batches, "send_batch_mean_size": num(sends["mean_size"]),
            "send_batch_max_size": sends["max_size"],
            "ms_per_send_batch": round(span * 1000 / (batches - 1), 1) if batches > 1 else None,
            "receiver_ms_mean": num(sends["receiver_ms"]),
            "dispatch_events": dispatch["events"], "dispatch_batches": dispatch["batches"],
            "dispatch_wait_p50_s": num(dispatch["p50_s"]), "dispatch_wait_max_s": num(dispatch["max_s"]),
            "queued_to_sent_p50_s": num(waits["p50_s"]), "queued_to_sent_max_s": num(waits["max_s"])}


def webhooks(env: dict[str, str], fakes: str, deliveries_file: Path, preset: dict[str, Any]) -> dict[str, Any]:
    n = preset["subscriptions"]
    with bench_database(env, name=HOOK_DATABASE) as url:
        env["DATABASE_URL"] = url
        key = create_workspace(env)["api_key"]
        with serve(env, free_port()) as server, api_client(server.base_url, key) as client, \
                run_worker(env) as worker:
            for i in range(n):
                timed(client, "POST", "/v1/webhooks", json={"url": f"{fakes}/hook/{i}", "events": ["record.*"]})
            _, warm = timed(client, "POST", "/v1/objects/person", json={"attributes": {"name": "Warm Up"}})
            wait_deliveries(deliveries_file, {warm.json()["id"]}, n, 60)
            # Burst: one batch of records, n deliveries each.
            items = [{"attributes": {"name": f"Hook Burst {i}", "email_addresses": [f"burst{i}@hooks.example.com"]}}
                     for i in range(preset["burst"])]
            log(f"webhooks burst: {preset['burst']:,} records x {n} subscriptions")
            sent = time.time()
            worker_cpu = worker.cpu_seconds()
            _, batch = timed(client, "POST", "/v1/objects/person/records/batch", json={"records": items})
            committed = time.time()
            burst_ids = {r["id"] for r in batch.json()["results"]}
            expected = len(burst_ids) * n
            got = wait_deliveries(deliveries_file, burst_ids, expected, 120 + expected / 20)
            worker_cpu = worker.cpu_seconds() - worker_cpu
            last = max(d[0] for d in got) if got else committed
            first = min(d[0] for d in got) if got else committed
            burst = {"events": len(burst_ids), "deliveries_expected": expected, "deliveries": len(got),
                     "batch_request_s": round(committed - sent, 2),
                     "seconds_from_commit": round(last - committed, 2),
                     "deliveries_per_s": round(len(got) / (last - committed), 1) if last > committed else None,
                     "first_delivery_after_commit_s": round(first - committed, 3),
                     "latency_ms": percentiles([(d[0] - d[3]) * 1000 for d in got]),
                     "worker_cpu_s": round(worker_cpu, 2),
                     "worker_cpu_utilisation": round(worker_cpu / max(0.001, time.time() - sent), 2),
                     "worker_cpu_ms_per_delivery": round(worker_cpu * 1000 / max(1, len(got)), 2)}
            burst["diagnosis"] = asyncio.run(_hook_diagnosis(url, sent - 1, time.time()))
            log(f"webhooks burst diagnosis: {burst['diagnosis']}")
            log(f"webhooks burst: {len(got):,}/{expected:,} deliveries in {burst['seconds_from_commit']} s after the "
                f"commit = {burst['deliveries_per_s']} deliveries/s")
            capacity = burst["deliveries_per_s"] or 1.0
            rate = max(0.5, min(preset["steady_max_rate"], 0.5 * capacity / n))
            log(f"webhooks steady: {rate:.1f} events/s for {preset['steady_seconds']:.0f} s "
                f"({rate * n:.0f} deliveries/s)")
            steady_from = time.time()
            ids, create_ms = asyncio.run(steady_creates(server.base_url, key, rate, preset["steady_seconds"]))
            got = wait_deliveries(deliveries_file, set(ids), len(ids) * n, 120)
            steady = {"events_per_s": round(rate, 2), "seconds": preset["steady_seconds"], "events": len(ids),
                      "deliveries_expected": len(ids) * n, "deliveries": len(got),
                      "latency_ms": percentiles([(d[0] - d[3]) * 1000 for d in got]),
                      "create_ms": percentiles(create_ms)}
            steady["diagnosis"] = asyncio.run(_hook_diagnosis(url, steady_from, time.time()))
            log(f"webhooks steady diagnosis: {steady['diagnosis']}")
            lat = steady["latency_ms"]
            log(f"webhooks steady: {len(got):,}/{len(ids) * n:,} delivered; event-to-delivery p50 {lat.get('p50')} ms, "
                f"p99 {lat.get('p99')} ms")
            worker_memory = worker.memory()
    return {"subscriptions": n, "burst": burst, "steady": steady, "worker_memory": worker_memory}


def run(args: argparse.Namespace) -> dict[str, Any]:
    preset = dict(PRESETS["quick" if args.quick else "full"])
    if args.rows is not None:
        preset["rows"] = args.rows
    pin_self(LOAD_CPU)
    env = stack_env(WEBHOOK_ALLOW_HOSTS="127.0.0.1")
    for name in ("LLM_BASE_URL", "LLM_MODEL", "LLM_API_KEY"):
        env.pop(name, None)
    own_redis_db(env, REDIS_DB)
    load_before = load_average()
    warnings: list[str] = []
    log(f"generating the CSV ({preset['rows']:,} rows)")
    path = make_csv(preset["rows"], args.seed)
    fakes_port = free_port()
    deliveries_file = Path(tempfile.gettempdir()) / f"tessera-bench-deliveries-{fakes_port}.tsv"
    deliveries_file.write_text("")
    try:
        with run_fakes(fakes_port, str(deliveries_file)) as fakes:
            env["MEILI_URL"] = fakes
            env["MEILI_INDEX_PREFIX"] = "benchtransfer"
            with bench_database(env, name=IMPORT_DATABASE) as url:
                env["DATABASE_URL"] = url
                first = create_workspace(env, "import-api")
                second = create_workspace(env, "import-cli")
                load_measure = load_average()
                with serve(env, free_port()) as server, api_client(server.base_url, first["api_key"]) as client:
                    with run_worker(env) as worker:
                        imported = api_import(client, server, worker, path, args.matching)
                        imported["search_outbox_pending_at_completion"] = asyncio.run(_pending_search(url))
                    log(f"API import: {imported['rows']:,} rows in {imported['processing_s']} s = "
                        f"{imported['rows_per_s']:,.0f} rows/s ({imported['rows_per_s_end_to_end']:,.0f} end to end); "
                        f"API peak RSS during upload {imported['api_peak_rss_during_upload_mib']} MiB, worker peak "
                        f"RSS {imported['worker_memory']['peak_rss_mib']} MiB")
                    api_memory = server.memory()
                cli = cli_import(env, int(second["workspace_id"]), path, args.matching)
                load_after_imports = load_average()
            hooks = webhooks(env, fakes, deliveries_file, preset)
    finally:
        deliveries_file.unlink(missing_ok=True)
    load_after = load_average()
    if max(load_measure[0], load_after_imports[0], load_after[0]) > 1.5:
        warnings.append(f"1-minute load average reached {max(load_measure[0], load_after_imports[0], load_after[0])} "
                        f"during the run: other work shared the machine")
    if imported.get("failed"):
        warnings.append(f"the API import refused {imported['failed']} rows")
    if not args.quick and args.start_load[0] >= 1.5:
        warnings.append(f"full run started with a 1-minute load average of {args.start_load[0]} (>= 1.5)")
    if args.quick:
        warnings.append(f"quick preset ({preset['rows']:,} rows, a {preset['burst']:,}-record burst), "
                        "not the issue's sizes: a development run")
    headline = {
        "api_import_rows_per_s": {"value": imported["rows_per_s"], "unit": "rows/s"},
        "cli_import_rows_per_s": {"value": cli["rows_per_s"], "unit": "rows/s"},
        "import_worker_peak_rss_mib": {"value": imported["worker_memory"]["peak_rss_mib"], "unit": "MiB"},
        "upload_api_peak_rss_mib": {"value": imported["api_peak_rss_during_upload_mib"], "unit": "MiB"},
        "cli_peak_rss_mib": {"value": cli["peak_rss_mib"], "unit": "MiB"},
        "webhook_deliveries_per_s": {"value": hooks["burst"]["deliveries_per_s"] or 0, "unit": "deliveries/s"},
        "webhook_latency_p50_ms": {"value": hooks["steady"]["latency_ms"].get("p50", 0), "unit": "ms"},
        "webhook_latency_p99_ms": {"value": hooks["steady"]["latency_ms"].get("p99", 0), "unit": "ms"},
    }
    return {
        "description": f"CSV import of {preset['rows']:,} rows (API and CLI); webhook fan-out to "
                       f"{preset['subscriptions']} subscriptions",
        "preset": "quick" if args.quick else "full",
        "settings": {**preset, "seed": args.seed, "matching": args.matching, "mapping": MAPPING,
                     "databases": [IMPORT_DATABASE, HOOK_DATABASE], "redis_db": REDIS_DB,
                     "meilisearch": "stand-in that accepts every document at once"},
        "warnings": warnings,
        "headline": headline,
        "load_average": {"start": args.start_load,
                         "before": load_before, "measuring": load_measure, "after_imports": load_after_imports,
                         "after": load_after},
        "csv": {"path": str(path), "bytes": path.stat().st_size, "rows": preset["rows"]},
        "api_import": imported,
        "cli_import": cli,
        "api_memory": api_memory,
        "webhooks": hooks,
    }


def main() -> None:
    parser = sized_parser(__doc__)
    parser.add_argument("--rows", type=int, default=None, help="CSV rows")
    parser.add_argument("--matching", action="store_true", help="upsert by email instead of creating")
    parser.add_argument("--seed", type=int, default=8)
    args = parser.parse_args()
    run_sized(NAME, run, args)


if __name__ == "__main__":
    main()
