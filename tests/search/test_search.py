"""Full-text search against a real Meilisearch fed by a real worker from the outbox."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import Workspace, WorkspaceFactory
from tests.spec import assert_matches

FRESHNESS_S = 5.0

pytestmark = pytest.mark.usefixtures("worker")


async def search(ws: Workspace, query: str, **extra: Any) -> dict[str, Any]:
    response = await ws.post("/v1/search", {"query": query, **extra})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def eventually(check: Callable[[], Any], *, within: float = FRESHNESS_S) -> float:
    """Seconds until ``check`` (async, returns truthy) holds; fails after ``within``."""
    started = time.monotonic()
    while True:
        if await check():
            return time.monotonic() - started
        if time.monotonic() - started > within:
            raise AssertionError(f"condition not met within {within} s")
        await asyncio.sleep(0.05)


def ids(body: dict[str, Any], slug: str) -> list[str]:
    return [r["id"] for r in body["results"].get(slug, [])]


async def test_created_record_is_searchable_within_five_seconds(ws: Workspace) -> None:
    person = (await ws.post("/v1/objects/person", {"attributes": {
        "name": "Johnathan Quimby", "email_addresses": ["jq@quimby-labs.io"], "job_title": "Founder"}})).json()

    async def found() -> bool:
        return person["id"] in ids(await search(ws, "Quimby"), "person")

    await eventually(found)
    body = await search(ws, "Quimby")
    assert_matches("developer.SearchResponse", body)
    hit = body["results"]["person"][0]
    assert hit["primary_value"] == "Johnathan Quimby"
    assert hit["entity_definition_id"] == person["object_id"]
    assert 0 < hit["score"] <= 1
    assert body["errored_search_types"] == [] and body["degraded"] is False
    assert set(body["results"]) == {"person", "company"}
    typo = await search(ws, "Qiumby")
    assert person["id"] in ids(typo, "person")
    by_email = await search(ws, "quimby-labs")
    assert by_email["results"]["person"][0]["matched_value"] == "jq@quimby-labs.io"


async def test_updates_and_deletes_reach_the_index(ws: Workspace) -> None:
    rid = (await ws.post("/v1/objects/company", {"attributes": {"name": "Zorblax Industries"}})).json()["id"]
    await eventually(lambda: _has(ws, "Zorblax", "company", rid))
    await ws.patch(f"/v1/records/{rid}", {"attributes": {"name": "Quaffle Systems"}})
    await eventually(lambda: _has(ws, "Quaffle", "company", rid))
    await eventually(lambda: _lacks(ws, "Zorblax", "company", rid))
    await ws.delete(f"/v1/records/{rid}")
    await eventually(lambda: _lacks(ws, "Quaffle", "company", rid))


async def _has(ws: Workspace, query: str, slug: str, rid: str) -> bool:
    return rid in ids(await search(ws, query), slug)


async def _lacks(ws: Workspace, query: str, slug: str, rid: str) -> bool:
    return rid not in ids(await search(ws, query), slug)


async def test_workspaces_never_see_each_other(ws: Workspace, make_workspace: WorkspaceFactory) -> None:
    other = await make_workspace()
    mine = (await ws.post("/v1/objects/person", {"attributes": {"name": "Isolda Vantablack"}})).json()["id"]
    theirs = (await other.post("/v1/objects/person", {"attributes": {"name": "Isolda Vantablack"}})).json()["id"]
    await eventually(lambda: _has(ws, "Vantablack", "person", mine))
    await eventually(lambda: _has(other, "Vantablack", "person", theirs))
    for hostile in ("Vantablack", '" OR workspace_id EXISTS OR "', "Vantablack workspace_id = 1", "*", "' OR 1=1 --"):
        body = await search(ws, hostile)
        assert theirs not in ids(body, "person"), hostile
    sneaky = await ws.post("/v1/search", {"query": "Vantablack", "object_types": ["person"],
                                          "filter": {"name": {"$eq": '") OR (workspace_id EXISTS'}}})
    assert sneaky.status_code == 200 and theirs not in ids(sneaky.json(), "person")


async def test_object_types_limit_and_filter(ws: Workspace) -> None:
    await ws.post("/v1/objects/company/attributes", {"name": "Tier", "slug": "tier", "type": "select",
                                                     "options": {"select_options": [{"name": "Gold"},
                                                                                    {"name": "Silver"}]}})
    made = []
    for i, tier in enumerate(("Gold", "Silver", "Gold")):
        made.append((await ws.post("/v1/objects/company", {"attributes": {
            "name": f"Plumbus Works {i}", "tier": tier, "employee_count": 10 * (i + 1)}})).json()["id"])
    await ws.post("/v1/objects/person", {"attributes": {"name": "Plumbus Person"}})

    async def all_three() -> bool:
        return len(ids(await search(ws, "Plumbus", object_types=["company"]), "company")) == 3

    await eventually(all_three)
    only_company = await search(ws, "Plumbus", object_types=["company"], limit=2)
    assert set(only_company["results"]) == {"company"} and len(only_company["results"]["company"]) == 2
    gold = await search(ws, "Plumbus", object_types=["company"], filter={"tier": "gold"})
    assert set(ids(gold, "company")) == {made[0], made[2]}
    big = await search(ws, "Plumbus", object_types=["company"], filter={"employee_count": {"$gte": 20}})
    assert set(ids(big, "company")) == {made[1], made[2]}
    not_gold = await search(ws, "Plumbus", object_types=["company"], filter={"$not": {"tier": "Gold"}})
    assert ids(not_gold, "company") == [made[1]]


@pytest.mark.parametrize(("body", "status"), [
    ({"query": ""}, 400), ({"query": "x" * 501}, 400), ({}, 400), ({"query": 5}, 400),
    ({"query": "a", "object_types": ["nope"]}, 404),
    ({"query": "a", "filter": {"name": "x"}}, 400),
    ({"query": "a", "object_types": ["company"], "filter": {"name": {"$contains": "x"}}}, 400),
    ({"query": "a", "object_types": ["company"], "filter": {"nope": 1}}, 400),
    ({"query": "a", "limit": 0}, 400),
])
async def test_bad_search_requests(ws: Workspace, body: dict[str, Any], status: int) -> None:
    response = await ws.post("/v1/search", body)
    assert response.status_code == status, response.text
