"""Indexing survives failure: a worker killed mid-batch, Meilisearch stopped under writes.
Runs against a database, a Redis database, a Meilisearch and workers of its own."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tessera.settings import Settings
from tests.isolated import IsolatedStack, WorkerProcess

OUTAGE_SECONDS = float(os.environ.get("TESSERA_TEST_OUTAGE_SECONDS", "30"))


async def pending(stack: IsolatedStack) -> int:
    return int(await stack.scalar(
        "SELECT count(*) FROM outbox WHERE topic = 'search' AND processed_at IS NULL"))


async def drained(stack: IsolatedStack, worker: WorkerProcess, within: float) -> None:
    deadline = time.monotonic() + within
    while await pending(stack):
        assert time.monotonic() < deadline, "the search outbox did not drain; worker log:\n" + worker.tail()
        await asyncio.sleep(0.2)


async def drift(stack: IsolatedStack) -> dict[str, Any]:
    from workers.search_maintenance import verify

    return await verify(stack.settings, workspace_id=None, repair=False)


@pytest.fixture(scope="module")
async def stack(settings: Settings) -> AsyncIterator[IsolatedStack]:
    async with IsolatedStack(settings, "resilience", redis_db=5) as isolated:
        yield isolated


async def test_worker_killed_mid_batch_loses_nothing(stack: IsolatedStack) -> None:
    worker = stack.worker()
    for round_ in range(4):
        body = {"records": [{"attributes": {"name": f"Kill {round_}-{i}", "employee_count": i}}
                            for i in range(500)]}
        assert (await stack.call("POST", "/v1/objects/company/records/batch", body)).status_code == 200
    worker.start()
    try:
        for _ in range(2):  # let it start working, then kill it without warning, twice
            deadline = time.monotonic() + 20
            while await pending(stack) >= 2000 and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
            worker.kill()
            worker.start()
        await drained(stack, worker, within=120)
    finally:
        worker.kill()
    report = await drift(stack)
    assert report["records"] >= 2000
    assert report["drift"] == 0, report


async def test_meilisearch_outage_under_writes_loses_nothing(stack: IsolatedStack) -> None:
    assert stack.meili is not None
    worker = stack.worker()
    worker.start()
    try:
        made: list[str] = []
        for i in range(20):
            made.append((await stack.call("POST", "/v1/objects/person", {"attributes": {"name": f"Before {i}"}}))
                        .json()["id"])
        await drained(stack, worker, within=60)
        stack.meili.stop()
        started = time.monotonic()
        degraded_seen = i = 0
        while time.monotonic() - started < OUTAGE_SECONDS:
            created = await stack.call("POST", "/v1/objects/person", {"attributes": {"name": f"During {i}"}})
            assert created.status_code == 200
            made.append(created.json()["id"])
            if i % 3 == 0:
                patched = await stack.call("PATCH", f"/v1/records/{made[-1]}", {"attributes": {"job_title": "moved"}})
                assert patched.status_code == 200
            if i % 5 == 0:
                assert (await stack.call("DELETE", f"/v1/records/{made.pop(0)}")).status_code == 200
            found = await stack.call("POST", "/v1/search", {"query": "During"})
            assert found.status_code == 200
            degraded_seen += found.json()["degraded"]
            i += 1
            await asyncio.sleep(0.2)
        assert degraded_seen > 0 and await pending(stack) > 0
        stack.meili.start()
        await drained(stack, worker, within=120)
        report = await drift(stack)
        assert report["drift"] == 0, report
        back = await stack.call("POST", "/v1/search", {"query": "During"})
        assert back.json()["degraded"] is False
    finally:
        worker.kill()
