"""Key management: create, read, update, rotate, revoke; scopes never escalate."""

from __future__ import annotations

import asyncpg

from tests.conftest import Workspace, WorkspaceFactory


async def test_create_shows_the_key_once(ws: Workspace, db: asyncpg.Connection) -> None:
    response = await ws.post("/v1/api-keys", {"name": "ci", "scopes": ["object.read", "record.read"],
                                              "rate_limit_per_minute": 120})
    assert response.status_code == 200
    created = response.json()
    assert created["key"].startswith("sk-") and len(created["key"]) == 47
    assert created["prefix"] == created["key"][:15]
    assert created["scopes"] == ["object.read", "record.read"]
    assert created["rate_limit_per_minute"] == 120
    fetched = (await ws.get(f"/v1/api-keys/{created['id']}")).json()
    assert "key" not in fetched
    assert fetched["prefix"] == created["prefix"]
    stored = await db.fetchrow("SELECT key_hash, prefix FROM api_keys WHERE id = $1", int(created["id"]))
    assert created["key"].encode() not in bytes(stored["key_hash"])
    assert len(stored["key_hash"]) == 32


async def test_cannot_grant_scopes_it_lacks(ws: Workspace) -> None:
    limited = await ws.new_key(["api_key.write", "object.read"])
    response = await ws.post("/v1/api-keys", {"name": "x", "scopes": ["record.write"]}, key=limited)
    assert response.status_code == 403
    assert "record.write" in response.json()["message"]
    response = await ws.post("/v1/api-keys", {"name": "x", "scopes": ["object.read"]}, key=limited)
    assert response.status_code == 200


async def test_invalid_create_bodies_are_400(ws: Workspace) -> None:
    bad = [
        {},
        {"name": "x"},
        {"name": "x", "scopes": []},
        {"name": "x", "scopes": ["nope.read"]},
        {"name": "", "scopes": ["object.read"]},
        {"name": "x", "scopes": ["object.read"], "rate_limit_per_minute": 0},
        {"name": "x", "scopes": ["object.read"], "rate_limit_per_minute": "5"},
        {"name": "x", "scopes": ["object.read"], "expires_at": "tomorrow"},
        {"name": "x", "scopes": ["object.read"], "expires_at": "2020-01-01T00:00:00Z"},
        {"name": "x", "scopes": ["object.read"], "unknown": 1},
    ]
    before = len((await ws.get("/v1/api-keys")).json()["data"])
    for body in bad:
        response = await ws.post("/v1/api-keys", body)
        assert response.status_code == 400, (body, response.text)
        assert response.json()["code"] == 400
    assert len((await ws.get("/v1/api-keys")).json()["data"]) == before


async def test_patch_updates_settings(ws: Workspace) -> None:
    key = await ws.new_key(["object.read"])
    key_id = next(k["id"] for k in (await ws.get("/v1/api-keys")).json()["data"] if key.startswith(k["prefix"]))
    response = await ws.patch(f"/v1/api-keys/{key_id}", {"name": "renamed", "scopes": ["api_key.read"]})
    assert response.status_code == 200
    assert response.json()["name"] == "renamed"
    assert (await ws.get("/v1/api-keys", key=key)).status_code == 200


async def test_patch_refuses_null_name_or_scopes_and_null_clears_limits(ws: Workspace) -> None:
    key = await ws.new_key(["object.read"], rate_limit_per_minute=30)
    key_id = next(k["id"] for k in (await ws.get("/v1/api-keys")).json()["data"] if key.startswith(k["prefix"]))
    for field in ("name", "scopes"):
        response = await ws.patch(f"/v1/api-keys/{key_id}", {field: None})
        assert response.status_code == 400, response.text
        assert response.json()["errors"] == [{"path": field, "message": "Value error, may not be null"}]
    response = await ws.patch(f"/v1/api-keys/{key_id}", {"rate_limit_per_minute": None})
    assert response.status_code == 200
    assert response.json()["rate_limit_per_minute"] is None and response.json()["name"] == "test"


async def test_rotate_issues_new_key_and_revokes_old(ws: Workspace) -> None:
    old = await ws.new_key(["api_key.read"], rate_limit_per_minute=77)
    old_id = next(k["id"] for k in (await ws.get("/v1/api-keys")).json()["data"] if old.startswith(k["prefix"]))
    response = await ws.post(f"/v1/api-keys/{old_id}/rotate")
    assert response.status_code == 200
    rotated = response.json()
    assert rotated["key"] != old
    assert rotated["scopes"] == ["api_key.read"] and rotated["rate_limit_per_minute"] == 77
    assert (await ws.get("/v1/api-keys", key=old)).status_code == 401
    assert (await ws.get("/v1/api-keys", key=rotated["key"])).status_code == 200
    assert (await ws.post(f"/v1/api-keys/{old_id}/rotate")).status_code == 409


async def test_keys_of_another_workspace_are_404(ws: Workspace, make_workspace: WorkspaceFactory) -> None:
    other = await make_workspace()
    other_key_id = (await other.get("/v1/api-keys")).json()["data"][0]["id"]
    for method, path in (("GET", f"/v1/api-keys/{other_key_id}"), ("PATCH", f"/v1/api-keys/{other_key_id}"),
                         ("DELETE", f"/v1/api-keys/{other_key_id}"),
                         ("POST", f"/v1/api-keys/{other_key_id}/rotate")):
        response = await ws.request(method, path, json={"name": "stolen"} if method == "PATCH" else None)
        assert response.status_code == 404, (method, response.text)
    assert (await other.get("/v1/api-keys")).status_code == 200
    assert (await other.get(f"/v1/api-keys/{other_key_id}")).json()["name"] == "admin"


async def test_unknown_and_malformed_ids_are_404(ws: Workspace) -> None:
    for key_id in ("1", "abc", "99999999999999999999999", "-5"):
        assert (await ws.get(f"/v1/api-keys/{key_id}")).status_code == 404
