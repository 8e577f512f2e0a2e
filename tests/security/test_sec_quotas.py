"""Audit item 11: per-workspace quotas. A workspace may keep only so many keys, webhooks, objects
and attributes (409 naming the limit and its setting), run only so many jobs at once (429 with
Retry-After), and send only so many requests a minute over all its keys; an address that keeps
failing to authenticate is answered 429. Each limit is lowered here through the app's settings."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx

from tests.conftest import API, Workspace, WorkspaceFactory


def _quota_refusal(response: httpx.Response, setting: str) -> None:
    assert response.status_code == 409, response.text
    assert response.json()["code"] == 409 and setting in response.json()["message"]


async def test_api_keys_are_capped_and_revoked_ones_do_not_count(ws: Workspace, limits: Any) -> None:
    limits(max_api_keys_per_workspace=3)
    await ws.new_key(["record.read"])
    spare = await ws.new_key(["record.read"])

    _quota_refusal(await ws.post("/v1/api-keys", {"name": "x", "scopes": ["record.read"]}),
                   "MAX_API_KEYS_PER_WORKSPACE")
    spare_id = next(k["id"] for k in (await ws.get("/v1/api-keys")).json()["data"] if spare.startswith(k["prefix"]))
    assert (await ws.delete(f"/v1/api-keys/{spare_id}")).status_code == 200
    assert (await ws.post("/v1/api-keys", {"name": "x", "scopes": ["record.read"]})).status_code == 200


async def test_webhooks_objects_and_attributes_are_capped(ws: Workspace, limits: Any) -> None:
    limits(max_webhooks_per_workspace=1, max_objects_per_workspace=3, max_attributes_per_object=8)
    hook = {"url": "http://127.0.0.1:9/h", "events": ["record.created"]}
    assert (await ws.post("/v1/webhooks", hook)).status_code == 200
    _quota_refusal(await ws.post("/v1/webhooks", hook), "MAX_WEBHOOKS_PER_WORKSPACE")

    assert (await ws.post("/v1/objects", {"name": "Deal", "slug": "deal", "type": "deal"})).status_code == 200
    _quota_refusal(await ws.post("/v1/objects", {"name": "Ticket", "slug": "ticket", "type": "custom"}),
                   "MAX_OBJECTS_PER_WORKSPACE")
    _quota_refusal(await ws.post("/v1/objects/person/lists", {"name": "Leads", "slug": "leads"}),
                   "MAX_OBJECTS_PER_WORKSPACE")

    for i in range(20):
        response = await ws.post("/v1/objects/deal/attributes", {"name": f"F{i}", "slug": f"f{i}", "type": "text"})
        if response.status_code == 409:
            break
        assert response.status_code == 200, response.text
    _quota_refusal(response, "MAX_ATTRIBUTES_PER_OBJECT")
    assert len((await ws.get("/v1/objects/deal")).json()["attributes"]) == 8
    assert len((await ws.get("/v1/objects")).json()["data"]) == 3


async def test_running_jobs_are_capped_per_workspace(ws: Workspace, make_workspace: WorkspaceFactory, limits: Any,
                                                     db: asyncpg.Connection) -> None:
    limits(max_running_jobs_per_workspace=1, max_pending_artifacts_per_workspace=1)
    await db.execute("INSERT INTO ai_list_jobs (workspace_id, id, query, object_type, result_limit, status) "
                     "VALUES ($1, next_id(), 'people', 'contact', 10, 'processing')", int(ws.id))
    await db.execute("INSERT INTO artifacts (workspace_id, id, content, context, created_by_id, status) "
                     "VALUES ($1, next_id(), 'a note', '', '0', 'processing')", int(ws.id))

    job = await ws.post("/v1/context/list/jobs", {"query": "companies", "object_type": "company"})
    text = await ws.post("/v1/context/text", {"content": "Ada joined Initech."})

    for response, setting in ((job, "MAX_RUNNING_JOBS_PER_WORKSPACE"), (text, "MAX_PENDING_ARTIFACTS_PER_WORKSPACE")):
        assert response.status_code == 429, response.text
        assert setting in response.json()["message"] and response.headers["Retry-After"] == "5"
    other = await make_workspace()
    assert (await other.post("/v1/context/list/jobs", {"query": "companies", "object_type": "company"})
            ).status_code == 200


async def test_a_workspace_shares_one_rate_bucket_over_all_its_keys(ws: Workspace, make_workspace: WorkspaceFactory,
                                                                    limits: Any) -> None:
    limits(rate_limit_workspace_per_minute=6)
    keys = [await ws.new_key(["object.read"], rate_limit_per_minute=1000) for _ in range(2)]
    other = await make_workspace()

    statuses = [(await ws.get("/v1/objects", key=keys[i % 2])).status_code for i in range(12)]

    assert statuses.count(200) <= 7 and 429 in statuses
    refused = await ws.get("/v1/objects", key=keys[0])
    assert refused.status_code == 429 and "workspace's rate limit" in refused.json()["message"]
    assert int(refused.headers["Retry-After"]) >= 1
    assert (await other.get("/v1/objects")).status_code == 200, "another workspace has its own bucket"


async def test_an_address_that_keeps_failing_to_authenticate_gets_429(app: Any, ws: Workspace, limits: Any) -> None:
    limits(auth_failures_per_ip_per_minute=5)

    def client(address: str) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=app, client=(address, 4000))
        return httpx.AsyncClient(transport=transport, base_url="http://tessera.test")

    bad = {"Authorization": "Bearer sk-" + "z" * 44}
    async with client("203.0.113.7") as attacker, client("203.0.113.8") as neighbour:
        statuses = [(await attacker.get(API + "/v1/objects", headers=bad)).status_code for _ in range(8)]
        valid = await attacker.get(API + "/v1/objects", headers=ws.headers())
        elsewhere = await neighbour.get(API + "/v1/objects", headers=bad)

    assert statuses[:5] == [401] * 5 and set(statuses[5:]) == {429}
    assert valid.status_code == 200, "a valid key from that address is still served"
    assert elsewhere.status_code == 401
