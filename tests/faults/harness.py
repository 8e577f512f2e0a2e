"""Processes and services the fault-injection suite starts, breaks and stops.

Everything runs on 127.0.0.1 against PRIVATE PostgreSQL, Redis and Meilisearch instances that
``platform/stack/stack.sh`` starts in private mode (``STACK_PRIVATE=1``) on free high ports under
a temporary ``STACK_DIR``; the shared services (5432, 6379, 7700) are never touched. The API and
the workers are real subprocesses (``python -m tessera.cli serve|worker``), so ``kill -9`` is
real. Every process started here is stopped by its pid; every wait has a deadline.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import orjson

from tests.isolated import WorkerProcess, free_port

ROOT = Path(__file__).resolve().parents[2]
STACK_SH = ROOT / "platform" / "stack" / "stack.sh"
REPO_MEILI_BIN = ROOT / ".stack" / "meili" / "package" / "meilisearch"
PY = sys.executable
SHARED_PORTS = {5432, 6379, 7700}
API = "/api/developers"


def _private_port(taken: set[int]) -> int:
    for _ in range(100):
        port = free_port()
        if port not in SHARED_PORTS and port not in taken and port > 10_000:
            taken.add(port)
            return port
    raise RuntimeError("no free high port found")


def _tail(path: Path, lines: int = 25) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return f"({path} unreadable)"


async def wait_until(check: Callable[[], Awaitable[bool]], *, within: float, what: str,
                     every: float = 0.1, detail: Callable[[], str] | None = None) -> float:
    """Poll ``check`` until it is true; the seconds it took. Fails after ``within`` seconds."""
    started = time.monotonic()
    while True:
        if await check():
            return time.monotonic() - started
        if time.monotonic() - started > within:
            extra = ("\n" + detail()) if detail is not None else ""
            raise AssertionError(f"timed out after {within:.0f} s waiting for {what}{extra}")
        await asyncio.sleep(every)


class Services:
    """Private PostgreSQL, Redis and Meilisearch, brought up and down by the stack script."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="tessera-faults-"))
        os.chmod(self.dir, 0o755)  # noqa: S103 - the postgres OS user must reach $STACK_DIR/pg
        taken: set[int] = set()
        self.pg_port = _private_port(taken)
        self.redis_port = _private_port(taken)
        self.meili_port = _private_port(taken)
        self.env: dict[str, str] = {}

    @property
    def stack_env(self) -> dict[str, str]:
        return {**os.environ, "STACK_DIR": str(self.dir), "STACK_PRIVATE": "1", "PG_PORT": str(self.pg_port),
                "REDIS_PORT": str(self.redis_port), "MEILI_PORT": str(self.meili_port)}

    def _seed_meili(self) -> None:
        """Reuse the repository stack's verified binary (the script checks its sha256 again)
        rather than fetching it with npm for every run."""
        target = self.dir / "meili" / "package" / "meilisearch"
        if REPO_MEILI_BIN.exists() and not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(REPO_MEILI_BIN, target)
            except OSError:
                shutil.copy2(REPO_MEILI_BIN, target)

    def up(self) -> None:
        self._seed_meili()
        self.stack("up", timeout=240)
        env: dict[str, str] = {}
        for line in (self.dir / "env").read_text().splitlines():
            if "=" in line:
                key, value = line.split("=", 1)
                env[key] = value
        self.env = env

    def stack(self, command: str, *, timeout: float = 120) -> str:
        done = subprocess.run(["bash", str(STACK_SH), command], env=self.stack_env, capture_output=True,
                              text=True, timeout=timeout, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"stack.sh {command} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
        return done.stdout

    async def astack(self, command: str, *, timeout: float = 120) -> str:
        return await asyncio.to_thread(self.stack, command, timeout=timeout)

    def down(self, *, remove: bool = True) -> None:
        try:
            self.stack("down", timeout=180)
        finally:
            if remove:
                shutil.rmtree(self.dir, ignore_errors=True)

    # --- PostgreSQL ----------------------------------------------------------------------

    @property
    def server_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.pg_port}"

    @property
    def pg_data(self) -> Path:
        return self.dir / "pg" / "data"

    def pg_pid(self) -> int | None:
        try:
            return int((self.pg_data / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    @staticmethod
    def _pg_bin() -> Path:
        for candidate in [Path("/usr/lib/postgresql/15/bin"), *sorted(Path("/usr/lib/postgresql").glob("*/bin"),
                                                                      reverse=True)]:
            if (candidate / "pg_ctl").exists():
                return candidate
        raise RuntimeError("pg_ctl not found under /usr/lib/postgresql/*/bin")

    def _as_postgres(self, argv: list[str]) -> list[str]:
        return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv

    async def pg_stop(self) -> None:
        """Stop the private PostgreSQL (fast shutdown: sessions are terminated)."""
        argv = self._as_postgres([str(self._pg_bin() / "pg_ctl"), "-D", str(self.pg_data), "-m", "fast", "-w",
                                  "-t", "60", "stop"])
        proc = await asyncio.create_subprocess_exec(*argv, stdout=asyncio.subprocess.PIPE,
                                                    stderr=asyncio.subprocess.STDOUT, cwd=str(self.dir / "pg"))
        out, _ = await asyncio.wait_for(proc.communicate(), timeout=90)
        if proc.returncode != 0:
            raise RuntimeError(f"pg_ctl stop failed: {out.decode(errors='replace')}")

    async def pg_ready(self) -> bool:
        """Whether the private PostgreSQL accepts connections (pg_isready)."""
        proc = await asyncio.create_subprocess_exec(
            str(self._pg_bin() / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(self.pg_port), "-U", "postgres",
            "-d", "postgres", "-t", "1", stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
        return await asyncio.wait_for(proc.wait(), timeout=10) == 0

    # --- Redis ---------------------------------------------------------------------------

    def redis_pid(self) -> int | None:
        try:
            return int((self.dir / "redis" / "redis.pid").read_text().strip())
        except (OSError, ValueError):
            return None

    async def redis_stop(self) -> None:
        """Stop the private Redis by pid (it keeps nothing on disk: every key is gone)."""
        pid = self.redis_pid()
        assert pid is not None, "private redis has no pid file"
        os.kill(pid, signal.SIGTERM)
        await wait_until(lambda: _gone(pid), within=20, what=f"redis pid {pid} to exit")

    # --- Meilisearch ---------------------------------------------------------------------

    def meili_pid(self) -> int | None:
        try:
            return int((self.dir / "meili" / "meili.pid").read_text().strip())
        except (OSError, ValueError):
            return None

    async def meili_stop(self) -> None:
        pid = self.meili_pid()
        assert pid is not None, "private meilisearch has no pid file"
        os.kill(pid, signal.SIGTERM)
        await wait_until(lambda: _gone(pid), within=30, what=f"meilisearch pid {pid} to exit")

    async def restart_missing(self) -> None:
        """``stack.sh up`` again: restarts whichever private service is down."""
        await self.astack("up", timeout=180)


async def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state == "Z"


class ApiProcess:
    """``tessera serve`` (uvicorn, one process) as a subprocess, killable with -9."""

    def __init__(self, env: dict[str, str], log_dir: Path, name: str = "api") -> None:
        self.env = env
        self.port = _private_port(set())
        self.log = log_dir / f"{name}-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        assert self.process is None or self.process.poll() is not None, "API already running"
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [PY, "-m", "tessera.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port)],
                env={**os.environ, **self.env}, stdout=log, stderr=log, cwd=str(ROOT))
        self.starts += 1

    async def wait_ready(self, within: float = 30) -> float:
        async with httpx.AsyncClient(timeout=2.0) as http:
            async def up() -> bool:
                assert self.process is not None and self.process.poll() is None, \
                    f"API exited with {self.process and self.process.returncode}:\n{_tail(self.log)}"
                try:
                    return (await http.get(self.base + "/health")).status_code in (200, 503)
                except httpx.HTTPError:
                    return False
            return await wait_until(up, within=within, what=f"the API on port {self.port}", every=0.05,
                                    detail=lambda: _tail(self.log))

    def kill(self) -> None:
        """SIGKILL: no shutdown hooks, in-flight requests and transactions are cut."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)
        self.process = None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.send_signal(signal.SIGKILL)
                self.process.wait(timeout=10)
        self.process = None

    def tail(self) -> str:
        return _tail(self.log)


@dataclass
class Deployment:
    """One scenario's own database, Redis database and search index prefix on the private
    services, its API/worker processes and a workspace with an all-scopes key."""

    services: Services
    name: str
    redis_db: int
    log_dir: Path
    database_url: str = ""
    key: str = ""
    workspace_id: str = ""
    apis: list[ApiProcess] = field(default_factory=list)
    workers: list[WorkerProcess] = field(default_factory=list)
    db_host_port: str = ""

    def env(self, **overrides: str) -> dict[str, str]:
        env = {"DATABASE_URL": self.database_url,
               "REDIS_URL": f"redis://127.0.0.1:{self.services.redis_port}/{self.redis_db}",
               "MEILI_URL": self.services.env["MEILI_URL"], "MEILI_MASTER_KEY": self.services.env["MEILI_MASTER_KEY"],
               "MEILI_INDEX_PREFIX": f"faults_{self.name}", "LOG_LEVEL": "WARNING",
               "RATE_LIMIT_DEFAULT_PER_MINUTE": "100000000", "RATE_LIMIT_WORKSPACE_PER_MINUTE": "100000000",
               "WEBHOOK_ALLOW_HOSTS": "127.0.0.1",
               "TESSERA_FAULTS": "1"}
        env.update(overrides)
        return env

    async def create(self) -> Deployment:
        conn = await asyncpg.connect(self.services.server_url + "/postgres")
        try:
            db = f"faults_{self.name}"
            await conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
            await conn.execute(f'CREATE DATABASE "{db}"')
        finally:
            await conn.close()
        self.database_url = f"{self.services.server_url}/faults_{self.name}"
        await self.cli("migrate")
        made = orjson.loads(await self.cli("admin", "create-workspace", "--name", self.name))
        self.key, self.workspace_id = made["api_key"], made["workspace_id"]
        return self

    async def cli(self, *args: str, env: dict[str, str] | None = None, timeout: float = 120) -> str:
        proc = await asyncio.create_subprocess_exec(
            PY, "-m", "tessera.cli", *args, env={**os.environ, **(env or self.env())}, cwd=str(ROOT),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        try:
            out, err = await asyncio.wait_for(proc.communicate(), timeout=timeout)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            raise AssertionError(f"tessera {' '.join(args)} did not finish within {timeout} s") from None
        assert proc.returncode == 0, f"tessera {' '.join(args)} failed ({proc.returncode}): {err.decode()[-2000:]}"
        return out.decode()

    def api(self, **env: str) -> ApiProcess:
        api = ApiProcess(self.env(**env), self.log_dir, f"api-{self.name}")
        self.apis.append(api)
        return api

    def worker(self, **env: str) -> WorkerProcess:
        worker = WorkerProcess(self.env(**env))
        self.workers.append(worker)
        return worker

    def stop_all(self) -> None:
        for api in self.apis:
            api.kill()
        for worker in self.workers:
            worker.kill()
            with contextlib.suppress(OSError):
                shutil.copy(worker.log, self.log_dir / f"worker-{self.name}-{worker.log.name}")
                worker.log.unlink()

    async def sql(self, query: str, *args: Any) -> list[asyncpg.Record]:
        conn = await asyncpg.connect(self.database_url, timeout=10)
        try:
            return list(await conn.fetch(query, *args))
        finally:
            await conn.close()

    async def scalar(self, query: str, *args: Any) -> Any:
        rows = await self.sql(query, *args)
        return rows[0][0] if rows else None

    async def attribute_id(self, object_slug: str, attribute_slug: str) -> int:
        found = await self.scalar(
            "SELECT a.id FROM attribute_definitions a JOIN object_definitions o "
            "ON o.workspace_id = a.workspace_id AND o.id = a.object_id "
            "WHERE o.workspace_id = $1 AND o.slug = $2 AND a.slug = $3", int(self.workspace_id), object_slug,
            attribute_slug)
        assert found is not None, f"no attribute {object_slug}.{attribute_slug}"
        return int(found)

    async def object_id(self, slug: str) -> int:
        return int(await self.scalar("SELECT id FROM object_definitions WHERE workspace_id = $1 AND slug = $2",
                                     int(self.workspace_id), slug))

    async def search_pending(self) -> int:
        return int(await self.scalar(
            "SELECT count(*) FROM outbox WHERE topic = 'search' AND processed_at IS NULL"))

    async def verify_search(self) -> dict[str, Any]:
        """``tessera search verify`` (workers.search_maintenance.verify): drift between
        PostgreSQL and the index. Exit 1 means drift; the JSON report is on stdout either way."""
        proc = await asyncio.create_subprocess_exec(
            PY, "-m", "tessera.cli", "search", "verify", env={**os.environ, **self.env()}, cwd=str(ROOT),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await asyncio.wait_for(proc.communicate(), timeout=180)
        assert proc.returncode in (0, 1), f"search verify failed ({proc.returncode}): {err.decode()[-2000:]}"
        report: dict[str, Any] = orjson.loads(out.decode().strip().splitlines()[-1])
        return report

    def client(self, api: ApiProcess, timeout: float = 30.0) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=api.base + API, timeout=timeout,
                                 headers={"Authorization": f"Bearer {self.key}"},
                                 limits=httpx.Limits(max_connections=50, max_keepalive_connections=20))


def figure_line(name: str, figures: dict[str, Any]) -> str:
    return f"[faults] {name}: " + ", ".join(f"{k}={v}" for k, v in figures.items())
