"""The change stream, paged (``GET /v1/events``): order and cursors, filters, scopes, isolation,
the webhook body, writes outside a unit of work, retention, refused input."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook

from tests.conftest import Workspace, WorkspaceFactory
from tests.receiver import running_receiver
from tests.transfer.test_imports import finished, upload

pytestmark = pytest.mark.usefixtures("worker")


async def events(ws: Workspace, query: str = "", *, key: str | None = None) -> dict[str, Any]:
    response = await ws.get(f"/v1/events{query}", key=key)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def walk(ws: Workspace, query: str = "", *, limit: int = 2, key: str | None = None) -> list[dict[str, Any]]:
    """Every event the key sees, page by page from the oldest."""
    seen: list[dict[str, Any]] = []
    sep = "&" if query else "?"
    page = await events(ws, f"{query}{sep}limit={limit}" if query else f"?limit={limit}", key=key)
    while True:
        seen.extend(page["data"])
        if not page["has_more"]:
            return seen
        page = await events(ws, f"{query}{sep}limit={limit}&cursor={page['next_cursor']}" if query
                            else f"?limit={limit}&cursor={page['next_cursor']}", key=key)


async def person(ws: Workspace, name: str) -> dict[str, Any]:
    response = await ws.post("/v1/objects/person", {"attributes": {"name": name}})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_pages_oldest_first_with_stable_cursors(ws: Workspace) -> None:
    made = [await person(ws, f"Person {i}") for i in range(5)]
    await ws.patch(f"/v1/records/{made[0]['id']}", {"attributes": {"job_title": "CTO"}})
    task = (await ws.post("/v1/tasks", {"title": "Call back"})).json()
    seen = await walk(ws)
    assert [e["type"] for e in seen] == ["record.created"] * 5 + ["record.updated", "task.created"]
    assert [e["data"]["id"] for e in seen] == [m["id"] for m in made] + [made[0]["id"], task["id"]]
    ids = [int(e["id"]) for e in seen]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert all(set(e) == {"id", "type", "timestamp", "data"} and e["timestamp"].endswith("Z") for e in seen)
    assert seen[5]["data"]["field_changes"] == [{"field_name": "job_title", "old_value": None, "new_value": "CTO"}]
    # A cursor names a position: the same cursor gives the same page, later writes go after it.
    first = await events(ws, "?limit=3")
    assert first["has_more"] and first["next_cursor"] == seen[2]["id"]
    again = await events(ws, f"?limit=3&cursor={first['next_cursor']}")
    await person(ws, "Later")
    assert await events(ws, f"?limit=3&cursor={first['next_cursor']}") == {**again, "has_more": True}
    # The end of the stream: an empty page whose cursor is where to poll from.
    tail = await events(ws, f"?cursor={seen[-1]['id']}")
    assert [e["data"]["attributes"]["name"] for e in tail["data"]] == ["Later"]
    end = await events(ws, f"?cursor={tail['next_cursor']}")
    assert end == {"data": [], "has_more": False, "next_cursor": tail["next_cursor"]}


async def test_filters_by_object_and_type(ws: Workspace) -> None:
    created = await ws.post("/v1/objects", {"name": "Deal", "name_plural": "Deals", "slug": "deal"})
    assert created.status_code == 200, created.text
    await person(ws, "Ada")
    company = (await ws.post("/v1/objects/company", {"attributes": {"name": "Acme"}})).json()
    deal = await ws.post("/v1/objects/deal", {"attributes": {}})
    assert deal.status_code == 200, deal.text
    await ws.patch(f"/v1/records/{company['id']}", {"attributes": {"name": "Acme Inc"}})
    await ws.post("/v1/tasks", {"title": "Follow up"})
    await ws.post("/v1/notes", {"title": "Met", "content": "Coffee"})

    def summary(found: list[dict[str, Any]]) -> list[tuple[str, str | None]]:
        return [(e["type"], e["data"]["slug"] if e["type"].startswith("object.") else e["data"].get("type"))
                for e in found]

    assert summary(await walk(ws, "?object=company")) == [("record.created", "company"),
                                                          ("record.updated", "company")]
    # Repeated or comma-separated; the object of a schema event is the object it defines.
    both = [("object.created", "deal"), ("record.created", "company"), ("record.created", "deal"),
            ("record.updated", "company")]
    assert summary(await walk(ws, "?object=company,deal")) == both
    assert summary(await walk(ws, "?object=company&object=deal")) == both
    assert summary(await walk(ws, "?type=record.updated")) == [("record.updated", "company")]
    assert [e["type"] for e in await walk(ws, "?type=task.*&type=note.created")] == ["task.created", "note.created"]
    assert summary(await walk(ws, "?type=record.created&object=deal")) == [("record.created", "deal")]
    assert deal.json()["id"] in {e["data"]["id"] for e in await walk(ws, "?object=deal&type=record.*")}


async def test_a_key_sees_only_events_it_may_read(ws: Workspace) -> None:
    await person(ws, "Secret Person")
    await ws.post("/v1/tasks", {"title": "Visible task"})
    await ws.post("/v1/notes", {"title": "Hidden note", "content": "x"})
    tasks_only = await ws.new_key(["webhook.read", "task.read"])
    seen = await walk(ws, key=tasks_only)
    assert [e["type"] for e in seen] == ["task.created"]
    # Asking for what it may not read is refused, naming the scope; no webhook.read: no stream at all.
    refused = await ws.get("/v1/events?type=record.created", key=tasks_only)
    assert refused.status_code == 403 and "record.read" in refused.json()["message"]
    assert (await ws.get("/v1/events?type=*", key=tasks_only)).status_code == 403
    no_stream = await ws.new_key(["record.read", "task.read", "note.read"])
    assert (await ws.get("/v1/events", key=no_stream)).status_code == 403
    assert (await ws.get("/v1/events/stream", key=no_stream)).status_code == 403
    records_only = await ws.new_key(["webhook.read", "record.read"])
    assert [e["type"] for e in await walk(ws, key=records_only)] == ["record.created"]
    assert await walk(ws, key=await ws.new_key(["webhook.read"])) == []


async def test_workspaces_see_only_their_own_events(ws: Workspace, make_workspace: WorkspaceFactory) -> None:
    other = await make_workspace()
    for i in range(3):
        await person(ws, f"Mine {i}")
    await person(other, "Theirs")
    mine, theirs = await walk(ws), await walk(other)
    assert [e["data"]["attributes"]["name"] for e in theirs] == ["Theirs"]
    assert "Theirs" not in {e["data"]["attributes"]["name"] for e in mine}
    # A cursor past what this workspace has reached is not one of its cursors.
    refused = await other.get(f"/v1/events?cursor={mine[-1]['id']}")
    assert refused.status_code == 400 and refused.json()["code"] == 400


@pytest.mark.parametrize("query", [
    "?cursor=abc", "?cursor=-1", "?cursor=1.5", "?cursor=99999999", "?limit=0", "?limit=501",
    "?type=record.exploded", "?type=nothing.*", "?object=no_such_object", "?object=" + ",".join(["person"] * 51),
    "?unknown=1",
])
async def test_bad_cursors_and_filters_are_400(ws: Workspace, query: str) -> None:
    await person(ws, "Someone")
    response = await ws.get(f"/v1/events{query}")
    assert response.status_code == 400, response.text
    assert response.json()["code"] == 400 and response.json()["message"]
    stream = await ws.get(f"/v1/events/stream{query}")  # no limit there: 400 as an unknown parameter
    assert stream.status_code == 400, stream.text


async def test_bad_last_event_id_is_400(ws: Workspace) -> None:
    for value in ("abc", "12345678"):
        response = await ws.get("/v1/events/stream", headers={"Last-Event-ID": value})
        assert response.status_code == 400 and "Last-Event-ID" in response.text


async def test_events_carry_the_webhook_body(ws: Workspace) -> None:
    async with running_receiver() as receiver:
        hook = (await ws.post("/v1/webhooks", {"url": receiver.url})).json()
        made = await person(ws, "Hooked")
        await ws.patch(f"/v1/records/{made['id']}", {"attributes": {"job_title": "CEO"}})
        await ws.post("/v1/tasks", {"title": "Hooked task", "entity_ids": [made["id"]]})
        await ws.delete(f"/v1/records/{made['id']}")
        await receiver.wait_for(4)
        verifier = Webhook(hook["secret"])
        delivered = sorted((verifier.verify(r.body, r.headers) for r in receiver.requests),
                           key=lambda e: ["record.created", "record.updated", "task.created",
                                          "record.deleted"].index(e["type"]))
    streamed = await walk(ws, "?type=record.*,task.*")
    assert [(e["type"], e["data"]) for e in streamed] == [(e["type"], e["data"]) for e in delivered]


async def test_writes_outside_a_request_reach_the_stream(ws: Workspace) -> None:
    await person(ws, "Before")
    response = await upload(ws, b"name\nImported One\nImported Two\n")
    assert response.status_code == 200, response.text
    assert (await finished(ws, response.json()["id"]))["status"] == "completed"
    await person(ws, "After")
    # The import's batch was numbered at its commit, like any other write.
    names = [e["data"]["attributes"]["name"] for e in await walk(ws, "?type=record.created")]
    assert names == ["Before", "Imported One", "Imported Two", "After"]


async def test_concurrent_writers_get_dense_distinct_positions(ws: Workspace) -> None:
    made = await asyncio.gather(*(person(ws, f"Racer {i}") for i in range(20)))
    seen = await walk(ws, limit=7)
    assert sorted(e["data"]["id"] for e in seen) == sorted(m["id"] for m in made)
    positions = [int(e["id"]) for e in seen]
    assert positions == list(range(positions[0], positions[0] + 20))


async def test_retention_purge_and_expired_cursors(ws: Workspace, db: Any, worker: Any) -> None:
    from workers.lifecycle import purge_expired

    for i in range(4):
        await person(ws, f"Aging {i}")
    seen = await walk(ws)
    positions = [int(e["id"]) for e in seen]
    await db.execute("UPDATE events SET created_at = created_at - interval '8 days' WHERE workspace_id = $1 "
                     "AND position <= $2", int(ws.id), positions[1])
    assert await purge_expired(worker.ctx) >= 2
    kept = await walk(ws)
    assert [e["id"] for e in kept] == [e["id"] for e in seen[2:]]
    # A cursor whose following events were purged is 410 (the client missed some); the purged
    # boundary itself, or anything after it, still reads.
    expired = await ws.get(f"/v1/events?cursor={positions[0]}")
    assert expired.status_code == 410 and expired.json()["code"] == 410
    assert (await ws.get("/v1/events/stream", headers={"Last-Event-ID": str(positions[0])})).status_code == 410
    assert [e["id"] for e in (await events(ws, f"?cursor={positions[1]}"))["data"]] == [e["id"] for e in seen[2:]]
