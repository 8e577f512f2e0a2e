"""Insight streams (SSE) are not a way around revocation, expiry or erasure, and one workspace
cannot hold an unbounded number of them open, nor one open forever.

The streams are served by a second API (same database, Redis and clock as the session app) under
uvicorn on loopback, with a short keepalive, so a test sees the stream end within seconds."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
import pytest

from tessera.settings import Settings
from tests.conftest import API, FakeClock, Workspace, WorkspaceFactory
from tests.security.support import served

KEEPALIVE_S = 0.25
ENDS_WITHIN_S = 5.0
"""The bound a test allows for a stream to end: 20 keepalives here (production: within 30 s)."""
LIFETIME_S = 600.0


@pytest.fixture(scope="module")
async def stream_api(settings: Settings, clock: FakeClock) -> AsyncIterator[str]:
    from tessera.app import create_app

    stream_settings = settings.model_copy(update={
        "sse_keepalive_seconds": KEEPALIVE_S, "sse_max_streams_per_key": 2,
        "sse_max_streams_per_workspace": 3, "sse_max_stream_seconds": LIFETIME_S})
    app = create_app(stream_settings, clock=clock)
    async with served(app) as base:
        await asyncio.wait_for(app.state.listener.connected.wait(), timeout=10)
        yield base


@contextlib.asynccontextmanager
async def open_stream(url: str, key: str) -> AsyncIterator[httpx.Response]:
    headers = {"Authorization": f"Bearer {key}", "Accept": "text/event-stream"}
    async with httpx.AsyncClient(timeout=httpx.Timeout(10, read=30)) as http, \
            http.stream("GET", url + API + "/v1/insights/stream", headers=headers) as response:
        yield response


async def closing_event(response: httpx.Response) -> dict[str, Any]:
    """Read the stream until the server ends it; the ``stream.closed`` event's data."""
    assert response.status_code == 200
    event: dict[str, str] = {}
    closed: dict[str, Any] | None = None
    started = time.monotonic()
    async with asyncio.timeout(ENDS_WITHIN_S):
        async for line in response.aiter_lines():
            if line.startswith(("event:", "data:")):
                name, _, value = line.partition(":")
                event[name] = value.strip()
            elif not line and event:
                if event.get("event") == "stream.closed":
                    closed = orjson.loads(event["data"])
                event = {}
    assert closed is not None, "the stream ended without a stream.closed event"
    assert time.monotonic() - started < ENDS_WITHIN_S
    return closed


async def new_key(ws: Workspace, scopes: list[str], **extra: Any) -> tuple[str, str]:
    created = await ws.post("/v1/api-keys", {"name": "stream", "scopes": scopes, **extra})
    assert created.status_code == 200, created.text
    return created.json()["id"], created.json()["key"]


async def test_revoking_a_key_ends_its_open_stream(stream_api: str, ws: Workspace) -> None:
    key_id, key = await new_key(ws, ["insight.stream"])
    async with open_stream(stream_api, key) as response:
        assert response.status_code == 200
        assert (await ws.delete(f"/v1/api-keys/{key_id}")).status_code == 200
        closed = await closing_event(response)
    assert closed == {"message": "API key has been revoked", "reconnect": False}
    async with open_stream(stream_api, key) as again:
        assert again.status_code == 401


async def test_a_busy_stream_is_rechecked_too(stream_api: str, app: Any, ws: Workspace) -> None:
    """Messages arriving faster than the keepalive do not postpone the key check."""
    key_id, key = await new_key(ws, ["insight.stream"])
    redis = app.state.tessera.redis.redis

    async def chatter() -> None:
        while True:  # ids of no insight: the stream wakes up but has nothing to send
            await redis.publish(f"tessera:insights:{ws.id}", orjson.dumps({"insight_ids": [2**62]}))
            await asyncio.sleep(KEEPALIVE_S / 5)

    async with open_stream(stream_api, key) as response:
        noise = asyncio.create_task(chatter())
        try:
            assert (await ws.delete(f"/v1/api-keys/{key_id}")).status_code == 200
            closed = await closing_event(response)
        finally:
            noise.cancel()
    assert closed["message"] == "API key has been revoked"


