"""Object definitions: defaults, create/read/update/delete, slugs, concurrency, isolation."""

from __future__ import annotations

import asyncio

import pytest

from tests.conftest import Workspace, WorkspaceFactory
from tests.spec import assert_matches


async def test_new_workspace_has_person_and_company(ws: Workspace) -> None:
    response = await ws.get("/v1/objects?include_attributes=true")
    assert response.status_code == 200
    body = response.json()
    assert_matches("developer.ListObjectsResponse", body)
    objects = {o["slug"]: o for o in body["data"]}
    assert set(objects) == {"person", "company"}
    person = {a["slug"]: a for a in objects["person"]["attributes"]}
    assert person["name"]["type"] == "full_name"
    assert person["email_addresses"]["type"] == "email"
    assert person["email_addresses"]["options"]["is_multi_value"] is True
    assert person["email_addresses"]["options"]["is_unique"] is True
    assert person["phone_numbers"]["type"] == "phone" and person["phone_numbers"]["options"]["is_multi_value"]
    assert {"job_title", "description"} <= set(person)
    company = {a["slug"]: a for a in objects["company"]["attributes"]}
    assert company["name"]["type"] == "text"
    assert company["domains"]["type"] == "domain" and company["domains"]["options"]["is_unique"]
    assert company["employee_count"]["type"] == "number"
    assert {"description", "industry"} <= set(company)


async def test_listing_without_attributes_omits_them(ws: Workspace) -> None:
    body = (await ws.get("/v1/objects")).json()
    assert all("attributes" not in o for o in body["data"])


async def test_create_get_update_object(ws: Workspace) -> None:
    response = await ws.post("/v1/objects", {"name": "Project", "slug": "project", "name_plural": "Projects",
                                             "description": "Tracker", "type": "custom"})
    assert response.status_code == 200, response.text
    created = response.json()
    assert_matches("developer.ObjectResponse", created)
    assert created["slug"] == "project" and created["type"] == "custom" and created["attributes"] == []
    fetched = (await ws.get("/v1/objects/project")).json()
    assert fetched["id"] == created["id"]
    patched = await ws.patch("/v1/objects/project", {"name": "Initiative", "description": "Renamed"})
    assert patched.status_code == 200
    assert patched.json()["name"] == "Initiative" and patched.json()["name_plural"] == "Projects"
    assert (await ws.get("/v1/objects/project")).json()["description"] == "Renamed"


async def test_type_defaults_to_custom(ws: Workspace) -> None:
    response = await ws.post("/v1/objects", {"name": "Deal", "slug": "opportunity"})
    assert response.json()["type"] == "custom"
    deal = await ws.post("/v1/objects", {"name": "Deal", "slug": "deal", "type": "deal"})
    assert deal.json()["type"] == "deal"


@pytest.mark.parametrize("slug", ["Project", "1project", "pro ject", "pro.ject", "", "a" * 64, "proj/ect",
                                  "projé", "_project"])
async def test_invalid_slugs_are_400(ws: Workspace, slug: str) -> None:
    response = await ws.post("/v1/objects", {"name": "P", "slug": slug})
    assert response.status_code == 400, slug
    assert (await ws.get("/v1/objects")).json()["data"].__len__() == 2


@pytest.mark.parametrize("body", [
    {"slug": "x"}, {"name": "X"}, {"name": "X", "slug": "x", "type": "list"}, {"name": "X", "slug": "x", "type": "y"},
    {"name": 5, "slug": "x"}, {"name": "X", "slug": "x", "extra": True},
])
async def test_invalid_bodies_are_400(ws: Workspace, body: dict[str, object]) -> None:
    assert (await ws.post("/v1/objects", body)).status_code == 400


async def test_duplicate_slug_is_409(ws: Workspace) -> None:
    assert (await ws.post("/v1/objects", {"name": "A", "slug": "thing"})).status_code == 200
    response = await ws.post("/v1/objects", {"name": "B", "slug": "thing"})
    assert response.status_code == 409
    assert (await ws.post("/v1/objects", {"name": "P", "slug": "person"})).status_code == 409


async def test_concurrent_creation_of_one_slug_leaves_one(ws: Workspace) -> None:
    responses = await asyncio.gather(*(ws.post("/v1/objects", {"name": "Race", "slug": "race"}) for _ in range(2)))
    assert sorted(r.status_code for r in responses) == [200, 409]
    slugs = [o["slug"] for o in (await ws.get("/v1/objects")).json()["data"]]
    assert slugs.count("race") == 1


async def test_delete_object_removes_attributes_lists_relationships(ws: Workspace) -> None:
    obj = (await ws.post("/v1/objects", {"name": "Ticket", "slug": "ticket"})).json()
    await ws.post("/v1/objects/ticket/attributes", {"name": "Title", "slug": "title", "type": "text"})
    lst = (await ws.post("/v1/objects/ticket/lists", {"name": "Hot", "slug": "hot-tickets"})).json()
    person_id = next(o["id"] for o in (await ws.get("/v1/objects")).json()["data"] if o["slug"] == "person")
    rel = await ws.post("/v1/relationships", {"type": "many_to_many", "entity_definition_1_id": obj["id"],
                                              "entity_definition_2_id": person_id})
    assert rel.status_code == 200
    assert (await ws.delete("/v1/objects/ticket")).status_code == 200
    assert (await ws.delete("/v1/objects/ticket")).status_code == 404
    assert (await ws.get("/v1/objects/ticket")).status_code == 404
    assert (await ws.get(f"/v1/lists/{lst['id']}")).status_code == 404
    assert (await ws.get("/v1/objects/hot-tickets")).status_code == 404
    assert (await ws.get("/v1/relationships")).json()["data"] == []
    # The slug is free again.
    again = await ws.post("/v1/objects", {"name": "Ticket", "slug": "ticket"})
    assert again.status_code == 200 and again.json()["attributes"] == []


async def test_default_objects_cannot_be_deleted(ws: Workspace) -> None:
    assert (await ws.delete("/v1/objects/person")).status_code == 400
    assert (await ws.get("/v1/objects/person")).status_code == 200


async def test_objects_of_other_workspaces_are_404(ws: Workspace, make_workspace: WorkspaceFactory) -> None:
    other = await make_workspace()
    await other.post("/v1/objects", {"name": "Secret", "slug": "secret"})
    for method, path, body in (("GET", "/v1/objects/secret", None), ("PATCH", "/v1/objects/secret", {"name": "x"}),
                               ("DELETE", "/v1/objects/secret", None),
                               ("POST", "/v1/objects/secret/attributes", {"name": "A", "slug": "a", "type": "text"}),
                               ("GET", "/v1/objects/secret/schema", None)):
        response = await ws.request(method, path, json=body)
        assert response.status_code == 404, (method, path, response.text)
    assert (await other.get("/v1/objects/secret")).json()["name"] == "Secret"
