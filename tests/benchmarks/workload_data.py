"""Shared by the activity, search, context and transfer benchmarks: Tessera ids, latency sampling
over HTTP, a ``tessera worker`` in a subprocess, small PostgreSQL/Meilisearch utilities and records
loaded with COPY. The generated CRM text is in ``company_data``, the fake webhook receiver and
Meilisearch in ``fake_services``, py-spy profiling in ``profiling``.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import signal
import statistics
import subprocess
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from threading import Thread
from typing import Any

import httpx

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from harness import (  # noqa: E402
    BenchmarkError,
    bench_redis_url,
    pinned,
    process_cpu_seconds,
    process_memory,
    venv_bin,
    write_result,
)

from tessera.db.ids import compose_id  # noqa: E402

API = "/api/developers"
ARQ_HEALTH_KEY = "arq:queue:health-check"


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def asyncpg_url(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


def percentiles(samples_ms: Sequence[float]) -> dict[str, float]:
    """count, p50/p95/p99 (nearest rank), mean and max of latencies in ms."""
    if not samples_ms:
        return {"count": 0}
    ordered = sorted(samples_ms)

    def rank(p: float) -> float:
        return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]

    return {"count": len(ordered), "p50": round(rank(50), 3), "p95": round(rank(95), 3),
            "p99": round(rank(99), 3), "mean": round(statistics.fmean(ordered), 3), "max": round(ordered[-1], 3)}


def pin_self(cpu: int) -> bool:
    """Pin this process (the load generator) to ``cpu`` when the machine has 2+ CPUs."""
    if (os.cpu_count() or 1) < 2 or not hasattr(os, "sched_setaffinity"):
        return False
    os.sched_setaffinity(0, {cpu})
    return True


def tessera_id(unix_ms: int, sequence: int) -> int:
    """An id with the layout of the database's ``next_id()`` for a given time (its second)."""
    return compose_id(unix_ms / 1000, sequence)


def wait_for_quiet(quick: bool, force: bool, *, limit: float = 1.5, wait_s: float = 300.0) -> list[float]:
    """Before a full-size run: wait (up to ``wait_s``) for the 1-minute load average to drop below
    ``limit``, since a full run on a busy machine measures the other work. Returns the load
    average at the start; the caller records it and warns when it is still high."""
    load = [round(v, 2) for v in os.getloadavg()]
    if quick or force:
        return load
    deadline = time.monotonic() + wait_s
    while load[0] >= limit and time.monotonic() < deadline:
        log(f"1-minute load average {load[0]} >= {limit}: waiting for the machine to quiet down")
        time.sleep(15)
        load = [round(v, 2) for v in os.getloadavg()]
    return load


def sized_parser(doc: str | None) -> argparse.ArgumentParser:
    """The command line the sized benchmarks share: ``--quick`` and ``--force``."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes, for development")
    parser.add_argument("--force", action="store_true", help="do not wait for the load average to drop")
    return parser


def run_sized(name: str, run: Callable[[argparse.Namespace], Mapping[str, Any]], args: argparse.Namespace) -> None:
    """Wait for a quiet machine (full size only), run, write ``results/<name>.json`` and print
    the run's warnings; a ``BenchmarkError`` ends the process with its message."""
    args.start_load = wait_for_quiet(args.quick, args.force)
    try:
        result = write_result(name, run(args))
    except BenchmarkError as err:
        sys.exit(f"bench_{name}: {err}")
    for warning in result["warnings"]:
        log(f"warning: {warning}")


# -- HTTP --------------------------------------------------------------------------------------


def api_client(base_url: str, key: str, *, timeout: float = 60.0) -> httpx.Client:
    return httpx.Client(base_url=base_url + API, headers={"Authorization": f"Bearer {key}"}, timeout=timeout)


def timed(client: httpx.Client, method: str, url: str, *, json: Any = None, expect: int = 200
          ) -> tuple[float, httpx.Response]:
    """One request; its latency in ms (client side, keep-alive connection) and the response.
    ``BenchmarkError`` on any other status than ``expect``."""
    started = time.perf_counter()
    response = client.request(method, url, json=json)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != expect:
        raise BenchmarkError(f"{method} {url} answered {response.status_code}: {response.text[:500]}")
    return elapsed, response