async def test_a_key_losing_the_scope_ends_its_stream(stream_api: str, ws: Workspace) -> None:
    key_id, key = await new_key(ws, ["insight.stream", "record.read"])
    async with open_stream(stream_api, key) as response:
        assert response.status_code == 200
        assert (await ws.patch(f"/v1/api-keys/{key_id}", {"scopes": ["record.read"]})).status_code == 200
        closed = await closing_event(response)
    assert closed == {"message": "This API key lacks the required scope 'insight.stream'", "reconnect": False}


async def test_an_expiring_key_ends_its_stream(stream_api: str, ws: Workspace, fake_clock: FakeClock) -> None:
    expires = datetime.fromtimestamp(fake_clock(), UTC) + timedelta(seconds=60)
    _, key = await new_key(ws, ["insight.stream"], expires_at=expires.isoformat())
    async with open_stream(stream_api, key) as response:
        assert response.status_code == 200
        fake_clock.advance(120)
        closed = await closing_event(response)
    assert closed == {"message": "API key has expired", "reconnect": False}


async def test_erasing_the_workspace_ends_its_streams(stream_api: str, make_workspace: WorkspaceFactory) -> None:
    doomed = await make_workspace()
    async with open_stream(stream_api, doomed.key) as response:
        assert response.status_code == 200
        assert (await doomed.delete("/v1/workspace")).status_code == 200
        closed = await closing_event(response)
    assert closed == {"message": "Invalid API key", "reconnect": False}


async def test_streams_are_counted_per_workspace_across_keys(stream_api: str, ws: Workspace,
                                                              make_workspace: WorkspaceFactory) -> None:
    _, second = await new_key(ws, ["insight.stream"])
    other = await make_workspace()
    async with contextlib.AsyncExitStack() as streams:
        for key in (ws.key, ws.key):
            assert (await streams.enter_async_context(open_stream(stream_api, key))).status_code == 200
        over_key = await streams.enter_async_context(open_stream(stream_api, ws.key))
        assert over_key.status_code == 429
        assert orjson.loads(await over_key.aread()) == {
            "code": 429, "message": "At most 2 concurrent insight streams per API key"}
        assert (await streams.enter_async_context(open_stream(stream_api, second))).status_code == 200
        # The second key holds one stream of its own two, but the workspace's three are taken.
        over_workspace = await streams.enter_async_context(open_stream(stream_api, second))
        assert over_workspace.status_code == 429
        assert int(over_workspace.headers["retry-after"]) >= 1
        assert orjson.loads(await over_workspace.aread()) == {
            "code": 429, "message": "At most 3 concurrent insight streams per workspace"}
        # Another workspace is not affected.
        assert (await streams.enter_async_context(open_stream(stream_api, other.key))).status_code == 200
    # Closed streams give their slots back (at once, or once they go stale: 3 keepalives).
    deadline = time.monotonic() + ENDS_WITHIN_S
    while True:
        async with open_stream(stream_api, second) as again:
            if again.status_code == 200:
                break
        assert time.monotonic() < deadline, "closed streams kept their slots"
        await asyncio.sleep(KEEPALIVE_S)


async def test_a_stream_ends_at_its_maximum_lifetime(stream_api: str, ws: Workspace, fake_clock: FakeClock) -> None:
    async with open_stream(stream_api, ws.key) as response:
        assert response.status_code == 200
        fake_clock.advance(LIFETIME_S + 1)
        closed = await closing_event(response)
    assert closed == {"message": "The stream reached its maximum lifetime of 600 s; reconnect with Last-Event-ID",
                      "reconnect": True}
    async with open_stream(stream_api, ws.key) as again:  # the key itself is fine
        assert again.status_code == 200
