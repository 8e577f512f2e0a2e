"""Revoking a key and erasing a workspace take effect in every API process at once, and no
authentication cache keeps (or answers with) a key row older than the last revocation it saw."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest

from tessera.keys import repository
from tessera.keys.crypto import PREFIX_LEN
from tessera.settings import Settings
from tests.conftest import API, FakeClock, Workspace, WorkspaceFactory

WITHIN_S = 5.0
"""How long the other process may take to hear of the change (the cache TTL in tests is 30 s)."""


@contextlib.asynccontextmanager
async def other_process(settings: Settings, clock: FakeClock) -> AsyncIterator[httpx.AsyncClient]:
    """A second API (its own engine, auth cache and invalidation listener) on the same database."""
    from tessera.app import create_app

    app = create_app(settings, clock=clock)
    async with app.router.lifespan_context(app):
        await asyncio.wait_for(app.state.listener.connected.wait(), timeout=10)
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://other.test") as http:
            yield http


async def status_on(http: httpx.AsyncClient, key: str) -> int:
    return (await http.get(API + "/v1/objects", headers={"Authorization": f"Bearer {key}"})).status_code


async def test_erasing_a_workspace_tells_every_process_to_forget_each_key(
        settings: Settings, clock: FakeClock, make_workspace: WorkspaceFactory) -> None:
    doomed = await make_workspace()
    keys = [doomed.key, await doomed.new_key(["object.read"]), await doomed.new_key(["object.read"])]
    heard: list[str] = []
    listening = await asyncpg.connect(settings.asyncpg_dsn)
    await listening.add_listener("tessera_invalidate", lambda _c, _pid, _ch, payload: heard.append(payload))
    try:
        async with other_process(settings, clock) as other:
            assert [await status_on(other, key) for key in keys] == [200, 200, 200]  # cached there now
            assert (await doomed.delete("/v1/workspace")).status_code == 200
            wanted = {f"api_key:{key[:PREFIX_LEN]}" for key in keys}
            deadline = time.monotonic() + WITHIN_S
            while not wanted <= set(heard):
                assert time.monotonic() < deadline, f"announced {heard}, not one per key"
                await asyncio.sleep(0.02)
            # The other process rejects every key now, not when its cache entries expire.
            while (statuses := [await status_on(other, key) for key in keys]) != [401, 401, 401]:
                assert time.monotonic() < deadline, f"the other process still answers {statuses}"
                await asyncio.sleep(0.02)
    finally:
        await listening.close()


async def test_revoking_a_key_in_one_process_reaches_another(settings: Settings, clock: FakeClock,
                                                             ws: Workspace) -> None:
    created = (await ws.post("/v1/api-keys", {"name": "elsewhere", "scopes": ["object.read"]})).json()
    async with other_process(settings, clock) as other:
        assert await status_on(other, created["key"]) == 200
        assert (await ws.delete(f"/v1/api-keys/{created['id']}")).status_code == 200
        deadline = time.monotonic() + WITHIN_S
        while await status_on(other, created["key"]) != 401:
            assert time.monotonic() < deadline, "the other process still accepts the revoked key"
            await asyncio.sleep(0.02)


async def test_a_lookup_in_flight_during_a_revocation_is_not_cached(ws: Workspace,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """A request reads the key row, a revocation commits and is announced, then the request
    goes on: neither it nor any later request may be answered from the pre-revocation row."""
    created = (await ws.post("/v1/api-keys", {"name": "race", "scopes": ["object.read"]})).json()
    key, prefix = created["key"], created["key"][:PREFIX_LEN]
    read, release = asyncio.Event(), asyncio.Event()
    find_by_prefix = repository.find_by_prefix

    async def held_after_reading(conn: Any, wanted: str) -> Any:
        row = await find_by_prefix(conn, wanted)
        if wanted == prefix and not read.is_set():
            read.set()
            await release.wait()
        return row

    monkeypatch.setattr(repository, "find_by_prefix", held_after_reading)
    in_flight = asyncio.create_task(ws.get("/v1/objects", key=key))
    await asyncio.wait_for(read.wait(), timeout=5)
    assert (await ws.delete(f"/v1/api-keys/{created['id']}")).status_code == 200
    release.set()
    first, again = await in_flight, await ws.get("/v1/objects", key=key)
    assert [first.status_code, again.status_code] == [401, 401]
    assert again.json() == {"code": 401, "message": "API key has been revoked"}
