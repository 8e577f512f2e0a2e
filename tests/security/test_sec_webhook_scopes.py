"""Audit item 2: a webhook subscription covers only events the key that creates or changes it can
read; otherwise a key with ``webhook.write`` alone could receive every note, task and record."""

from __future__ import annotations

import pytest

from tests.conftest import Workspace

URL = "http://127.0.0.1:9/hook"


@pytest.mark.parametrize(("events", "missing"), [
    (["note.created"], ["note.read"]),
    (["task.*"], ["task.read"]),
    (["record.updated", "list_entry.created"], ["record.read"]),
    (["object.created", "attribute.deleted"], ["object.read"]),
    (["insight.created"], ["insight.stream"]),
    (["*"], ["insight.stream", "note.read", "object.read", "record.read", "task.read"]),
])
async def test_a_key_cannot_subscribe_to_events_it_cannot_read(ws: Workspace, events: list[str],
                                                               missing: list[str]) -> None:
    hooks_only = await ws.new_key(["webhook.read", "webhook.write"])

    response = await ws.post("/v1/webhooks", {"url": URL, "events": events}, key=hooks_only)

    assert response.status_code == 403, response.text
    assert response.json()["code"] == 403
    for scope in missing:
        assert scope in response.json()["message"]
    assert (await ws.get("/v1/webhooks")).json()["data"] == []


async def test_a_key_subscribes_to_what_it_can_read(ws: Workspace) -> None:
    key = await ws.new_key(["webhook.read", "webhook.write", "record.read"])

    response = await ws.post("/v1/webhooks", {"url": URL, "events": ["record.*", "list_entry.created"]}, key=key)

    assert response.status_code == 200, response.text


async def test_a_key_cannot_widen_or_redirect_a_subscription_beyond_what_it_reads(ws: Workspace) -> None:
    notes = await ws.post("/v1/webhooks", {"url": URL, "events": ["note.created"]})
    assert notes.status_code == 200
    hook_id = notes.json()["id"]
    records_reader = await ws.new_key(["webhook.read", "webhook.write", "record.read"])
    own = await ws.post("/v1/webhooks", {"url": URL, "events": ["record.created"]}, key=records_reader)

    widened = await ws.patch(f"/v1/webhooks/{own.json()['id']}", {"events": ["record.created", "note.updated"]},
                             key=records_reader)
    redirected = await ws.patch(f"/v1/webhooks/{hook_id}", {"url": "http://127.0.0.1:9/mine"}, key=records_reader)
    secret = await ws.post(f"/v1/webhooks/{hook_id}/rotate-secret", key=records_reader)

    assert widened.status_code == 403 and "note.read" in widened.json()["message"]
    assert redirected.status_code == 403 and "note.read" in redirected.json()["message"]
    assert secret.status_code == 403 and "secret" not in secret.json()
    assert (await ws.get(f"/v1/webhooks/{hook_id}")).json()["url"] == URL
    assert (await ws.get(f"/v1/webhooks/{own.json()['id']}")).json()["events"] == ["record.created"]
