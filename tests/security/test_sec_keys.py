"""Audit item 1: a key can never mint, rotate, widen, change or revoke a key beyond its own scopes.

The audit's reproduction: a key holding only ``api_key.read`` + ``api_key.write`` rotated the
workspace's admin key, got back a key with all 19 scopes, and the owner's key answered 401."""

from __future__ import annotations

from tests.conftest import Workspace

KEY_ADMIN = ["api_key.read", "api_key.write"]


async def _key_id(ws: Workspace, key: str) -> str:
    listed = (await ws.get("/v1/api-keys")).json()["data"]
    return str(next(k["id"] for k in listed if key.startswith(k["prefix"])))


async def test_a_key_admin_cannot_rotate_the_owners_key(ws: Workspace) -> None:
    limited = await ws.new_key(KEY_ADMIN)
    owner_id = await _key_id(ws, ws.key)

    response = await ws.post(f"/v1/api-keys/{owner_id}/rotate", key=limited)

    assert response.status_code == 403, response.text
    body = response.json()
    assert body["code"] == 403 and "record.write" in body["message"] and "workspace.delete" in body["message"]
    assert "key" not in body
    assert (await ws.get("/v1/objects")).status_code == 200, "the owner's key still works"
    owner = (await ws.get(f"/v1/api-keys/{owner_id}")).json()
    assert owner["revoked_at"] is None
    assert len((await ws.get("/v1/api-keys")).json()["data"]) == 2, "no key was minted"


async def test_a_key_admin_cannot_revoke_or_change_the_owners_key(ws: Workspace) -> None:
    limited = await ws.new_key(KEY_ADMIN)
    owner_id = await _key_id(ws, ws.key)

    revoke = await ws.delete(f"/v1/api-keys/{owner_id}", key=limited)
    patch = await ws.patch(f"/v1/api-keys/{owner_id}", {"name": "mine now", "rate_limit_per_minute": 1},
                           key=limited)

    assert revoke.status_code == 403 and "object.write" in revoke.json()["message"]
    assert patch.status_code == 403 and "object.write" in patch.json()["message"]
    owner = (await ws.get(f"/v1/api-keys/{owner_id}")).json()
    assert owner["revoked_at"] is None and owner["name"] != "mine now" and owner["rate_limit_per_minute"] != 1
    assert (await ws.get("/v1/objects")).status_code == 200


async def test_a_key_cannot_widen_a_key_beyond_its_own_scopes(ws: Workspace) -> None:
    limited = await ws.new_key([*KEY_ADMIN, "record.read"])
    reader = await ws.new_key(["record.read"])
    reader_id = await _key_id(ws, reader)

    widened = await ws.patch(f"/v1/api-keys/{reader_id}", {"scopes": ["record.read", "record.write"]}, key=limited)

    assert widened.status_code == 403 and "record.write" in widened.json()["message"]
    assert (await ws.get(f"/v1/api-keys/{reader_id}")).json()["scopes"] == ["record.read"]


async def test_a_key_still_manages_keys_within_its_scopes(ws: Workspace) -> None:
    limited = await ws.new_key([*KEY_ADMIN, "record.read"])
    reader = await ws.new_key(["record.read"])
    reader_id = await _key_id(ws, reader)

    rotated = await ws.post(f"/v1/api-keys/{reader_id}/rotate", key=limited)
    assert rotated.status_code == 200 and rotated.json()["scopes"] == ["record.read"]
    renamed = await ws.patch(f"/v1/api-keys/{rotated.json()['id']}", {"name": "renamed"}, key=limited)
    assert renamed.status_code == 200
    assert (await ws.delete(f"/v1/api-keys/{rotated.json()['id']}", key=limited)).status_code == 200
    self_rotated = await ws.post(f"/v1/api-keys/{await _key_id(ws, limited)}/rotate", key=limited)
    assert self_rotated.status_code == 200
    assert sorted(self_rotated.json()["scopes"]) == sorted([*KEY_ADMIN, "record.read"])
