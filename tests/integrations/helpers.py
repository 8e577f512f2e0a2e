"""Driving the connect flow the way a user's browser does, against the fake Google."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

import httpx

from tests.conftest import Workspace
from tests.fake_google import FakeGoogle
from tests.spec import assert_matches


async def start(ws: Workspace, type_: str = "email", provider: str = "google") -> dict[str, Any]:
    response = await ws.post(f"/v1/integrations/{type_}/{provider}/connect")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert_matches("developer.ConnectResponse", body)
    return body


async def authorize(auth_url: str, account: str) -> str:
    """What the browser does at the provider: open the authorize URL, get redirected back. Returns
    the callback path and query Tessera is sent to."""
    async with httpx.AsyncClient() as browser:
        answer = await browser.get(auth_url + "&" + urlencode({"login_hint": account}))
    assert answer.status_code == 302, answer.text
    location = urlparse(answer.headers["location"])
    return f"{location.path}?{location.query}"


async def callback(ws: Workspace, path_and_query: str) -> httpx.Response:
    """The browser arriving at Tessera's callback: no API key."""
    return await ws.http.get(path_and_query)


async def connect(ws: Workspace, fake: FakeGoogle, account: str) -> int:
    """Connect ``account``'s Gmail; the connection's id."""
    started = await start(ws)
    assert parse_qs(urlparse(started["auth_url"]).query)["code_challenge_method"] == ["S256"]
    answer = await callback(ws, await authorize(started["auth_url"], account))
    assert answer.status_code == 200, answer.text
    status = await ws.get(f"/v1/integrations/connect/{started['connect_id']}/status")
    assert status.status_code == 200, status.text
    assert_matches("developer.ConnectStatusResponse", status.json())
    assert status.json()["status"] == "connected"
    connection_id: int = status.json()["connection_id"]
    return connection_id


async def listed(ws: Workspace) -> list[dict[str, Any]]:
    response = await ws.get("/v1/integrations")
    assert response.status_code == 200, response.text
    body: list[dict[str, Any]] = response.json()
    for item in body:
        assert_matches("developer.IntegrationResponse", item)
    return body


async def connection(ws: Workspace, connection_id: int) -> dict[str, Any] | None:
    for item in await listed(ws):
        for found in item["connections"]:
            if found["id"] == connection_id:
                assert_matches("developer.ConnectionResponse", found)
                return dict(found)
    return None


async def wait_synced(ws: Workspace, connection_id: int, within: float = 30.0) -> dict[str, Any]:
    """The connection once its sync run has completed (or failed)."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        found = await connection(ws, connection_id)
        assert found is not None
        sync = found.get("sync") or {}
        if sync.get("status") in ("completed", "failed"):
            return found
        assert asyncio.get_running_loop().time() < deadline, f"the sync did not finish: {sync}"
        await asyncio.sleep(0.05)
