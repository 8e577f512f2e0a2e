"""Upsert by a unique attribute, and uniqueness under concurrency."""

from __future__ import annotations

import asyncio

import asyncpg

from tests.conftest import Workspace
from tests.spec import assert_matches


async def _people(db: asyncpg.Connection, ws: Workspace) -> int:
    return int(await db.fetchval(
        "SELECT count(*) FROM records r JOIN object_definitions o ON o.workspace_id = r.workspace_id "
        "AND o.id = r.object_id WHERE r.workspace_id = $1 AND o.slug = 'person'", int(ws.id)))


async def test_upsert_creates_then_updates(ws: Workspace, db: asyncpg.Connection) -> None:
    body = {"matching_attribute": "email_addresses",
            "attributes": {"name": "Jane Smith", "email_addresses": ["jane@example.com"], "job_title": "CTO"}}
    first = await ws.put("/v1/objects/person", body)
    assert first.status_code == 200
    assert_matches("developer.UpsertRecordResponse", first.json())
    second = await ws.put("/v1/objects/person", {"matching_attribute": "email_addresses", "attributes": {
        "email_addresses": ["JANE@example.com"], "job_title": "CEO"}})
    assert second.json()["id"] == first.json()["id"]
    assert second.json()["attributes"]["job_title"] == "CEO"
    assert second.json()["attributes"]["name"] == "Jane Smith"
    assert await _people(db, ws) == 1


async def test_matching_attribute_by_id(ws: Workspace) -> None:
    attr_id = next(a["id"] for a in (await ws.get("/v1/objects/person")).json()["attributes"]
                   if a["slug"] == "email_addresses")
    first = await ws.put("/v1/objects/person", {"matching_attribute": attr_id,
                                                "attributes": {"email_addresses": ["x@y.io"]}})
    second = await ws.put("/v1/objects/person", {"matching_attribute": attr_id,
                                                 "attributes": {"email_addresses": ["x@y.io"], "job_title": "Z"}})
    assert first.json()["id"] == second.json()["id"]


async def test_upsert_refusals(ws: Workspace, db: asyncpg.Connection) -> None:
    not_unique = await ws.put("/v1/objects/person", {"matching_attribute": "job_title",
                                                     "attributes": {"job_title": "x"}})
    assert not_unique.status_code == 400
    unknown = await ws.put("/v1/objects/person", {"matching_attribute": "nope", "attributes": {"job_title": "x"}})
    assert unknown.status_code == 400
    no_value = await ws.put("/v1/objects/person", {"matching_attribute": "email_addresses",
                                                   "attributes": {"job_title": "x"}})
    assert no_value.status_code == 400
    missing = await ws.put("/v1/objects/person", {"attributes": {"email_addresses": ["a@b.io"]}})
    assert missing.status_code == 400
    assert await _people(db, ws) == 0


async def test_upsert_matching_two_records_is_409(ws: Workspace) -> None:
    await ws.post("/v1/objects/person", {"attributes": {"email_addresses": ["one@x.io"]}})
    await ws.post("/v1/objects/person", {"attributes": {"email_addresses": ["two@x.io"]}})
    response = await ws.put("/v1/objects/person", {"matching_attribute": "email_addresses",
                                                   "attributes": {"email_addresses": ["one@x.io", "two@x.io"]}})
    assert response.status_code == 409


async def test_concurrent_upserts_of_one_value_leave_one_record(ws: Workspace, db: asyncpg.Connection) -> None:
    bodies = [{"matching_attribute": "email_addresses",
               "attributes": {"email_addresses": ["race@example.com"], "job_title": f"T{i}"}} for i in range(8)]
    responses = await asyncio.gather(*(ws.put("/v1/objects/person", b) for b in bodies))
    assert all(r.status_code == 200 for r in responses), [r.text for r in responses]
    assert len({r.json()["id"] for r in responses}) == 1
    assert await _people(db, ws) == 1


async def test_concurrent_creates_with_one_unique_value(ws: Workspace, db: asyncpg.Connection) -> None:
    responses = await asyncio.gather(*(
        ws.post("/v1/objects/person", {"attributes": {"name": f"P{i}", "email_addresses": ["same@example.com"]}})
        for i in range(8)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [409] * 7
    assert await _people(db, ws) == 1
