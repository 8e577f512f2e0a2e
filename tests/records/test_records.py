"""Records: create, read, update, delete; read forms; refused writes leave nothing behind."""

from __future__ import annotations

import asyncpg
import pytest

from tests.conftest import Workspace, WorkspaceFactory
from tests.spec import assert_matches

TABLES = ("records", "record_values", "unique_values", "timeline_events", "outbox", "attribute_history")


async def footprint(db: asyncpg.Connection, ws: Workspace) -> dict[str, int]:
    return {t: int(await db.fetchval(f"SELECT count(*) FROM {t} WHERE workspace_id = $1", int(ws.id)))
            for t in TABLES}


async def test_create_person_returns_the_read_form(ws: Workspace) -> None:
    response = await ws.post("/v1/objects/person", {"attributes": {
        "name": {"first_name": "John", "last_name": "Smith"}, "email_addresses": ["John.Smith@Example.COM"],
        "phone_numbers": "+44 20 7946 0958", "job_title": "CTO"}})
    assert response.status_code == 200, response.text
    body = response.json()
    assert_matches("developer.CreateRecordResponse", body)
    assert body["type"] == "person" and body["workspace_id"] == ws.id
    assert body["attributes"] == {"name": "John Smith", "email_addresses": ["john.smith@example.com"],
                                  "phone_numbers": ["+442079460958"], "job_title": "CTO"}
    assert body["created_at"].endswith("Z")
    fetched = await ws.get(f"/v1/records/{body['id']}")
    assert fetched.status_code == 200
    assert_matches("developer.RecordResponse", fetched.json())
    assert fetched.json() == body


async def test_company_domain_is_normalized(ws: Workspace) -> None:
    body = (await ws.post("/v1/objects/company", {"attributes": {
        "name": "Acme", "domains": ["https://www.Acme.com/x", "blog.acme.co.uk"], "employee_count": 120}})).json()
    assert body["attributes"]["domains"] == ["acme.com", "acme.co.uk"]
    assert body["attributes"]["employee_count"] == 120


@pytest.mark.parametrize(("attributes", "path"), [
    ({"name": "X", "email_addresses": ["not-an-email"]}, "attributes.email_addresses[0]"),
    ({"name": "X", "nickname": "Jo"}, "attributes.nickname"),
    ({"name": "X", "job_title": ["a", "b"]}, "attributes.job_title"),
    ({"name": "X", "phone_numbers": ["12"]}, "attributes.phone_numbers[0]"),
    ({"name": "X", "job_title": 5}, "attributes.job_title"),
    ({"name": "X", "email_addresses": ["a@b.com", 7]}, "attributes.email_addresses[1]"),
])
async def test_invalid_values_are_400_and_write_nothing(ws: Workspace, db: asyncpg.Connection,
                                                        attributes: dict[str, object], path: str) -> None:
    before = await footprint(db, ws)
    response = await ws.post("/v1/objects/person", {"attributes": attributes})
    assert response.status_code == 400, response.text
    assert path in [e["path"] for e in response.json()["errors"]]
    assert await footprint(db, ws) == before


async def test_every_error_is_reported_at_once(ws: Workspace) -> None:
    response = await ws.post("/v1/objects/person", {"attributes": {
        "email_addresses": ["bad", "also bad"], "nickname": 1}})
    paths = {e["path"] for e in response.json()["errors"]}
    assert {"attributes.email_addresses[0]", "attributes.email_addresses[1]", "attributes.nickname"} <= paths


@pytest.mark.parametrize("body", [{}, {"attributes": []}, {"attributes": "x"}, {"attributes": {}, "extra": 1}])
async def test_malformed_bodies_are_400(ws: Workspace, body: dict[str, object]) -> None:
    assert (await ws.post("/v1/objects/person", body)).status_code == 400


async def test_unknown_object_and_list_object(ws: Workspace) -> None:
    assert (await ws.post("/v1/objects/nothing", {"attributes": {}})).status_code == 404
    await ws.post("/v1/objects/person/lists", {"name": "L", "slug": "leads"})
    assert (await ws.post("/v1/objects/leads", {"attributes": {}})).status_code == 400


