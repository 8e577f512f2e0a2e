"""Authentication: 401 for every kind of bad key, never a leak of why beyond the contract."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from tests.conftest import API, Workspace


async def test_missing_key_is_401(client: httpx.AsyncClient) -> None:
    response = await client.get(API + "/v1/api-keys")
    assert response.status_code == 401
    assert response.json()["code"] == 401
    assert "Missing API key" in response.json()["message"]


async def test_malformed_header_is_401(client: httpx.AsyncClient) -> None:
    for header in ("Basic abc", "Bearer", "sk-abc", "Bearer sk-short", "Token sk-" + "a" * 44):
        response = await client.get(API + "/v1/api-keys", headers={"Authorization": header})
        assert response.status_code == 401, header


async def test_unknown_key_is_401(ws: Workspace) -> None:
    forged = ws.key[:15] + ("A" if ws.key[15] != "A" else "B") + ws.key[16:]
    response = await ws.get("/v1/api-keys", key=forged)
    assert response.status_code == 401
    response = await ws.get("/v1/api-keys", key="sk-" + "Z" * 44)
    assert response.status_code == 401


async def test_bearer_scheme_is_case_insensitive(ws: Workspace) -> None:
    for scheme in ("bearer", "BEARER", "BeArEr"):
        response = await ws.http.get(API + "/v1/api-keys", headers={"Authorization": f"{scheme} {ws.key}"})
        assert response.status_code == 200, scheme


async def test_key_in_query_string_is_refused_even_with_valid_header(ws: Workspace) -> None:
    for query in (f"api_key={ws.key}", f"token={ws.key}", f"x={ws.key}"):
        response = await ws.get(f"/v1/api-keys?{query}")
        assert response.status_code == 400
        assert ws.key not in response.text


async def test_revoked_key_is_401_at_once(ws: Workspace) -> None:
    key = await ws.new_key(["api_key.read"])
    assert (await ws.get("/v1/api-keys", key=key)).status_code == 200
    key_id = next(k["id"] for k in (await ws.get("/v1/api-keys")).json()["data"] if key.startswith(k["prefix"]))
    assert (await ws.delete(f"/v1/api-keys/{key_id}")).status_code == 200
    response = await ws.get("/v1/api-keys", key=key)
    assert response.status_code == 401
    assert "revoked" in response.json()["message"]


async def test_expired_key_is_401(ws: Workspace, fake_clock: object) -> None:
    soon = (datetime.now(UTC) + timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    key = await ws.new_key(["api_key.read"], expires_at=soon)
    assert (await ws.get("/v1/api-keys", key=key)).status_code == 200
    fake_clock.advance(3601)  # type: ignore[attr-defined]
    response = await ws.get("/v1/api-keys", key=key)
    assert response.status_code == 401
    assert "expired" in response.json()["message"]


async def test_last_used_at_is_recorded(ws: Workspace, app: object) -> None:
    key = await ws.new_key(["api_key.read"])
    await ws.get("/v1/api-keys", key=key)
    await app.state.tessera.authenticator.drain()  # type: ignore[attr-defined]
    listed = (await ws.get("/v1/api-keys")).json()["data"]
    mine = next(k for k in listed if key.startswith(k["prefix"]))
    assert mine["last_used_at"] is not None
