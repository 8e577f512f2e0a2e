"""Indexing survives failure: a worker killed mid-batch, Meilisearch stopped under writes.
Runs against a database, a Redis database, a Meilisearch and workers of its own."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from redis import Redis

from tessera.settings import Settings
from tessera.workspaces import create_workspace
from tests.conftest import API
from tests.isolated import PrivateMeili, WorkerProcess, fresh_database

OUTAGE_SECONDS = float(os.environ.get("TESSERA_TEST_OUTAGE_SECONDS", "30"))


class Env:
    def __init__(self, settings: Settings, meili: PrivateMeili, http: httpx.AsyncClient, key: str,
                 app: Any) -> None:
        self.settings = settings
        self.meili = meili
        self.http = http
        self.key = key
        self.app = app

    def worker_env(self) -> dict[str, str]:
        return {"DATABASE_URL": self.settings.database_url, "REDIS_URL": self.settings.redis_url,
                "MEILI_URL": self.meili.url, "MEILI_MASTER_KEY": self.meili.key,
                "MEILI_INDEX_PREFIX": self.settings.meili_index_prefix, "LOG_LEVEL": "WARNING"}

    async def call(self, method: str, path: str, body: Any = None) -> httpx.Response:
        return await self.http.request(method, API + path, json=body, headers={"Authorization": f"Bearer {self.key}"})

    async def pending(self) -> int:
        async with self.app.state.tessera.engine.connect() as conn:
            from sqlalchemy import text

            return int((await conn.execute(text(
                "SELECT count(*) FROM outbox WHERE workspace_id IS NOT NULL AND topic = 'search' "
                "AND processed_at IS NULL"))).scalar_one())

    async def drained(self, within: float, worker: WorkerProcess | None = None) -> None:
        deadline = time.monotonic() + within
        while await self.pending():
            assert time.monotonic() < deadline, "the search outbox did not drain; worker log:\n" + (
                worker.tail() if worker else "")
            await asyncio.sleep(0.2)

    async def verify(self, repair: bool = False) -> dict[str, Any]:
        from workers.search_maintenance import verify

        return await verify(self.settings, workspace_id=None, repair=repair)


@pytest.fixture(scope="module")
async def env(settings: Settings) -> AsyncIterator[Env]:
    url = await fresh_database(settings.database_url, "tessera_test_resilience")
    redis_url = settings.redis_url.rsplit("/", 1)[0] + "/5"
    Redis.from_url(redis_url).flushdb()
    meili = PrivateMeili()
    meili.start()
    from pydantic import SecretStr

    from tessera.app import create_app

    private = settings.model_copy(update={"database_url": url, "redis_url": redis_url, "meili_url": meili.url,
                                          "meili_master_key": SecretStr(meili.key),
                                          "meili_index_prefix": "resilience"})
    app: Any = create_app(private)
    try:
        async with app.router.lifespan_context(app):
            made = await create_workspace(app.state.tessera.engine, name="resilience",
                                          pepper=private.key_pepper.get_secret_value().encode(),
                                          clock=time.time)
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
                yield Env(private, meili, http, made.api_key, app)
    finally:
        meili.destroy()


async def test_worker_killed_mid_batch_loses_nothing(env: Env) -> None:
    worker = WorkerProcess(env.worker_env())
    for round_ in range(4):
        body = {"records": [{"attributes": {"name": f"Kill {round_}-{i}", "employee_count": i}}
                            for i in range(500)]}
        assert (await env.call("POST", "/v1/objects/company/records/batch", body)).status_code == 200
    worker.start()
    try:
        # Let it start working, then kill it without warning, twice.
        for _ in range(2):
            deadline = time.monotonic() + 20
            while await env.pending() >= 2000 and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
            worker.kill()
            worker.start()
        await env.drained(within=120, worker=worker)
    finally:
        worker.kill()
    report = await env.verify()
    assert report["records"] >= 2000
    assert report["drift"] == 0, report


async def test_meilisearch_outage_under_writes_loses_nothing(env: Env) -> None:
    worker = WorkerProcess(env.worker_env())
    worker.start()
    try:
        made: list[str] = []
        for i in range(20):
            made.append((await env.call("POST", "/v1/objects/person", {"attributes": {"name": f"Before {i}"}}))
                        .json()["id"])
        await env.drained(within=60, worker=worker)
        env.meili.stop()
        started = time.monotonic()
        degraded_seen = 0
        i = 0
        while time.monotonic() - started < OUTAGE_SECONDS:
            created = await env.call("POST", "/v1/objects/person", {"attributes": {"name": f"During {i}"}})
            assert created.status_code == 200
            made.append(created.json()["id"])
            if i % 3 == 0:
                assert (await env.call("PATCH", f"/v1/records/{made[-1]}", {"attributes": {"job_title": "moved"}})
                        ).status_code == 200
            if i % 5 == 0:
                assert (await env.call("DELETE", f"/v1/records/{made.pop(0)}")).status_code == 200
            found = await env.call("POST", "/v1/search", {"query": "During"})
            assert found.status_code == 200
            degraded_seen += found.json()["degraded"]
            i += 1
            await asyncio.sleep(0.2)
        assert degraded_seen > 0
        assert await env.pending() > 0
        env.meili.start()
        await env.drained(within=120, worker=worker)
        report = await env.verify()
        assert report["drift"] == 0, report
        back = await env.call("POST", "/v1/search", {"query": "During"})
        assert back.json()["degraded"] is False
    finally:
        worker.kill()