async def test_required_attributes(ws: Workspace) -> None:
    await ws.post("/v1/objects", {"name": "Deal", "slug": "deal", "type": "deal"})
    await ws.post("/v1/objects/deal/attributes", {"name": "Title", "slug": "title", "type": "text",
                                                  "options": {"is_required": True}})
    missing = await ws.post("/v1/objects/deal", {"attributes": {}})
    assert missing.status_code == 400 and missing.json()["errors"][0]["path"] == "attributes.title"
    created = (await ws.post("/v1/objects/deal", {"attributes": {"title": "Big"}})).json()
    cleared = await ws.patch(f"/v1/records/{created['id']}", {"attributes": {"title": None}})
    assert cleared.status_code == 400
    assert (await ws.get(f"/v1/records/{created['id']}")).json()["attributes"]["title"] == "Big"


async def test_patch_replaces_named_attributes_and_null_clears(ws: Workspace) -> None:
    created = (await ws.post("/v1/objects/person", {"attributes": {
        "name": "Ada Lovelace", "job_title": "Analyst", "description": "First programmer",
        "email_addresses": ["ada@example.com", "ada@work.com"]}})).json()
    response = await ws.patch(f"/v1/records/{created['id']}", {"attributes": {
        "job_title": "Countess", "description": None, "email_addresses": ["ada@new.com"]}})
    assert response.status_code == 200
    body = response.json()
    assert_matches("developer.UpdateRecordResponse", body)
    assert body["attributes"] == {"name": "Ada Lovelace", "job_title": "Countess",
                                  "email_addresses": ["ada@new.com"]}
    assert body["updated_at"] >= created["updated_at"]
    # The freed address can be used by another record, the new one cannot.
    assert (await ws.post("/v1/objects/person", {"attributes": {"email_addresses": ["ada@work.com"]}})
            ).status_code == 200
    assert (await ws.post("/v1/objects/person", {"attributes": {"email_addresses": ["ada@new.com"]}})
            ).status_code == 409


async def test_failed_patch_changes_nothing(ws: Workspace, db: asyncpg.Connection) -> None:
    created = (await ws.post("/v1/objects/person", {"attributes": {"name": "A B", "job_title": "x"}})).json()
    before = await footprint(db, ws)
    response = await ws.patch(f"/v1/records/{created['id']}", {"attributes": {"job_title": "y",
                                                                              "email_addresses": ["bad"]}})
    assert response.status_code == 400
    assert await footprint(db, ws) == before
    assert (await ws.get(f"/v1/records/{created['id']}")).json()["attributes"]["job_title"] == "x"


async def test_unique_conflict_is_409_and_writes_nothing(ws: Workspace, db: asyncpg.Connection) -> None:
    await ws.post("/v1/objects/person", {"attributes": {"email_addresses": ["taken@example.com"]}})
    before = await footprint(db, ws)
    response = await ws.post("/v1/objects/person", {"attributes": {
        "name": "Other", "email_addresses": ["fresh@example.com", "TAKEN@example.com"]}})
    assert response.status_code == 409
    assert await footprint(db, ws) == before


async def test_delete_record(ws: Workspace, db: asyncpg.Connection) -> None:
    created = (await ws.post("/v1/objects/person", {"attributes": {"name": "Gone", "email_addresses": ["g@x.io"]}})
               ).json()
    assert (await ws.delete(f"/v1/records/{created['id']}")).status_code == 200
    assert (await ws.get(f"/v1/records/{created['id']}")).status_code == 404
    assert (await ws.delete(f"/v1/records/{created['id']}")).status_code == 404
    assert (await ws.patch(f"/v1/records/{created['id']}", {"attributes": {}})).status_code == 404
    values = await db.fetchval("SELECT count(*) FROM record_values WHERE workspace_id = $1 AND record_id = $2",
                               int(ws.id), int(created["id"]))
    assert values == 0
    # Its unique value is free again.
    assert (await ws.post("/v1/objects/person", {"attributes": {"email_addresses": ["g@x.io"]}})).status_code == 200
    events = await db.fetch("SELECT event_type FROM timeline_events WHERE workspace_id = $1 AND record_id = $2 "
                            "ORDER BY id", int(ws.id), int(created["id"]))
    assert [e["event_type"] for e in events] == ["created", "deleted"]


