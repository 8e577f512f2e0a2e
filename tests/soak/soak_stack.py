"""The soak's stack: its own database, Redis database and Meilisearch prefix, and the API and
worker subprocesses it starts, watches (RSS of a process and its children) and stops."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict, deque
from dataclasses import dataclass, field
from pathlib import Path
from threading import Thread

import asyncpg
import httpx

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "benchmarks"))
from harness import SERVER_CPU, pinned  # noqa: E402  (the benchmarks' helpers live beside them)

NAME = "soak"
DATABASE = "tessera_soak"
REDIS_DB = 3
MEILI_PREFIX = "tessera_soak"
API = "/api/developers"


def log(message: str) -> None:
    print(message, flush=True)


# -- environment -------------------------------------------------------------------------------


def stack_env() -> dict[str, str]:
    """The environment, completed from ``.stack/env`` when ``make`` did not export it."""
    env = dict(os.environ)
    stack_file = REPO / ".stack" / "env"
    if "DATABASE_URL" not in env and stack_file.exists():
        for line in stack_file.read_text().splitlines():
            name, sep, value = line.partition("=")
            if sep and name.strip() and not name.startswith("#"):
                env.setdefault(name.strip(), value.strip().strip('"').strip("'"))
    if "DATABASE_URL" not in env:
        raise SystemExit("run_soak: DATABASE_URL is not set; run `make soak` or `set -a; source .stack/env; set +a`")
    env.setdefault("TESSERA_ENV", "development")  # the local stack's API and worker run on the development pepper
    return env


def with_database(url: str, name: str) -> str:
    return url.rsplit("/", 1)[0] + "/" + name


def with_redis_db(url: str, number: int) -> str:
    base, _, last = url.rpartition("/")
    if base.endswith(":/") or not last.isdigit():
        return url.rstrip("/") + f"/{number}"
    return f"{base}/{number}"


def asyncpg_url(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def recreate_database(url: str) -> None:
    server = asyncpg_url(url).rsplit("/", 1)[0]
    name = url.rsplit("/", 1)[1]
    conn = await asyncpg.connect(f"{server}/postgres")
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def flush_redis_db(url: str) -> None:
    """Empty the soak's own Redis database (rate-limit state and queued jobs of an earlier run)."""
    from redis.asyncio import Redis  # the project's dependency, imported late: only the soak needs it

    client = Redis.from_url(url)
    try:
        await client.flushdb()
    finally:
        await client.aclose()


async def drop_meili_indexes(env: dict[str, str]) -> int:
    """Delete the Meilisearch indexes of an earlier soak (prefix ``MEILI_PREFIX``); returns how many."""
    url = env.get("MEILI_URL", "http://127.0.0.1:7700").rstrip("/")
    headers = {"Authorization": f"Bearer {env['MEILI_MASTER_KEY']}"} if env.get("MEILI_MASTER_KEY") else {}
    dropped = 0
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as client:
        reply = await client.get("/indexes", params={"limit": 1000})
        reply.raise_for_status()
        for index in reply.json().get("results", []):
            if str(index.get("uid", "")).startswith(MEILI_PREFIX + "_") or index.get("uid") == MEILI_PREFIX:
                (await client.delete(f"/indexes/{index['uid']}")).raise_for_status()
                dropped += 1
    return dropped


# -- processes ---------------------------------------------------------------------------------


@dataclass
class Proc:
    label: str
    process: subprocess.Popen[bytes]
    tail: deque[str] = field(default_factory=lambda: deque(maxlen=60))
    warnings: Counter[str] = field(default_factory=Counter)

    @property
    def pid(self) -> int:
        return self.process.pid


def _drain(proc: Proc) -> None:
    assert proc.process.stdout is not None
    for raw in iter(proc.process.stdout.readline, b""):
        line = raw.decode("utf-8", "replace").rstrip()
        proc.tail.append(line)
        lowered = line.lower()
        # Structured logs (JSON) carry "level"; count what is worth a look afterwards.
        for level in ("error", "critical", "exception", "traceback"):
            if f'"level": "{level}"' in lowered or f'"level":"{level}"' in lowered or lowered.startswith(level):
                proc.warnings[level] += 1


def start(label: str, argv: list[str], env: dict[str, str]) -> Proc:
    process = subprocess.Popen(pinned(argv, SERVER_CPU), env=env, cwd=REPO, stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    proc = Proc(label, process)
    Thread(target=_drain, args=(proc,), daemon=True).start()
    return proc


def stop(proc: Proc) -> int | None:
    if proc.process.poll() is None:
        proc.process.send_signal(signal.SIGTERM)
        try:
            proc.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.process.kill()
            proc.process.wait(timeout=10)
    return proc.process.returncode


def descendants(pid: int) -> list[int]:
    """``pid`` and every process below it (the worker may fork)."""
    children: dict[int, list[int]] = defaultdict(list)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        children[ppid].append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, ()))
    return found


def rss_mib(pid: int) -> float:
    """Resident memory of ``pid`` and its descendants, in MiB (0 when it is gone)."""
    total = 0
    for member in descendants(pid):
        try:
            for line in Path(f"/proc/{member}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return round(total / 1024, 1)


async def wait_healthy(proc: Proc, base_url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    last = "no answer"
    async with httpx.AsyncClient(timeout=2.0) as client:
        while time.monotonic() < deadline:
            if proc.process.poll() is not None:
                raise RuntimeError(f"{proc.label} exited with {proc.process.returncode}:\n" + "\n".join(proc.tail))
            try:
                reply = await client.get(base_url + "/health")
                if reply.status_code == 200:
                    return
                last = f"HTTP {reply.status_code} {reply.text[:200]}"
            except httpx.HTTPError as err:
                last = repr(err)
            await asyncio.sleep(0.2)
    raise RuntimeError(f"{proc.label} not healthy after {timeout:.0f} s ({last}):\n" + "\n".join(proc.tail))


# -- data --------------------------------------------------------------------------------------
