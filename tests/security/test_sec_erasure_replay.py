"""Audit item 14: ``DELETE /v1/workspace`` with an ``Idempotency-Key`` answers its success again on
replay (a client that lost the first answer retries), though the workspace, the key and its
idempotency records are gone; the same key with another request is 409, and nothing else
authenticates with the erased key."""

from __future__ import annotations

from tests.conftest import Workspace


async def test_a_replayed_erasure_answers_its_success(ws: Workspace) -> None:
    first = await ws.delete("/v1/workspace", headers={"Idempotency-Key": "erase-1"})
    assert first.status_code == 200, first.text

    replay = await ws.delete("/v1/workspace", headers={"Idempotency-Key": "erase-1"})

    assert replay.status_code == 200, replay.text
    assert replay.headers["Idempotent-Replayed"] == "true" and replay.content == b""
    assert (await ws.get("/v1/objects")).status_code == 401, "the erased key opens nothing else"
    changed = await ws.delete("/v1/workspace?reason=again", headers={"Idempotency-Key": "erase-1"})
    assert changed.status_code == 409 and changed.json()["code"] == 409
    other = await ws.delete("/v1/workspace", headers={"Idempotency-Key": "erase-2"})
    assert other.status_code == 401, "only the replay of the erasure itself is answered"


async def test_a_replay_needs_the_erased_key_itself(ws: Workspace) -> None:
    assert (await ws.delete("/v1/workspace", headers={"Idempotency-Key": "erase-1"})).status_code == 200
    forged = "sk-" + ws.key[3:15] + "X" * 32  # same public prefix, wrong secret

    response = await ws.delete("/v1/workspace", key=forged, headers={"Idempotency-Key": "erase-1"})

    assert response.status_code == 401