async def test_records_of_other_workspaces_are_404(ws: Workspace, make_workspace: WorkspaceFactory) -> None:
    other = await make_workspace()
    theirs = (await other.post("/v1/objects/person", {"attributes": {"name": "Secret"}})).json()
    rid = theirs["id"]
    assert (await ws.get(f"/v1/records/{rid}")).status_code == 404
    assert (await ws.patch(f"/v1/records/{rid}", {"attributes": {"name": "Hacked"}})).status_code == 404
    assert (await ws.delete(f"/v1/records/{rid}")).status_code == 404
    assert (await other.get(f"/v1/records/{rid}")).json()["attributes"]["name"] == "Secret"


async def test_writes_append_timeline_events_and_outbox_rows(ws: Workspace, db: asyncpg.Connection) -> None:
    created = (await ws.post("/v1/objects/person", {"attributes": {"name": "Tim Line", "job_title": "A"}})).json()
    await ws.patch(f"/v1/records/{created['id']}", {"attributes": {"job_title": "B"}})
    events = await db.fetch("SELECT resource_type, event_type, payload, actor FROM timeline_events "
                            "WHERE workspace_id = $1 AND record_id = $2 ORDER BY id", int(ws.id), int(created["id"]))
    assert [(e["resource_type"], e["event_type"]) for e in events] == [("entity", "created"), ("entity", "updated")]
    import json

    payload = json.loads(events[1]["payload"])
    assert payload["field_changes"] == [{"field_name": "job_title", "old_value": "A", "new_value": "B"}]
    assert events[0]["actor"] == "developer_api"
    outbox = await db.fetch("SELECT topic, event_type FROM outbox WHERE workspace_id = $1 AND aggregate_id = $2 "
                            "ORDER BY id", int(ws.id), int(created["id"]))
    assert [(o["topic"], o["event_type"]) for o in outbox] == [("search", "record.created"),
                                                               ("search", "record.updated")]


async def test_patch_without_changes_writes_nothing(ws: Workspace, db: asyncpg.Connection) -> None:
    created = (await ws.post("/v1/objects/person", {"attributes": {"name": "Same", "job_title": "A"}})).json()
    before = await footprint(db, ws)
    response = await ws.patch(f"/v1/records/{created['id']}", {"attributes": {"job_title": "A"}})
    assert response.status_code == 200 and response.json()["updated_at"] == created["updated_at"]
    assert await footprint(db, ws) == before


async def test_record_writes_share_the_schema_lock_and_schema_changes_wait(ws: Workspace, app: object) -> None:
    """A record write holds the workspace's schema lock until it commits: other record writes go
    ahead beside it, a schema change waits for it."""
    import asyncio

    from tessera.db.tenant import Tenant
    from tessera.registry.repository import schema_version

    engine = app.state.tessera.engine  # type: ignore[attr-defined]
    async with engine.connect() as conn, conn.begin():
        await schema_version(Tenant(conn, int(ws.id)), lock="share")  # what a record write takes
        created = await asyncio.wait_for(ws.post("/v1/objects/company", {"attributes": {"name": "Beside"}}), 10)
        assert created.status_code == 200, created.text
        change = asyncio.create_task(ws.post("/v1/objects/company/attributes",
                                             {"name": "Tier", "slug": "tier", "type": "text"}))
        await asyncio.sleep(0.5)
        assert not change.done(), "a schema change ran while a record write held the schema"
    assert (await asyncio.wait_for(change, 10)).status_code == 200
