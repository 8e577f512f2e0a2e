"""Relationship instances: types checked, cardinality enforced by the database."""

from __future__ import annotations

import asyncio

import pytest

from tests.conftest import Workspace, WorkspaceFactory
from tests.spec import assert_matches


async def _object_id(ws: Workspace, slug: str) -> str:
    return str((await ws.get(f"/v1/objects/{slug}")).json()["id"])


async def _record(ws: Workspace, slug: str, name: str) -> str:
    return str((await ws.post(f"/v1/objects/{slug}", {"attributes": {"name": name}})).json()["id"])


async def _definition(ws: Workspace, kind: str) -> str:
    response = await ws.post("/v1/relationships", {
        "type": kind, "entity_definition_1_id": await _object_id(ws, "company"),
        "entity_definition_2_id": await _object_id(ws, "person")})
    return str(response.json()["id"])


async def test_create_list_delete_instance(ws: Workspace) -> None:
    definition = await _definition(ws, "many_to_many")
    acme, ann = await _record(ws, "company", "Acme"), await _record(ws, "person", "Ann")
    response = await ws.post(f"/v1/records/{ann}/relationships", {
        "definition_id": definition, "entity_1_id": acme, "entity_2_id": ann})
    assert response.status_code == 200, response.text
    instance = response.json()
    assert_matches("developer.RelationshipInstanceResponse", instance)
    listed = (await ws.get(f"/v1/records/{acme}/relationships")).json()["data"]
    assert [i["id"] for i in listed] == [instance["id"]]
    assert (await ws.post(f"/v1/records/{ann}/relationships", {
        "definition_id": definition, "entity_1_id": acme, "entity_2_id": ann})).status_code == 409
    assert (await ws.delete(f"/v1/records/{ann}/relationships/{instance['id']}")).status_code == 200
    assert (await ws.get(f"/v1/records/{acme}/relationships")).json()["data"] == []
    assert (await ws.delete(f"/v1/records/{ann}/relationships/{instance['id']}")).status_code == 404


async def test_one_to_many_allows_one_parent(ws: Workspace) -> None:
    definition = await _definition(ws, "one_to_many")
    acme, globex = await _record(ws, "company", "Acme"), await _record(ws, "company", "Globex")
    ann, bob = await _record(ws, "person", "Ann"), await _record(ws, "person", "Bob")
    ok = [await ws.post(f"/v1/records/{acme}/relationships", {"definition_id": definition, "entity_1_id": acme,
                                                              "entity_2_id": p}) for p in (ann, bob)]
    assert [r.status_code for r in ok] == [200, 200]
    second_parent = await ws.post(f"/v1/records/{globex}/relationships", {
        "definition_id": definition, "entity_1_id": globex, "entity_2_id": ann})
    assert second_parent.status_code == 409


async def test_one_to_one_under_concurrency(ws: Workspace) -> None:
    definition = await _definition(ws, "one_to_one")
    acme = await _record(ws, "company", "Acme")
    people = [await _record(ws, "person", f"P{i}") for i in range(6)]
    responses = await asyncio.gather(*(ws.post(f"/v1/records/{p}/relationships", {
        "definition_id": definition, "entity_1_id": acme, "entity_2_id": p}) for p in people))
    assert sorted(r.status_code for r in responses) == [200] + [409] * 5


@pytest.mark.parametrize("case", ["wrong_types", "path_record_not_involved", "unknown_definition",
                                  "unknown_record"])
async def test_instance_refusals(ws: Workspace, case: str) -> None:
    definition = await _definition(ws, "many_to_many")
    acme, ann = await _record(ws, "company", "Acme"), await _record(ws, "person", "Ann")
    body = {"definition_id": definition, "entity_1_id": acme, "entity_2_id": ann}
    path_record, expected = ann, 400
    if case == "wrong_types":
        body = {"definition_id": definition, "entity_1_id": ann, "entity_2_id": acme}
    elif case == "path_record_not_involved":
        path_record = await _record(ws, "person", "Zed")
    elif case == "unknown_definition":
        body["definition_id"], expected = "12345", 404
    else:
        body["entity_1_id"], expected = "12345", 404
        path_record = "12345"
    response = await ws.post(f"/v1/records/{path_record}/relationships", body)
    assert response.status_code == expected, response.text


async def test_deleting_records_or_definitions_removes_instances(ws: Workspace) -> None:
    definition = await _definition(ws, "many_to_many")
    acme, ann = await _record(ws, "company", "Acme"), await _record(ws, "person", "Ann")
    await ws.post(f"/v1/records/{ann}/relationships", {"definition_id": definition, "entity_1_id": acme,
                                                       "entity_2_id": ann})
    await ws.delete(f"/v1/records/{ann}")
    assert (await ws.get(f"/v1/records/{acme}/relationships")).json()["data"] == []


async def test_other_workspace_cannot_touch_instances(ws: Workspace, make_workspace: WorkspaceFactory) -> None:
    definition = await _definition(ws, "many_to_many")
    acme, ann = await _record(ws, "company", "Acme"), await _record(ws, "person", "Ann")
    instance = (await ws.post(f"/v1/records/{ann}/relationships", {
        "definition_id": definition, "entity_1_id": acme, "entity_2_id": ann})).json()
    other = await make_workspace()
    assert (await other.delete(f"/v1/records/{ann}/relationships/{instance['id']}")).status_code == 404
    assert (await other.get(f"/v1/records/{ann}/relationships")).status_code == 404
    assert len((await ws.get(f"/v1/records/{ann}/relationships")).json()["data"]) == 1
