"""Test fixtures. Everything runs against the real PostgreSQL, Redis and Meilisearch brought up by
``platform/stack/stack.sh`` (``make test`` does that first). The test database is dropped,
recreated and migrated once per session; tests isolate themselves by creating workspaces."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import pytest
from redis import Redis

from tessera.settings import Settings

API = "/api/developers"
os.environ.setdefault("TESSERA_ENV", "development")  # the worker/API subprocesses tests start


class FakeClock:
    """Real time plus an offset that tests may advance (never sleep to wait for time); ``freeze``
    stops it, so a slow machine cannot move time under a test that counts on it."""

    def __init__(self) -> None:
        self.offset = 0.0
        self.frozen: float | None = None

    def __call__(self) -> float:
        return (self.frozen if self.frozen is not None else time.time()) + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds

    def freeze(self) -> None:
        self.frozen = time.time()


def _test_urls() -> dict[str, str]:
    base = Settings()
    db = os.environ.get("TEST_DATABASE_URL") or base.database_url.rsplit("/", 1)[0] + "/tessera_test"
    redis = os.environ.get("TEST_REDIS_URL") or base.redis_url.rsplit("/", 1)[0] + "/1"
    return {"DATABASE_URL": db, "REDIS_URL": redis}


def _recreate_database(url: str) -> None:
    admin_url, name = url.rsplit("/", 1)

    async def run() -> None:
        conn = await asyncpg.connect(admin_url + "/postgres")
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    asyncio.run(run())


@pytest.fixture(scope="session")
def fake_google() -> Iterator[Any]:
    """A fake Google (OAuth and Gmail) on loopback, which the session's settings point the Google
    integration at (tests/fake_google.py)."""
    from tests.fake_google import serve_fake_google

    with serve_fake_google() as fake:
        yield fake


@pytest.fixture(scope="session")
def settings(fake_google: Any) -> Settings:
    from tests.fake_google import google_settings

    urls = _test_urls()
    os.environ.update(urls)
    _recreate_database(urls["DATABASE_URL"])
    Redis.from_url(urls["REDIS_URL"]).flushdb()
    test_settings = Settings(log_level="WARNING", auth_cache_seconds=30.0,
                             meili_index_prefix=f"tessera_test_{os.getpid()}",
                             webhook_allow_hosts="127.0.0.1",
                             # many tests send bad keys on purpose; the limit has its own test
                             auth_failures_per_ip_per_minute=1_000_000,
                             **google_settings(fake_google),
                             # scheduled compounding would merge other tests' insights; its tests run it
                             compounding_schedule="")
    from tessera.migrate import upgrade

    upgrade(test_settings)
    return test_settings


@pytest.fixture(scope="session")
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def fake_clock(clock: FakeClock) -> Any:
    """The app's clock, rewound to real time after the test."""
    yield clock
    clock.offset = 0.0
    clock.frozen = None


@pytest.fixture(scope="session")
async def app(settings: Settings, clock: FakeClock) -> AsyncIterator[Any]:
    from tessera.app import create_app

    application = create_app(settings, clock=clock, strict_tenant_scope=True)
    async with application.router.lifespan_context(application):
        await asyncio.wait_for(application.state.listener.connected.wait(), timeout=10)
        yield application


@pytest.fixture(scope="session")
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://tessera.test") as http:
        yield http


@dataclass
class Workspace:
    """A fresh workspace with its all-scopes key and a client that sends it."""

    id: str
    key: str
    http: httpx.AsyncClient

    def headers(self, key: str | None = None, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {key or self.key}", **extra}

    async def request(self, method: str, path: str, *, key: str | None = None,
                      headers: dict[str, str] | None = None, **kwargs: Any) -> httpx.Response:
        return await self.http.request(method, API + path, headers=self.headers(key, **(headers or {})),
                                       **kwargs)

    async def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.request("GET", path, **kwargs)

    async def post(self, path: str, json: Any = None, **kwargs: Any) -> httpx.Response:
        return await self.request("POST", path, json=json, **kwargs)

    async def put(self, path: str, json: Any = None, **kwargs: Any) -> httpx.Response:
        return await self.request("PUT", path, json=json, **kwargs)

    async def patch(self, path: str, json: Any = None, **kwargs: Any) -> httpx.Response:
        return await self.request("PATCH", path, json=json, **kwargs)

    async def delete(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.request("DELETE", path, **kwargs)

    async def new_key(self, scopes: list[str], **extra: Any) -> str:
        response = await self.post("/v1/api-keys", {"name": "test", "scopes": scopes, **extra})
        assert response.status_code == 200, response.text
        key: str = response.json()["key"]
        return key


WorkspaceFactory = Callable[..., Awaitable[Workspace]]


@pytest.fixture(scope="session")
async def make_workspace(app: Any, client: httpx.AsyncClient, clock: FakeClock) -> WorkspaceFactory:
    from tessera.workspaces import create_workspace

    state = app.state.tessera

    async def make(name: str = "test") -> Workspace:
        made = await create_workspace(state.engine, name=name,
                                      pepper=state.settings.key_pepper.get_secret_value().encode(),
                                      clock=clock)
        return Workspace(id=str(made.workspace_id), key=made.api_key, http=client)

    return make


@pytest.fixture
async def ws(make_workspace: WorkspaceFactory) -> Workspace:
    return await make_workspace()


@pytest.fixture(scope="session")
async def worker(app: Any, settings: Settings) -> AsyncIterator[Any]:
    """A real arq worker (search relay, sweeps) running in this process against the test Redis,
    PostgreSQL and Meilisearch; its index is dropped at the end of the session."""
    from arq.worker import Worker

    from workers.deps import DEPS_KEY, deps
    from workers.settings import build_worker_settings

    options = build_worker_settings(settings)
    running = Worker(**{**options, "handle_signals": False, "poll_delay": 0.05})
    task = asyncio.create_task(running.async_run())
    ctx = running.ctx
    for _ in range(200):
        if DEPS_KEY in ctx:
            break
        await asyncio.sleep(0.05)
    yield running
    if DEPS_KEY in ctx:
        for index in (deps(ctx).search, deps(ctx).memory_index):
            await index.client.wait_for_task(await index.client.delete_index(index.index_uid))
    await stop_worker(running, task)


async def stop_worker(worker: Any, task: asyncio.Task[Any]) -> None:
    """Stop an in-process arq worker and close everything it opened. A cancelled worker's
    ``close()`` stops at the jobs the cancel interrupted (CancelledError) before it runs
    ``on_shutdown`` or closes its Redis pool; left open, those connections fail the session at
    exit (unclosed-socket warnings once the loop is gone)."""
    from workers.lifecycle import shutdown

    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task
    with contextlib.suppress(asyncio.CancelledError):
        await worker.close()
    await shutdown(worker.ctx)  # runs once: after a complete close() it finds nothing left
    pool = worker._pool  # still set when close() stopped early
    if pool is not None:
        await pool.aclose(close_connection_pool=True)
        worker._pool = None


@pytest.fixture(scope="session")
async def db(app: Any) -> AsyncIterator[asyncpg.Connection]:
    """A raw connection for asserting what the database holds."""
    conn = await asyncpg.connect(app.state.tessera.settings.asyncpg_dsn)
    yield conn
    await conn.close()
