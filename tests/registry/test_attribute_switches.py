"""Switching an attribute's options on existing records: single-valued, whole numbers and unique
are refused while a record disagrees (409, nothing changes); uniqueness switched on claims every
existing value, and switched off releases them."""

from __future__ import annotations

import pytest

from tests.conftest import Workspace


@pytest.fixture
async def project(ws: Workspace) -> Workspace:
    assert (await ws.post("/v1/objects", {"name": "Project", "slug": "project"})).status_code == 200
    for body in ({"name": "Tags", "slug": "tags", "type": "text", "options": {"is_multi_value": True}},
                 {"name": "Budget", "slug": "budget", "type": "number"},
                 {"name": "Code", "slug": "code", "type": "text"}):
        assert (await ws.post("/v1/objects/project/attributes", body)).status_code == 200
    return ws


async def create(ws: Workspace, **attributes: object) -> str:
    response = await ws.post("/v1/objects/project", {"attributes": attributes})
    assert response.status_code == 200, response.text
    record_id: str = response.json()["id"]
    return record_id


async def switch(ws: Workspace, slug: str, **options: object) -> tuple[int, str]:
    response = await ws.patch(f"/v1/objects/project/attributes/{slug}", {"options": options})
    return response.status_code, response.json().get("message", "") if response.status_code != 200 else ""


async def options_of(ws: Workspace, slug: str) -> dict[str, object]:
    attributes = (await ws.get("/v1/objects/project")).json()["attributes"]
    found: dict[str, object] = next(a for a in attributes if a["slug"] == slug)["options"]
    return found


async def test_single_valued_is_refused_while_a_record_holds_several_values(project: Workspace) -> None:
    await create(project, tags=["a"])
    several = await create(project, tags=["a", "b"])
    assert await switch(project, "tags", is_multi_value=False) == (
        409, "Cannot make 'tags' single-valued: 1 records hold several values")
    assert (await options_of(project, "tags"))["is_multi_value"] is True
    assert (await project.patch(f"/v1/records/{several}", {"attributes": {"tags": ["b"]}})).status_code == 200
    assert await switch(project, "tags", is_multi_value=False) == (200, "")
    assert (await options_of(project, "tags"))["is_multi_value"] is False


async def test_whole_numbers_are_refused_while_a_record_holds_a_fraction(project: Workspace) -> None:
    await create(project, budget=10)
    fraction = await create(project, budget=2.5)
    assert await switch(project, "budget", is_whole_number=True) == (
        409, "Cannot require whole numbers: 1 records hold fractional values")
    assert (await options_of(project, "budget"))["is_whole_number"] is False
    assert (await project.patch(f"/v1/records/{fraction}", {"attributes": {"budget": 3.0}})).status_code == 200
    assert await switch(project, "budget", is_whole_number=True) == (200, "")


async def test_unique_is_refused_while_records_share_a_value(project: Workspace) -> None:
    await create(project, code="A-1")
    await create(project, code="A-1")
    await create(project, code="B-2")
    assert await switch(project, "code", is_unique=True) == (
        409, "Cannot make 'code' unique: 2 records share a value with another record")
    assert (await options_of(project, "code"))["is_unique"] is False


async def test_unique_switched_on_claims_existing_values_and_off_releases_them(project: Workspace) -> None:
    first = await create(project, code="A-1")
    await create(project, code="B-2")
    assert await switch(project, "code", is_unique=True) == (200, "")
    duplicate = await project.post("/v1/objects/project", {"attributes": {"code": "A-1"}})
    assert duplicate.status_code == 409, duplicate.text
    matched = await project.put("/v1/objects/project", {"matching_attribute": "code",
                                                        "attributes": {"code": "A-1", "budget": 7}})
    assert matched.status_code == 200 and matched.json()["id"] == first, matched.text
    assert await switch(project, "code", is_unique=False) == (200, "")
    assert (await project.post("/v1/objects/project", {"attributes": {"code": "A-1"}})).status_code == 200
