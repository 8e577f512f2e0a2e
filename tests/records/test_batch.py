"""Batch creates and upserts with per-item results in one transaction."""

from __future__ import annotations

import asyncpg

from tests.conftest import Workspace


async def test_batch_create_reports_each_item(ws: Workspace, db: asyncpg.Connection) -> None:
    await ws.post("/v1/objects/person", {"attributes": {"email_addresses": ["taken@x.io"]}})
    items = [{"attributes": {"name": f"P{i}", "email_addresses": [f"p{i}@x.io"]}} for i in range(5)]
    items.append({"attributes": {"email_addresses": ["not an email"]}})
    items.append({"attributes": {"email_addresses": ["taken@x.io"]}})
    items.append({"attributes": {"email_addresses": ["p0@x.io"]}})  # repeats item 0
    response = await ws.post("/v1/objects/person/records/batch", {"records": items})
    assert response.status_code == 200, response.text
    body = response.json()
    assert [r["status"] for r in body["results"]] == ["created"] * 5 + ["error"] * 3
    assert body["results"][5]["error"]["code"] == 400
    assert body["results"][6]["error"]["code"] == 409
    assert body["results"][7]["error"]["code"] == 409
    assert (body["created"], body["failed"]) == (5, 3)
    count = await db.fetchval("SELECT count(*) FROM records WHERE workspace_id = $1", int(ws.id))
    assert count == 6
    ids = [r["id"] for r in body["results"][:5]]
    fetched = [(await ws.get(f"/v1/records/{i}")).json()["attributes"]["name"] for i in ids]
    assert fetched == [f"P{i}" for i in range(5)]


async def test_batch_upsert_updates_existing_and_creates_new(ws: Workspace) -> None:
    existing = (await ws.post("/v1/objects/person", {"attributes": {"name": "Old", "email_addresses": ["a@x.io"]}})
                ).json()
    response = await ws.post("/v1/objects/person/records/batch", {"matching_attribute": "email_addresses", "records": [
        {"attributes": {"email_addresses": ["a@x.io"], "job_title": "Updated"}},
        {"attributes": {"email_addresses": ["b@x.io"], "job_title": "New"}},
        {"attributes": {"email_addresses": ["b@x.io"], "job_title": "Newer"}},
        {"attributes": {"job_title": "No key"}},
    ]})
    body = response.json()
    assert [r["status"] for r in body["results"]] == ["updated", "created", "updated", "error"]
    assert body["results"][0]["id"] == existing["id"]
    assert body["results"][1]["id"] == body["results"][2]["id"]
    latest = (await ws.get(f"/v1/records/{body['results'][1]['id']}")).json()
    assert latest["attributes"]["job_title"] == "Newer"


async def test_batch_limits(ws: Workspace) -> None:
    assert (await ws.post("/v1/objects/person/records/batch", {"records": []})).status_code == 400
    too_many = {"records": [{"attributes": {}}] * 1001}
    assert (await ws.post("/v1/objects/person/records/batch", too_many)).status_code == 400
