"""List entries: add (again = 409), upsert, patch, remove, query with parent attributes."""

from __future__ import annotations

import pytest

from tests.conftest import Workspace, WorkspaceFactory
from tests.spec import assert_matches


@pytest.fixture
async def setup(ws: Workspace) -> tuple[Workspace, str, list[str]]:
    lst = (await ws.post("/v1/objects/person/lists", {"name": "Leads", "slug": "leads"})).json()
    await ws.post("/v1/objects/leads/attributes", {"name": "Score", "slug": "score", "type": "number"})
    await ws.post("/v1/objects/leads/attributes", {
        "name": "Stage", "slug": "stage", "type": "select",
        "options": {"select_options": [{"name": "New"}, {"name": "Qualified"}]}})
    people = []
    for name, title in (("Ann Lee", "CTO"), ("Bob Ray", "CEO"), ("Cid Moe", "CTO")):
        people.append((await ws.post("/v1/objects/person", {"attributes": {"name": name, "job_title": title}})
                       ).json()["id"])
    return ws, lst["id"], people


async def test_entry_lifecycle(setup: tuple[Workspace, str, list[str]]) -> None:
    ws, list_id, people = setup
    added = await ws.post(f"/v1/lists/{list_id}", {"parent_id": people[0], "attributes": {"score": 85,
                                                                                         "stage": "new"}})
    assert added.status_code == 200, added.text
    entry = added.json()
    assert_matches("developer.CreateListMemberResponse", entry)
    assert entry["object_id"] == list_id and entry["parent_id"] == people[0]
    assert entry["attributes"] == {"score": 85, "stage": "New"}
    again = await ws.post(f"/v1/lists/{list_id}", {"parent_id": people[0]})
    assert again.status_code == 409
    upserted = await ws.put(f"/v1/lists/{list_id}", {"parent_id": people[0], "attributes": {"score": 90}})
    assert upserted.status_code == 200 and upserted.json()["id"] == entry["id"]
    assert upserted.json()["attributes"] == {"score": 90, "stage": "New"}
    created_by_put = await ws.put(f"/v1/lists/{list_id}", {"parent_id": people[1], "attributes": {"score": 10}})
    assert created_by_put.status_code == 200 and created_by_put.json()["id"] != entry["id"]
    patched = await ws.patch(f"/v1/lists/{list_id}/records/{people[0]}", {"attributes": {"stage": "Qualified"}})
    assert patched.status_code == 200
    assert_matches("developer.UpdateListRecordResponse", patched.json())
    assert patched.json()["attributes"]["stage"] == "Qualified"
    assert (await ws.delete(f"/v1/lists/{list_id}/records/{people[0]}")).status_code == 200
    assert (await ws.delete(f"/v1/lists/{list_id}/records/{people[0]}")).status_code == 404
    assert (await ws.get(f"/v1/records/{people[0]}")).status_code == 200


async def test_query_entries_with_parent_attributes(setup: tuple[Workspace, str, list[str]]) -> None:
    ws, list_id, people = setup
    for person, score in zip(people, (50, 70, 90), strict=True):
        await ws.post(f"/v1/lists/{list_id}", {"parent_id": person, "attributes": {"score": score}})
    response = await ws.post(f"/v1/lists/{list_id}/records", {
        "filter": {"parent.job_title": "CTO"}, "sort": {"attribute": "score", "direction": "desc"}})
    assert response.status_code == 200, response.text
    body = response.json()
    assert_matches("developer.ListRecordsResponse", body)
    assert body["total"] == 2
    assert [item["id"] for item in body["data"]] == [people[2], people[0]]
    first = body["data"][0]
    assert first["attributes"]["name"] == "Cid Moe"
    assert first["list_entry"]["attributes"] == {"score": 90}
    by_parent_sort = await ws.post(f"/v1/lists/{list_id}/records", {"sort": {"attribute": "parent.name"}})
    assert [i["attributes"]["name"] for i in by_parent_sort.json()["data"]] == ["Ann Lee", "Bob Ray", "Cid Moe"]
    ranged = await ws.post(f"/v1/lists/{list_id}/records", {"filter": {"score": {"$gte": 70}}})
    assert {i["id"] for i in ranged.json()["data"]} == {people[1], people[2]}


async def test_entry_errors(setup: tuple[Workspace, str, list[str]], make_workspace: WorkspaceFactory) -> None:
    ws, list_id, people = setup
    company = (await ws.post("/v1/objects/company", {"attributes": {"name": "Acme"}})).json()
    wrong_type = await ws.post(f"/v1/lists/{list_id}", {"parent_id": company["id"]})
    assert wrong_type.status_code == 400
    assert (await ws.post(f"/v1/lists/{list_id}", {"parent_id": "123"})).status_code == 404
    assert (await ws.post(f"/v1/lists/{list_id}", {"parent_id": people[0], "attributes": {"score": "high"}})
            ).status_code == 400
    assert (await ws.post(f"/v1/lists/{list_id}", {"parent_id": people[0], "attributes": {"nope": 1}})
            ).status_code == 400
    assert (await ws.post("/v1/lists/999", {"parent_id": people[0]})).status_code == 404
    assert (await ws.post(f"/v1/lists/{list_id}", {})).status_code == 400
    other = await make_workspace()
    assert (await other.post(f"/v1/lists/{list_id}", {"parent_id": people[0]})).status_code == 404
    assert (await other.post(f"/v1/lists/{list_id}/records", {})).status_code == 404


async def test_deleting_a_record_removes_its_entries(setup: tuple[Workspace, str, list[str]]) -> None:
    ws, list_id, people = setup
    await ws.post(f"/v1/lists/{list_id}", {"parent_id": people[0]})
    await ws.delete(f"/v1/records/{people[0]}")
    assert (await ws.post(f"/v1/lists/{list_id}/records", {})).json()["total"] == 0


async def test_entry_events_land_on_the_parent_timeline(setup: tuple[Workspace, str, list[str]], db: object
                                                        ) -> None:
    ws, list_id, people = setup
    entry = (await ws.post(f"/v1/lists/{list_id}", {"parent_id": people[0]})).json()
    rows = await db.fetch(  # type: ignore[attr-defined]
        "SELECT resource_type, resource_id, event_type FROM timeline_events WHERE workspace_id = $1 "
        "AND record_id = $2 ORDER BY id", int(ws.id), int(people[0]))
    assert ("list_item", int(entry["id"]), "created") in [tuple(r) for r in rows]