def sample(client: httpx.Client, requests: Sequence[tuple[str, str, Any]], *, rounds: int, warmup: int = 5,
           check: Callable[[httpx.Response], None] | None = None) -> list[float]:
    """Latencies (ms) of ``rounds`` passes over ``requests`` ((method, url, body) each), one at a
    time, after ``warmup`` unmeasured requests."""
    for method, url, body in list(requests)[:warmup]:
        timed(client, method, url, json=body)
    out = []
    for _ in range(rounds):
        for method, url, body in requests:
            elapsed, response = timed(client, method, url, json=body)
            if check is not None:
                check(response)
            out.append(elapsed)
    return out


# -- the worker --------------------------------------------------------------------------------


@dataclass
class WorkerProcess:
    """A running ``tessera worker``; ``pid`` is the Python process itself."""

    process: subprocess.Popen[bytes]
    output_tail: deque[str] = field(default_factory=lambda: deque(maxlen=60))
    started_at: float = 0.0

    @property
    def pid(self) -> int:
        return self.process.pid

    def memory(self) -> dict[str, float]:
        return process_memory(self.pid)

    def cpu_seconds(self) -> float:
        return process_cpu_seconds(self.pid)

    def alive(self) -> bool:
        return self.process.poll() is None


def _drain(process: subprocess.Popen[bytes], tail: deque[str]) -> None:
    assert process.stdout is not None
    for raw in iter(process.stdout.readline, b""):
        tail.append(raw.decode("utf-8", "replace").rstrip())


def own_redis_db(env: dict[str, str], db: int) -> str:
    """Point ``env`` at Redis database ``db`` (instead of the shared benchmark database 2) and
    empty it: a benchmark that runs a worker must not share its job queue with any other worker,
    which would take its jobs and run them against another PostgreSQL database."""
    import redis

    url = bench_redis_url(env)
    base = url.rsplit("/", 1)[0]
    env["REDIS_URL"] = f"{base}/{db}"
    client = redis.Redis.from_url(env["REDIS_URL"])
    try:
        if client.exists(ARQ_HEALTH_KEY):
            raise BenchmarkError(f"an arq worker is running on {env['REDIS_URL']}; stop it and rerun")
        client.flushdb()
    finally:
        client.close()
    return env["REDIS_URL"]


def other_worker_alive(env: Mapping[str, str]) -> bool:
    """True when an arq worker is running on ``env``'s Redis database (its health-check key
    exists): it would take our jobs and run them against another database."""
    import redis

    client = redis.Redis.from_url(env.get("REDIS_URL") or bench_redis_url(env))
    try:
        return bool(client.exists(ARQ_HEALTH_KEY))
    finally:
        client.close()


