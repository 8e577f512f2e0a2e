"""Private services for tests that must break things (stop Meilisearch, kill -9 a worker) without
touching the shared ones: a database of its own, a Meilisearch process on a free port, worker
subprocesses. Every process started here is stopped by pid."""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from tessera.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
MEILI_BIN = ROOT / ".stack" / "meili" / "package" / "meilisearch"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def fresh_database(base_url: str, name: str) -> str:
    """Drop and recreate database ``name`` on the server of ``base_url``; migrate it."""
    server = base_url.rsplit("/", 1)[0]
    conn = await asyncpg.connect(server + "/postgres")
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    url = f"{server}/{name}"
    from tessera.migrate import upgrade

    await asyncio.to_thread(upgrade, Settings(database_url=url))
    return url


class PrivateMeili:
    """A Meilisearch process of the test's own (the stack's verified binary, a temp data dir)."""

    def __init__(self) -> None:
        if not MEILI_BIN.exists():
            raise RuntimeError(f"{MEILI_BIN} missing: run platform/stack/stack.sh up (make test does)")
        self.port = free_port()
        self.key = secrets.token_hex(16)
        self.data = Path(tempfile.mkdtemp(prefix="tessera-meili-"))
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        env = {**os.environ, "MEILI_MASTER_KEY": self.key, "MEILI_NO_ANALYTICS": "true"}
        self.process = subprocess.Popen(
            [str(MEILI_BIN), "--http-addr", f"127.0.0.1:{self.port}", "--db-path", str(self.data / "db"),
             "--dump-dir", str(self.data / "dumps"), "--env", "development"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/health", timeout=0.5).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("private Meilisearch did not become healthy within 30 s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)
        self.process = None

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.data, ignore_errors=True)


class WorkerProcess:
    """``tessera worker`` as a subprocess with the given settings, so it can be killed with -9."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.process: subprocess.Popen[bytes] | None = None
        self.log = Path(tempfile.mkstemp(prefix="tessera-worker-", suffix=".log")[1])

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen([sys.executable, "-m", "tessera.cli", "worker"],
                                            env={**os.environ, **self.env}, stdout=log, stderr=log)

    def tail(self, lines: int = 30) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)
        self.process = None


class IsolatedStack:
    """A database, a Redis database and (optionally) a Meilisearch of a test's own, an app over
    them and a workspace with an all-scopes key; workers run as subprocesses (``worker()``)."""

    def __init__(self, base: Settings, name: str, redis_db: int, *, meili: bool = True,
                 overrides: dict[str, object] | None = None) -> None:
        self.base = base
        self.name = name
        self.redis_db = redis_db
        self.meili = PrivateMeili() if meili else None
        self.overrides = overrides or {}
        self.settings = base
        self.app: object = None
        self.key = ""
        self.workspace_id = 0

    def worker_env(self) -> dict[str, str]:
        env = {"DATABASE_URL": self.settings.database_url, "REDIS_URL": self.settings.redis_url,
               "MEILI_INDEX_PREFIX": self.settings.meili_index_prefix, "LOG_LEVEL": "WARNING",
               "WEBHOOK_ALLOW_HOSTS": self.settings.webhook_allow_hosts}
        if self.meili is not None:
            env.update({"MEILI_URL": self.meili.url, "MEILI_MASTER_KEY": self.meili.key})
        return env

    def worker(self) -> WorkerProcess:
        return WorkerProcess(self.worker_env())

    async def __aenter__(self) -> IsolatedStack:
        from pydantic import SecretStr
        from redis import Redis

        from tessera.app import create_app
        from tessera.workspaces import create_workspace

        url = await fresh_database(self.base.database_url, f"tessera_test_{self.name}")
        redis_url = self.base.redis_url.rsplit("/", 1)[0] + f"/{self.redis_db}"
        Redis.from_url(redis_url).flushdb()
        update: dict[str, object] = {"database_url": url, "redis_url": redis_url, "meili_index_prefix": self.name,
                                     **self.overrides}
        if self.meili is not None:
            self.meili.start()
            update.update({"meili_url": self.meili.url, "meili_master_key": SecretStr(self.meili.key)})
        self.settings = self.base.model_copy(update=update)
        app: Any = create_app(self.settings)
        self._lifespan = app.router.lifespan_context(app)
        await self._lifespan.__aenter__()
        self.app = app
        made = await create_workspace(app.state.tessera.engine, name=self.name,
                                      pepper=self.settings.key_pepper.get_secret_value().encode(), clock=time.time)
        self.key, self.workspace_id = made.api_key, made.workspace_id
        self.http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://isolated")
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.http.aclose()
        await self._lifespan.__aexit__(None, None, None)
        if self.meili is not None:
            self.meili.destroy()

    async def call(self, method: str, path: str, body: Any = None) -> httpx.Response:
        return await self.http.request(method, "/api/developers" + path, json=body,
                                       headers={"Authorization": f"Bearer {self.key}"})

    async def scalar(self, sql: str, *args: Any) -> Any:
        conn = await asyncpg.connect(self.settings.asyncpg_dsn)
        try:
            return await conn.fetchval(sql, *args)
        finally:
            await conn.close()
