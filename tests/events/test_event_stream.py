"""The change stream over SSE across real API processes: a write in one process reaches a stream
held on another; a stream resumed with Last-Event-ID has no gap and no duplicate; filters and
scopes apply; other workspaces' events never show."""

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
from tests.isolated import free_port

pytestmark = pytest.mark.usefixtures("worker")


@pytest.fixture(scope="module")
def servers(settings: Settings) -> Any:
    env = {**os.environ, "DATABASE_URL": settings.database_url, "REDIS_URL": settings.redis_url,
           "MEILI_INDEX_PREFIX": settings.meili_index_prefix, "LOG_LEVEL": "WARNING", "SSE_KEEPALIVE_SECONDS": "1"}
    processes, urls = [], []
    for _ in range(2):
        port = free_port()
        processes.append(subprocess.Popen([sys.executable, "-m", "tessera.cli", "serve", "--port", str(port)],
                                          env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        urls.append(f"http://127.0.0.1:{port}")
    deadline = time.monotonic() + 120  # two processes starting on a loaded machine
    for url in urls:
        while True:
            try:
                if httpx.get(url + "/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "API processes did not start"
            time.sleep(0.1)
    yield urls
    for process in processes:
        process.terminate()
        process.wait(timeout=10)


@contextlib.asynccontextmanager
async def stream(url: str, key: str, query: str = "", last_event_id: str | None = None) -> AsyncIterator[Any]:
    headers = {"Authorization": f"Bearer {key}", "Accept": "text/event-stream"}
    if last_event_id:
        headers["Last-Event-ID"] = last_event_id
    async with httpx.AsyncClient(timeout=httpx.Timeout(30, read=30)) as http, \
            http.stream("GET", f"{url}/api/developers/v1/events/stream{query}", headers=headers) as response:
        yield response


async def next_event(lines: AsyncIterator[str], within: float = 20) -> dict[str, Any]:
    """The next event (``event``, ``id``, parsed ``data``); keepalive comments are skipped."""
    event: dict[str, Any] = {}
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        line = await asyncio.wait_for(anext(lines), timeout=max(0.1, deadline - time.monotonic()))
        if line.startswith("event:"):
            event["event"] = line.split(":", 1)[1].strip()
        elif line.startswith("id:"):
            event["id"] = line.split(":", 1)[1].strip()
        elif line.startswith("data:"):
            event["data"] = orjson.loads(line.split(":", 1)[1])
        elif not line and "event" in event:
            return event
    raise AssertionError("no event in time")


async def person(ws: Workspace, name: str, url: str | None = None) -> str:
    if url is None:  # through the in-process app: a third API instance on the same database
        response = await ws.post("/v1/objects/person", {"attributes": {"name": name}})
    else:
        async with httpx.AsyncClient() as http:
            response = await http.post(f"{url}/api/developers/v1/objects/person",
                                       json={"attributes": {"name": name}}, headers=ws.headers())
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


async def test_writes_in_other_processes_reach_the_stream(servers: list[str], make_workspace: WorkspaceFactory
                                                          ) -> None:
    ws, other = await make_workspace(), await make_workspace()
    await person(ws, "Before the stream")
    api_a, api_b = servers
    async with stream(api_b, ws.key) as response, stream(api_b, other.key) as foreign:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = response.aiter_lines()
        first = await person(ws, "From process A", api_a)
        second = await person(ws, "From the test's app")
        events = [await next_event(lines), await next_event(lines)]
        # Without a cursor the stream starts now: what was written before it opened is not replayed.
        assert [(e["event"], e["data"]["data"]["id"]) for e in events] == [("record.created", first),
                                                                           ("record.created", second)]
        assert all(e["id"] == e["data"]["id"] and e["data"]["type"] == e["event"] for e in events)
        listed = (await ws.get(f"/v1/events?cursor={int(events[0]['id']) - 1}")).json()["data"]
        assert listed == [e["data"] for e in events]  # the paged list and the stream say the same
        with pytest.raises((AssertionError, TimeoutError)):
            await next_event(foreign.aiter_lines(), within=2)


async def test_resumed_stream_has_no_gap_and_no_duplicate(servers: list[str], ws: Workspace) -> None:
    api_a, api_b = servers
    async with stream(api_a, ws.key) as response:
        lines = response.aiter_lines()
        writer = asyncio.create_task(_write_people(ws, api_b, "First", 6))
        received = [await next_event(lines) for _ in range(3)]
        last_seen = received[-1]["id"]
    # Disconnected while the writer goes on; more are written before and after the reconnect.
    await writer
    await person(ws, "While away", api_b)
    async with stream(api_b, ws.key, last_event_id=last_seen) as response:
        assert response.status_code == 200
        lines = response.aiter_lines()
        writer = asyncio.create_task(_write_people(ws, api_a, "Second", 3))
        resumed = [await next_event(lines) for _ in range(3 + 1 + 3)]
        await writer
        with pytest.raises((AssertionError, TimeoutError)):
            await next_event(lines, within=2)
    got = [e["data"]["data"]["attributes"]["name"] for e in received + resumed]
    assert got == [f"First {i}" for i in range(6)] + ["While away"] + [f"Second {i}" for i in range(3)]
    ids = [int(e["id"]) for e in received + resumed]
    assert ids == sorted(ids) and len(set(ids)) == len(ids) == 10
    # The stream and the paged list agree event for event.
    listed = (await ws.get(f"/v1/events?cursor={ids[0] - 1}")).json()["data"]
    assert [int(e["id"]) for e in listed] == ids


async def _write_people(ws: Workspace, url: str, prefix: str, count: int) -> None:
    for i in range(count):
        await person(ws, f"{prefix} {i}", url)


async def test_stream_filters_scopes_and_cursor(servers: list[str], ws: Workspace) -> None:
    api_a, api_b = servers
    start = (await ws.get("/v1/events")).json()["next_cursor"]
    tasks_key = await ws.new_key(["webhook.read", "task.read"])
    async with stream(api_a, tasks_key, f"?cursor={start}") as tasks_only, \
            stream(api_b, ws.key, "?type=record.updated&object=person") as updates:
        assert tasks_only.status_code == updates.status_code == 200
        made = await person(ws, "Filtered")
        await ws.post("/v1/tasks", {"title": "Streamed task"})
        await ws.patch(f"/v1/records/{made}", {"attributes": {"job_title": "CFO"}})
        task_event = await next_event(tasks_only.aiter_lines())
        assert task_event["event"] == "task.created" and task_event["data"]["data"]["title"] == "Streamed task"
        update = await next_event(updates.aiter_lines())
        assert update["event"] == "record.updated" and update["data"]["data"]["id"] == made
    async with stream(api_a, tasks_key, "?type=record.created") as refused:
        assert refused.status_code == 403
