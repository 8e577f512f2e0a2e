"""Idempotency-Key: replay, mismatch, and exactly-one-write under 20 concurrent copies."""

from __future__ import annotations

import asyncio

import asyncpg

from tests.conftest import Workspace


async def _key_count(db: asyncpg.Connection, ws: Workspace) -> int:
    return int(await db.fetchval("SELECT count(*) FROM api_keys WHERE workspace_id = $1", int(ws.id)))


async def test_replay_returns_first_response_without_second_write(ws: Workspace, db: asyncpg.Connection) -> None:
    body = {"name": "idem", "scopes": ["object.read"]}
    first = await ws.post("/v1/api-keys", body, headers={"Idempotency-Key": "k-1"})
    assert first.status_code == 200
    count = await _key_count(db, ws)
    second = await ws.post("/v1/api-keys", body, headers={"Idempotency-Key": "k-1"})
    assert second.status_code == 200
    assert second.json() == first.json()
    assert second.headers["idempotent-replayed"] == "true"
    assert await _key_count(db, ws) == count


async def test_same_key_different_body_is_409(ws: Workspace, db: asyncpg.Connection) -> None:
    await ws.post("/v1/api-keys", {"name": "a", "scopes": ["object.read"]}, headers={"Idempotency-Key": "k-2"})
    count = await _key_count(db, ws)
    response = await ws.post("/v1/api-keys", {"name": "b", "scopes": ["object.read"]},
                             headers={"Idempotency-Key": "k-2"})
    assert response.status_code == 409
    assert await _key_count(db, ws) == count


async def test_keys_are_per_api_key(ws: Workspace) -> None:
    other = await ws.new_key(["api_key.write", "object.read"])
    body = {"name": "same", "scopes": ["object.read"]}
    first = await ws.post("/v1/api-keys", body, headers={"Idempotency-Key": "shared"})
    second = await ws.post("/v1/api-keys", body, key=other, headers={"Idempotency-Key": "shared"})
    assert first.status_code == second.status_code == 200
    assert first.json()["id"] != second.json()["id"]


async def test_twenty_concurrent_copies_write_once(ws: Workspace, db: asyncpg.Connection) -> None:
    before = await _key_count(db, ws)
    body = {"name": "race", "scopes": ["object.read"]}
    responses = await asyncio.gather(*(
        ws.post("/v1/api-keys", body, headers={"Idempotency-Key": "race-1"}) for _ in range(20)))
    statuses = sorted(r.status_code for r in responses)
    assert set(statuses) <= {200, 409}
    assert await _key_count(db, ws) == before + 1
    created = {r.json()["id"] for r in responses if r.status_code == 200}
    assert len(created) == 1
    # Once the first finished, every retry is a replay of it.
    retry = await ws.post("/v1/api-keys", body, headers={"Idempotency-Key": "race-1"})
    assert retry.status_code == 200 and retry.json()["id"] in created


async def test_stored_response_is_not_in_clear(ws: Workspace, db: asyncpg.Connection) -> None:
    response = await ws.post("/v1/api-keys", {"name": "secret", "scopes": ["object.read"]},
                             headers={"Idempotency-Key": "k-secret"})
    key = response.json()["key"]
    rows = await db.fetch("SELECT response FROM idempotency_keys WHERE workspace_id = $1", int(ws.id))
    assert rows
    assert all(key.encode() not in bytes(r["response"]) and b"sk-" not in bytes(r["response"]) for r in rows)


async def test_failed_request_is_not_stored(ws: Workspace) -> None:
    bad = await ws.post("/v1/api-keys", {"name": "x", "scopes": ["nope"]}, headers={"Idempotency-Key": "k-bad"})
    assert bad.status_code == 400
    good = await ws.post("/v1/api-keys", {"name": "x", "scopes": ["nope"]}, headers={"Idempotency-Key": "k-bad"})
    assert good.status_code == 400


async def test_invalid_idempotency_key_is_400(ws: Workspace) -> None:
    response = await ws.post("/v1/api-keys", {"name": "x", "scopes": ["object.read"]},
                             headers={"Idempotency-Key": "x" * 300})
    assert response.status_code == 400
