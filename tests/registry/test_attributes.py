"""Attribute definitions: every type, options, reserved slugs, select options, type changes."""

from __future__ import annotations

import pytest

from tests.conftest import Workspace, WorkspaceFactory
from tests.spec import assert_matches

TYPES = ["text", "number", "email", "phone", "url", "date", "boolean", "currency", "location", "select",
         "social_profile", "domain", "full_name"]


@pytest.fixture
async def project(ws: Workspace) -> Workspace:
    assert (await ws.post("/v1/objects", {"name": "Project", "slug": "project"})).status_code == 200
    return ws


@pytest.mark.parametrize("kind", TYPES)
async def test_create_attribute_of_every_type(project: Workspace, kind: str) -> None:
    response = await project.post("/v1/objects/project/attributes",
                                  {"name": kind.title(), "slug": f"f_{kind}", "type": kind,
                                   "description": f"A {kind}"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert_matches("developer.AttributeDefinitionResponse", body)
    assert body["type"] == kind and body["slug"] == f"f_{kind}"
    assert body["options"]["is_required"] is False
    listed = (await project.get("/v1/objects/project")).json()["attributes"]
    assert [a["slug"] for a in listed] == [f"f_{kind}"]


async def test_options_are_stored(project: Workspace) -> None:
    body = (await project.post("/v1/objects/project/attributes", {
        "name": "Budget", "slug": "budget", "type": "number",
        "options": {"is_whole_number": True, "use_raw_format": True, "is_unique": True}})).json()
    assert body["options"] == {"is_required": False, "is_unique": True, "is_multi_value": False,
                               "use_raw_format": True, "is_whole_number": True}


@pytest.mark.parametrize("slug", ["id", "created_at", "updated_at", "workspace_id", "object_id", "type"])
async def test_reserved_slugs_are_refused(project: Workspace, slug: str) -> None:
    response = await project.post("/v1/objects/project/attributes", {"name": "X", "slug": slug, "type": "text"})
    assert response.status_code == 400
    assert "reserved" in response.json()["message"]


@pytest.mark.parametrize("body", [
    {"name": "X", "slug": "x", "type": "money"},
    {"name": "X", "slug": "X", "type": "text"},
    {"name": "X", "slug": "x"},
    {"name": "X", "slug": "x", "type": "text", "options": {"select_options": [{"name": "A"}]}},
    {"name": "X", "slug": "x", "type": "text", "options": {"is_whole_number": True}},
    {"name": "X", "slug": "x", "type": "boolean", "options": {"is_unique": True}},
    {"name": "X", "slug": "x", "type": "select", "options": {"select_options": [{"name": "A"}, {"name": "a"}]}},
    {"name": "X", "slug": "x", "type": "select", "options": {"select_options": [{"name": ""}]}},
    {"name": "X", "slug": "x", "type": "text", "options": {"is_required": "yes"}},
])
async def test_invalid_attribute_bodies_are_400(project: Workspace, body: dict[str, object]) -> None:
    response = await project.post("/v1/objects/project/attributes", body)
    assert response.status_code == 400, response.text
    assert (await project.get("/v1/objects/project")).json()["attributes"] == []


async def test_duplicate_attribute_slug_is_409(project: Workspace) -> None:
    body = {"name": "X", "slug": "x", "type": "text"}
    assert (await project.post("/v1/objects/project/attributes", body)).status_code == 200
    assert (await project.post("/v1/objects/project/attributes", body)).status_code == 409


async def test_select_options_have_stable_ids_rename_and_add(project: Workspace) -> None:
    created = (await project.post("/v1/objects/project/attributes", {
        "name": "Status", "slug": "status", "type": "select",
        "options": {"select_options": [{"name": "Open"}, {"name": "Done"}]}})).json()
    options = created["options"]["select_options"]
    assert [o["name"] for o in options] == ["Open", "Done"] and all(o["id"] for o in options)
    open_id = options[0]["id"]
    patched = await project.patch(f"/v1/objects/project/attributes/{created['id']}", {
        "options": {"select_options": [{"id": open_id, "name": "Opened"}, {"name": "Blocked"}]}})
    assert patched.status_code == 200, patched.text
    after = patched.json()["options"]["select_options"]
    assert [o["name"] for o in after] == ["Opened", "Done", "Blocked"]
    assert after[0]["id"] == open_id and after[1]["id"] == options[1]["id"]
    unknown = await project.patch(f"/v1/objects/project/attributes/{created['id']}", {
        "options": {"select_options": [{"id": "nope", "name": "X"}]}})
    assert unknown.status_code == 400


async def test_patch_name_and_description(project: Workspace) -> None:
    created = (await project.post("/v1/objects/project/attributes",
                                  {"name": "Title", "slug": "title", "type": "text"})).json()
    response = await project.patch(f"/v1/objects/project/attributes/{created['id']}",
                                   {"name": "Headline", "description": "Shown first"})
    assert response.status_code == 200
    assert response.json()["name"] == "Headline" and response.json()["description"] == "Shown first"
    assert response.json()["slug"] == "title"


async def test_type_change_is_400(project: Workspace) -> None:
    created = (await project.post("/v1/objects/project/attributes",
                                  {"name": "Title", "slug": "title", "type": "text"})).json()
    response = await project.patch(f"/v1/objects/project/attributes/{created['id']}", {"type": "number"})
    assert response.status_code == 400
    assert (await project.get("/v1/objects/project")).json()["attributes"][0]["type"] == "text"


async def test_delete_attribute(project: Workspace) -> None:
    created = (await project.post("/v1/objects/project/attributes",
                                  {"name": "Title", "slug": "title", "type": "text"})).json()
    assert (await project.delete(f"/v1/objects/project/attributes/{created['id']}")).status_code == 200
    assert (await project.get("/v1/objects/project")).json()["attributes"] == []
    assert (await project.delete(f"/v1/objects/project/attributes/{created['id']}")).status_code == 404


async def test_attribute_of_other_workspace_is_404(ws: Workspace, make_workspace: WorkspaceFactory) -> None:
    other = await make_workspace()
    attr = next(a for a in (await other.get("/v1/objects/person")).json()["attributes"] if a["slug"] == "job_title")
    response = await ws.patch(f"/v1/objects/person/attributes/{attr['id']}", {"name": "Stolen"})
    assert response.status_code == 404
    assert (await ws.delete(f"/v1/objects/person/attributes/{attr['id']}")).status_code == 404
    names = [a["name"] for a in (await other.get("/v1/objects/person")).json()["attributes"]]
    assert "Stolen" not in names and "Job title" in names


async def test_attribute_cap_per_object(project: Workspace, app: object) -> None:
    from tessera.registry import service

    original = service.MAX_ATTRIBUTES_PER_OBJECT
    service.MAX_ATTRIBUTES_PER_OBJECT = 3
    try:
        for i in range(3):
            assert (await project.post("/v1/objects/project/attributes",
                                       {"name": f"A{i}", "slug": f"a{i}", "type": "text"})).status_code == 200
        response = await project.post("/v1/objects/project/attributes", {"name": "A", "slug": "a9", "type": "text"})
        assert response.status_code == 400 and "at most 3" in response.json()["message"]
    finally:
        service.MAX_ATTRIBUTES_PER_OBJECT = original


async def test_schema_endpoint_serves_json_schema(project: Workspace) -> None:
    await project.post("/v1/objects/project/attributes",
                       {"name": "Budget", "slug": "budget", "type": "number", "options": {"is_required": True}})
    schema = (await project.get("/v1/objects/project/schema")).json()
    assert schema["$schema"].endswith("2020-12/schema")
    assert schema["type"] == "object" and "budget" in schema["properties"]
    assert schema["required"] == ["budget"] and schema["additionalProperties"] is False