@contextmanager
def run_worker(env: Mapping[str, str], *, cpu: int | None = None, check_others: bool = True
               ) -> Iterator[WorkerProcess]:
    """``tessera worker`` for the duration of the block (pinned to ``cpu`` if given). Refuses to
    start while another worker is alive on the same Redis database."""
    if check_others:
        deadline = time.monotonic() + 15
        while other_worker_alive(env):
            if time.monotonic() > deadline:
                raise BenchmarkError(f"another arq worker is running on {env.get('REDIS_URL')}; it would take "
                                     "this benchmark's jobs. Stop it (or wait for it to finish) and rerun.")
            time.sleep(1)
    argv = [venv_bin("tessera"), "worker"]
    if cpu is not None:
        argv = pinned(argv, cpu)
    process = subprocess.Popen(argv, env=dict(env), cwd=REPO, stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    worker = WorkerProcess(process, started_at=time.monotonic())
    drainer = Thread(target=_drain, args=(process, worker.output_tail), daemon=True)
    drainer.start()
    try:
        time.sleep(0.2)
        if process.poll() is not None:
            raise BenchmarkError("the worker exited at once:\n" + "\n".join(worker.output_tail))
        yield worker
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        drainer.join(timeout=5)


class PeakMemory:
    """Samples a process's VmHWM in a thread: the peak survives the process (read it after)."""

    def __init__(self, pid: int, interval: float = 0.5) -> None:
        self.pid = pid
        self.interval = interval
        self.peak_mib = 0.0
        self._stop = False
        self._thread = Thread(target=self._run, daemon=True)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop = True
        self._thread.join(timeout=5)
        self._read()

    def _read(self) -> None:
        with suppress(OSError, KeyError):
            self.peak_mib = max(self.peak_mib, process_memory(self.pid)["peak_rss_mib"])

    def _run(self) -> None:
        while not self._stop:
            self._read()
            time.sleep(self.interval)


# -- services ------------------------------------------------------------------------------------


def meili_headers(env: Mapping[str, str], *, encoding: str | None = "identity") -> dict[str, str]:
    headers = {"Content-Type": "application/json"}
    key = env.get("MEILI_MASTER_KEY", "")
    if key:
        headers["Authorization"] = f"Bearer {key}"
    if encoding is not None:
        headers["Accept-Encoding"] = encoding
    return headers


def delete_meili_index(env: Mapping[str, str], uid: str) -> None:
    """Delete a Meilisearch index and wait until it is gone (missing is fine)."""
    url = env.get("MEILI_URL", "http://127.0.0.1:7700").rstrip("/")
    with httpx.Client(base_url=url, headers=meili_headers(env), timeout=30) as client:
        reply = client.delete(f"/indexes/{uid}")
        if reply.status_code == 404:
            return
        reply.raise_for_status()
        task = reply.json()["taskUid"]
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            status = client.get(f"/tasks/{task}").json().get("status")
            if status in ("succeeded", "failed", "canceled"):
                return
            time.sleep(0.2)


def run_sql(url: str, statement: str, *args: Any) -> Any:
    """One statement on a fresh connection; its rows."""
    import asyncpg

    async def go() -> Any:
        conn = await asyncpg.connect(asyncpg_url(url))
        try:
            return await conn.fetch(statement, *args)
        finally:
            await conn.close()

    return asyncio.run(go())


def explain(url: str, statement: str, *args: Any) -> list[str]:
    """``EXPLAIN (ANALYZE, BUFFERS)`` of a statement, as text lines."""
    rows = run_sql(url, f"EXPLAIN (ANALYZE, BUFFERS) {statement}", *args)
    return [r[0] for r in rows]


def vacuum_analyze(url: str, tables: Sequence[str]) -> float:
    """``VACUUM ANALYZE`` the tables (as autovacuum would after a bulk load); seconds taken."""
    import asyncpg

    async def go() -> None:
        conn = await asyncpg.connect(asyncpg_url(url))
        try:
            for table in tables:
                await conn.execute(f"VACUUM ANALYZE {table}")
        finally:
            await conn.close()

    started = time.monotonic()
    asyncio.run(go())
    return round(time.monotonic() - started, 1)


# -- records with COPY -------------------------------------------------------------------------


async def load_object(url: str, workspace_id: int, slug: str) -> Any:
    """The product's ``ObjectDefinition`` of ``slug`` in a workspace."""
    from sqlalchemy.ext.asyncio import create_async_engine

    from tessera.db.tenant import Tenant
    from tessera.registry.repository import load_schema

    engine = create_async_engine(asyncpg_url(url).replace("postgresql://", "postgresql+asyncpg://", 1))
    try:
        async with engine.connect() as conn:
            obj = (await load_schema(Tenant(conn, workspace_id))).object(slug)
    finally:
        await engine.dispose()
    if obj is None:
        raise BenchmarkError(f"object {slug!r} not found in workspace {workspace_id}")
    return obj


def record_copy_rows(obj: Any, workspace_id: int, items: Iterable[dict[str, Any]], next_id: Callable[[], int],
                     created_by_id: str, now: datetime
                     ) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The ``records``, ``record_values`` and ``unique_values`` rows the product writes for these
    items (attribute dicts as the API takes them), built with its own ``validate_attributes``,
    ``add_value_rows`` and ``unique_keys``; ready for ``copy_records_to_table``."""
    import orjson

    from schema_registry.validation import validate_attributes
    from tessera.records.values import ValueRows, add_value_rows, unique_keys

    records: list[tuple[Any, ...]] = []
    claims: list[tuple[Any, ...]] = []
    values = ValueRows.empty()
    for item in items:
        validated = validate_attributes(obj, item, "create")
        record_id = next_id()
        snapshot = {}
        for slug, stored in validated.items():
            attribute = obj.attribute(slug)
            if attribute is None or not stored:
                continue
            snapshot[str(attribute.id)] = stored
            add_value_rows(values, record_id, attribute, stored)
            if attribute.is_unique:
                claims.extend((workspace_id, attribute.id, key, record_id) for key in unique_keys(attribute, stored))
        records.append((workspace_id, record_id, obj.id, None, orjson.dumps(snapshot).decode(),
                        "developer_api", created_by_id, now, now))
    value_rows = [(workspace_id, *row) for row in zip(*values.columns(), strict=True)]
    return records, value_rows, claims


async def copy_records(url: str, workspace_id: int, slug: str, items: Iterator[dict[str, Any]], total: int, *,
                       chunk: int = 5000, connections: int = 2, progress: Callable[[int], None] | None = None
                       ) -> dict[str, Any]:
    """COPY ``total`` records of ``slug`` (attribute dicts as the API takes them) with exactly the
    rows the product writes for them: ``records`` (the jsonb read model), ``record_values`` (the
    typed EAV rows) and ``unique_values``, each validated and normalised by the product's own
    ``validate_attributes``, ``add_value_rows`` and ``unique_keys``. Not written: the timeline
    event and outbox row a create also writes (nothing here reads them). One transaction per
    ``chunk`` records, ``connections`` in parallel."""
    import asyncpg

    obj = await load_object(url, workspace_id, slug)
    pool = [await asyncpg.connect(asyncpg_url(url), server_settings={"timezone": "UTC"})
            for _ in range(connections)]
    now = datetime.now(UTC)
    # Values of the product's own sequence, so these ids cannot share a second and low bits with
    # ids the API draws meanwhile.
    sequence = iter([r[0] for r in await pool[0].fetch(
        "SELECT nextval('tessera_id_seq') FROM generate_series(1, $1)", total)])
    done = 0
    value_count = 0
    started = time.monotonic()
    build_s = 0.0

    def build(size: int) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        millis = int(time.time() * 1000)

        def next_id() -> int:
            return tessera_id(millis, next(sequence))

        return record_copy_rows(obj, workspace_id, itertools.islice(items, size), next_id, "bench-copy", now)

    async def copy(conn: Any, rows: tuple[list[Any], list[Any], list[Any]]) -> None:
        records, values, claims = rows
        async with conn.transaction():
            await conn.copy_records_to_table("records", records=records, columns=[
                "workspace_id", "id", "object_id", "parent_record_id", "data", "created_by", "created_by_id",
                "created_at", "updated_at"])
            await conn.copy_records_to_table("record_values", records=values, columns=[
                "workspace_id", "record_id", "attribute_id", "ord", "facet", "v_text", "v_num", "v_ts", "v_bool",
                "v_json"])
            if claims:
                await conn.copy_records_to_table("unique_values", records=claims, columns=[
                    "workspace_id", "attribute_id", "value_key", "record_id"])

    try:
        while done < total:
            t = time.perf_counter()
            built = []
            for _ in pool:
                size = min(chunk, total - done - sum(len(b[0]) for b in built))
                if size > 0:
                    built.append(build(size))
            build_s += time.perf_counter() - t
            await asyncio.gather(*(copy(conn, rows) for conn, rows in zip(pool, built, strict=False)))
            done += sum(len(b[0]) for b in built)
            value_count += sum(len(b[1]) for b in built)
            if progress is not None:
                progress(done)
    finally:
        for conn in pool:
            await conn.close()
    seconds = time.monotonic() - started
    return {"records": done, "value_rows": value_count, "seconds": round(seconds, 1),
            "records_per_s": round(done / seconds, 1), "build_seconds": round(build_s, 1)}


