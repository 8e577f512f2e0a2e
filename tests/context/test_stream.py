"""The insight stream (SSE) across two real API processes, with replay, resume and a cap."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest

from tessera.settings import Settings
from tests.conftest import Workspace, WorkspaceFactory
from tests.context.test_context import EMAIL
from tests.isolated import free_port

pytestmark = pytest.mark.usefixtures("worker")


@pytest.fixture(scope="module")
def servers(settings: Settings) -> Any:
    env = {**os.environ, "DATABASE_URL": settings.database_url, "REDIS_URL": settings.redis_url,
           "MEILI_INDEX_PREFIX": settings.meili_index_prefix, "LOG_LEVEL": "WARNING", "SSE_KEEPALIVE_SECONDS": "1",
           "SSE_MAX_STREAMS_PER_KEY": "3"}
    processes, urls = [], []
    for _ in range(2):
        port = free_port()
        processes.append(subprocess.Popen([sys.executable, "-m", "tessera.cli", "serve", "--port", str(port)],
                                          env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        urls.append(f"http://127.0.0.1:{port}")
    try:
        # 60 s: two processes starting side by side on a loaded 2-core machine took over 30
        deadline = time.monotonic() + 60
        for url in urls:
            while True:
                try:
                    if httpx.get(url + "/health", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, "API processes did not start"
                time.sleep(0.1)
        yield urls
    finally:  # also when they did not start: a process left running fails a later test's teardown
        for process in processes:
            process.terminate()
            process.wait(timeout=10)


@contextlib.asynccontextmanager
async def stream(url: str, key: str, last_event_id: str | None = None) -> AsyncIterator[Any]:
    headers = {"Authorization": f"Bearer {key}", "Accept": "text/event-stream"}
    if last_event_id:
        headers["Last-Event-ID"] = last_event_id
    async with httpx.AsyncClient(timeout=httpx.Timeout(30, read=30)) as http, \
            http.stream("GET", url + "/api/developers/v1/insights/stream", headers=headers) as response:
        yield response


async def next_event(lines: AsyncIterator[str], within: float = 20) -> dict[str, Any]:
    """The next event (``event``, ``id``, parsed ``data``); comments are counted as pings."""
    event: dict[str, Any] = {"pings": 0}
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        line = await asyncio.wait_for(anext(lines), timeout=max(0.1, deadline - time.monotonic()))
        if line.startswith(":"):
            event["pings"] += 1
        elif line.startswith("event:"):
            event["event"] = line.split(":", 1)[1].strip()
        elif line.startswith("id:"):
            event["id"] = line.split(":", 1)[1].strip()
        elif line.startswith("data:"):
            event["data"] = orjson.loads(line.split(":", 1)[1])
        elif not line and "event" in event:
            return event
    raise AssertionError("no event in time")


async def test_stream_crosses_processes_and_resumes(servers: list[str], make_workspace: WorkspaceFactory) -> None:
    ws = await make_workspace()
    other = await make_workspace()
    api_a, api_b = servers
    async with stream(api_b, ws.key) as response, stream(api_b, other.key) as foreign:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = response.aiter_lines()
        async with httpx.AsyncClient() as http:
            posted = await http.post(api_a + "/api/developers/v1/context/text", json={"content": EMAIL},
                                     headers={"Authorization": f"Bearer {ws.key}"})
            assert posted.status_code == 200
        event = await next_event(lines)
        assert event["event"] == "insight.batch.created"
        data = event["data"]
        assert data["insight_count"] == len(data["insights"]) >= 3
        assert data["workspace"]["id"] == ws.id
        assert event["id"] == data["insights"][-1]["id"]
        # The other workspace's stream saw nothing but keepalives.
        foreign_lines = foreign.aiter_lines()
        with pytest.raises((AssertionError, TimeoutError)):
            await next_event(foreign_lines, within=2)
        first_id = data["insights"][0]["id"]
    # Reconnecting replays recent insights; with Last-Event-ID only the ones after it.
    async with stream(api_a, ws.key) as response:
        replay = await next_event(response.aiter_lines())
        assert replay["event"] == "insight.replay" and replay["data"]["insight_count"] >= 3
    async with stream(api_a, ws.key, last_event_id=first_id) as response:
        resumed = await next_event(response.aiter_lines())
        assert resumed["event"] == "insight.replay"
        assert first_id not in {i["id"] for i in resumed["data"]["insights"]}
        assert len(resumed["data"]["insights"]) == data["insight_count"] - 1


async def test_keepalives_and_stream_cap(servers: list[str], ws: Workspace) -> None:
    async with stream(servers[0], ws.key) as one, stream(servers[1], ws.key) as two, \
            stream(servers[0], ws.key) as three:
        assert {one.status_code, two.status_code, three.status_code} == {200}
        lines = one.aiter_lines()
        started = time.monotonic()
        pings = 0
        while pings < 2 and time.monotonic() - started < 10:
            line = await asyncio.wait_for(anext(lines), timeout=10)
            pings += line.startswith(":")
        assert pings >= 2
        async with stream(servers[1], ws.key) as fourth:
            assert fourth.status_code == 429
            body = orjson.loads(await fourth.aread())
            assert body["code"] == 429
    # Closing streams frees their slots (at once, or when they go stale after 3 missed keepalives).
    deadline = time.monotonic() + 10
    while True:
        async with stream(servers[1], ws.key) as again:
            if again.status_code == 200:
                break
        assert time.monotonic() < deadline, "closed streams never freed their slots"
        await asyncio.sleep(0.5)
