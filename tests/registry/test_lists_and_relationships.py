"""Lists (object definitions of type list) and relationship definitions."""

from __future__ import annotations

from tests.conftest import Workspace, WorkspaceFactory
from tests.spec import assert_matches


async def _object_id(ws: Workspace, slug: str) -> str:
    return str((await ws.get(f"/v1/objects/{slug}")).json()["id"])


async def test_list_lifecycle(ws: Workspace) -> None:
    created = await ws.post("/v1/objects/person/lists", {"name": "VIP Contacts", "slug": "vip-contacts",
                                                         "description": "High value"})
    assert created.status_code == 200, created.text
    body = created.json()
    assert_matches("developer.ObjectResponse", body)
    assert body["type"] == "list" and body["parent_object_id"] == await _object_id(ws, "person")
    listed = (await ws.get("/v1/objects/person/lists")).json()
    assert_matches("developer.ListObjectsResponse", listed)
    assert [x["slug"] for x in listed["data"]] == ["vip-contacts"]
    assert (await ws.get("/v1/objects/company/lists")).json()["data"] == []
    assert (await ws.get(f"/v1/lists/{body['id']}")).json()["slug"] == "vip-contacts"
    # Lists do not show up as objects, but their attributes live under their slug.
    assert "vip-contacts" not in [o["slug"] for o in (await ws.get("/v1/objects")).json()["data"]]
    attr = await ws.post("/v1/objects/vip-contacts/attributes", {"name": "Score", "slug": "score", "type": "number"})
    assert attr.status_code == 200
    fetched = (await ws.get(f"/v1/lists/{body['id']}")).json()
    assert [a["slug"] for a in fetched["attributes"]] == ["score"]
    assert (await ws.delete(f"/v1/lists/{body['id']}")).status_code == 200
    assert (await ws.get(f"/v1/lists/{body['id']}")).status_code == 404


async def test_list_errors(ws: Workspace, make_workspace: WorkspaceFactory) -> None:
    assert (await ws.post("/v1/objects/nothing/lists", {"name": "X", "slug": "x"})).status_code == 404
    first = (await ws.post("/v1/objects/person/lists", {"name": "X", "slug": "x"})).json()
    assert (await ws.post("/v1/objects/person/lists", {"name": "X", "slug": "x"})).status_code == 409
    assert (await ws.post("/v1/objects/x/lists", {"name": "Y", "slug": "y"})).status_code == 400
    assert (await ws.get("/v1/lists/not-a-number")).status_code == 404
    person_id = await _object_id(ws, "person")
    assert (await ws.get(f"/v1/lists/{person_id}")).status_code == 404  # an object, not a list
    other = await make_workspace()
    assert (await other.get(f"/v1/lists/{first['id']}")).status_code == 404
    assert (await other.delete(f"/v1/lists/{first['id']}")).status_code == 404
    assert (await ws.get(f"/v1/lists/{first['id']}")).status_code == 200


async def test_relationship_definitions(ws: Workspace, make_workspace: WorkspaceFactory) -> None:
    person, company = await _object_id(ws, "person"), await _object_id(ws, "company")
    response = await ws.post("/v1/relationships", {
        "type": "one_to_many", "entity_definition_1_id": company, "entity_definition_2_id": person,
        "entity_1_to_2_predicate": "employs", "entity_2_to_1_predicate": "works at"})
    assert response.status_code == 200, response.text
    created = response.json()
    assert_matches("developer.RelationshipDefinitionResponse", created)
    assert created["entity_1_to_2_predicate"] == "employs"
    listed = (await ws.get("/v1/relationships")).json()
    assert_matches("developer.ListRelationshipDefinitionsResponse", listed)
    assert [d["id"] for d in listed["data"]] == [created["id"]]
    other = await make_workspace()
    assert (await other.delete(f"/v1/relationships/{created['id']}")).status_code == 404
    other_person = await _object_id(other, "person")
    foreign = await ws.post("/v1/relationships", {"type": "many_to_many", "entity_definition_1_id": other_person,
                                                  "entity_definition_2_id": person})
    assert foreign.status_code == 404
    bad = await ws.post("/v1/relationships", {"type": "many", "entity_definition_1_id": person,
                                              "entity_definition_2_id": person})
    assert bad.status_code == 400
    assert (await ws.delete(f"/v1/relationships/{created['id']}")).status_code == 200
    assert (await ws.get("/v1/relationships")).json()["data"] == []
