"""Context: text in, records and insights out (a real worker), asked about, listed, graphed."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import asyncpg
import pytest

from tests.conftest import Workspace
from tests.spec import assert_matches

pytestmark = pytest.mark.usefixtures("worker")

EMAIL = """From: Sarah Chen <sarah.chen@techflow.io>
To: sales@ourco.com
Subject: Pricing for 50 seats

Hi team,

We'd love to book a demo next week and see pricing for the Enterprise plan. Our budget is around
$40,000 for this year, and we need to decide by end of Q3. One concern: we already use a competitor
for reporting, so migration effort matters.

Best,
Sarah Chen
VP Engineering, TechFlow
+1 415 555 0100
"""


async def processed(ws: Workspace, artifact_id: int, within: float = 20) -> dict[str, Any]:
    deadline = time.monotonic() + within
    while True:
        body: dict[str, Any] = (await ws.get(f"/v1/context/artifacts/{artifact_id}")).json()
        if body["status"] in ("completed", "failed"):
            return body
        assert time.monotonic() < deadline, body
        await asyncio.sleep(0.1)


async def test_text_becomes_records_links_and_insights(ws: Workspace, db: asyncpg.Connection) -> None:
    response = await ws.post("/v1/context/text", {"content": EMAIL, "context": "Inbound email"})
    assert response.status_code == 200
    artifact_id = response.json()["artifact_id"]
    assert isinstance(artifact_id, int)
    first = (await ws.get(f"/v1/context/artifacts/{artifact_id}")).json()
    assert first["status"] in ("pending", "processing", "completed")
    body = await processed(ws, artifact_id)
    assert_matches("developer.GetArtifactResponse", body)
    assert body["status"] == "completed" and body["operation_id"] == artifact_id
    result = body["result"]
    kinds = {(e["type"], e["is_new"]) for e in result["entities_extracted"]}
    assert ("PERSON", True) in kinds and ("COMPANY", True) in kinds
    assert result["relationships_created"] == 1 and result["insights_created"] >= 3
    people = (await ws.post("/v1/objects/person/records", {"filter": {"email_addresses": "sarah.chen@techflow.io"}})
              ).json()["data"]
    assert len(people) == 1 and people[0]["attributes"]["name"] == "Sarah Chen"
    companies = (await ws.post("/v1/objects/company/records", {"filter": {"domains": "techflow.io"}})).json()["data"]
    assert len(companies) == 1
    relationships = (await ws.get(f"/v1/records/{people[0]['id']}/relationships")).json()["data"]
    assert [r["entity_1_id"] for r in relationships] == [companies[0]["id"]]
    insights = (await ws.get("/v1/insights?last=1h")).json()
    assert_matches("developer.InsightsResponse", insights)
    types = {i["type"] for i in insights["data"]}
    assert {"buying_signal", "budget", "timeline"} <= types
    assert any(e["id"] == people[0]["id"] for i in insights["data"] for e in i["entities"])
    # Processing again (a retried job) and feeding the same text again create no duplicate records.
    records_sql = ("SELECT count(*) FROM records r JOIN object_definitions o ON o.workspace_id = r.workspace_id "
                   "AND o.id = r.object_id WHERE r.workspace_id = $1 AND o.slug IN ('person', 'company')")
    before = await db.fetchval(records_sql, int(ws.id))
    await db.execute("UPDATE artifacts SET status = 'pending' WHERE workspace_id = $1 AND id = $2",
                     int(ws.id), artifact_id)
    from workers.context_jobs import process_artifact  # noqa: F401 - the worker re-queues it below

    again = (await ws.post("/v1/context/text", {"content": EMAIL})).json()["artifact_id"]
    await processed(ws, again)
    await asyncio.sleep(12)  # the stranded-job sweep re-queues the reset artifact (pending > 10 s)
    assert (await processed(ws, artifact_id))["status"] == "completed"
    assert await db.fetchval(records_sql, int(ws.id)) == before
    per_artifact = await db.fetch("SELECT artifact_id, count(*) AS n FROM insights WHERE workspace_id = $1 "
                                  "GROUP BY artifact_id", int(ws.id))
    assert len({row["n"] for row in per_artifact}) == 1, "a retried artifact duplicated its insights"


async def test_artifacts_naming_the_same_people_at_once_create_them_once(
        make_workspace: Any, db: asyncpg.Connection) -> None:
    async def records_by_object(ws: Workspace) -> dict[str, int]:
        rows = await db.fetch(
            "SELECT o.slug, count(*) AS n FROM records r JOIN object_definitions o "
            "ON o.workspace_id = r.workspace_id AND o.id = r.object_id WHERE r.workspace_id = $1 GROUP BY o.slug",
            int(ws.id))
        return {r["slug"]: r["n"] for r in rows}

    alone, crowded = await make_workspace(), await make_workspace()
    await processed(alone, (await alone.post("/v1/context/text", {"content": EMAIL})).json()["artifact_id"])
    texts = [EMAIL.replace("Pricing for 50 seats", f"Follow-up {n}") for n in range(6)]
    posted = await asyncio.gather(*(crowded.post("/v1/context/text", {"content": t}) for t in texts))
    results = [await processed(crowded, r.json()["artifact_id"], within=60) for r in posted]
    assert [r["status"] for r in results] == ["completed"] * 6
    expected = await records_by_object(alone)
    assert expected["person"] >= 1 and expected["company"] >= 1
    assert await records_by_object(crowded) == expected


async def test_a_job_left_by_a_killed_worker_runs_again(ws: Workspace, db: asyncpg.Connection,
                                                       settings: Any) -> None:
    """kill -9 leaves arq's in-progress mark for hours (the longest job timeout) and the row
    `processing`; the sweep must see that no worker holds the job's lease and run it again at
    once, rather than wait either out."""
    from redis.asyncio import Redis

    artifact_id = (await ws.post("/v1/context/text", {"content": EMAIL})).json()["artifact_id"]
    await processed(ws, artifact_id)
    job_id = f"artifact:{artifact_id}"
    redis = Redis.from_url(settings.redis_url)
    # What the killed worker left: the row processing (just now), the job queued and marked running.
    await db.execute("UPDATE artifacts SET status = 'processing', updated_at = now() "
                     "WHERE workspace_id = $1 AND id = $2", int(ws.id), artifact_id)
    await redis.set(f"arq:in-progress:{job_id}", b"1", ex=6 * 3600)
    await redis.zadd("arq:queue", {job_id: time.time() * 1000})
    try:
        assert (await processed(ws, artifact_id, within=40))["status"] == "completed"
        # The run that completed it holds a fresh mark until it returns (it still publishes and
        # nudges after its commit); the dead run's mark must not outlive it.
        deadline = time.monotonic() + 10
        while await redis.ttl(f"arq:in-progress:{job_id}") >= 3600:
            assert time.monotonic() < deadline, "the in-progress mark outlived the job"
            await asyncio.sleep(0.1)
    finally:
        await redis.delete(f"arq:in-progress:{job_id}")
        await redis.zrem("arq:queue", job_id)
        await redis.aclose()


async def test_a_job_whose_lease_is_held_is_left_to_its_worker(ws: Workspace, db: asyncpg.Connection,
                                                               settings: Any) -> None:
    """A processing artifact whose lease a live worker holds is neither re-queued by the sweep nor
    run by a second copy of its job; once the lease is gone, the sweep picks it up."""
    from workers.context_jobs import process_artifact
    from workers.deps import deps
    from workers.jobs import ARTIFACT, stranded
    from workers.leases import lease_name
    from workers.lifecycle import shutdown, startup

    artifact_id = (await ws.post("/v1/context/text", {"content": EMAIL})).json()["artifact_id"]
    await processed(ws, artifact_id)
    lease = "SELECT pg_advisory_lock(hashtextextended($1, 0))"
    await db.execute(lease, lease_name("artifacts", artifact_id))
    ctx: dict[str, Any] = {"settings": settings}
    await startup(ctx)
    try:
        await db.execute("UPDATE artifacts SET status = 'processing' WHERE workspace_id = $1 AND id = $2",
                         int(ws.id), artifact_id)
        async with deps(ctx).engine.begin() as conn:
            assert artifact_id not in {row.id for row in await stranded(conn, ARTIFACT)}
        assert await process_artifact(ctx, int(ws.id), artifact_id) == "skipped"
        assert await db.fetchval("SELECT status FROM artifacts WHERE id = $1", artifact_id) == "processing"
        await db.execute("SELECT pg_advisory_unlock(hashtextextended($1, 0))", lease_name("artifacts", artifact_id))
        async with deps(ctx).engine.begin() as conn:
            assert artifact_id in {row.id for row in await stranded(conn, ARTIFACT)}
        assert await process_artifact(ctx, int(ws.id), artifact_id) == "completed"
    finally:
        await db.execute("SELECT pg_advisory_unlock_all()")
        await shutdown(ctx)


async def test_a_job_whose_worker_dies_every_time_fails_after_ten_starts(ws: Workspace, db: asyncpg.Connection,
                                                                          settings: Any) -> None:
    from workers.context_jobs import process_artifact
    from workers.jobs import MAX_CLAIMS
    from workers.lifecycle import shutdown, startup

    artifact_id = (await ws.post("/v1/context/text", {"content": EMAIL})).json()["artifact_id"]
    await processed(ws, artifact_id)
    await db.execute("UPDATE artifacts SET status = 'processing', attempts = $3 WHERE workspace_id = $1 AND id = $2",
                     int(ws.id), artifact_id, MAX_CLAIMS)
    ctx: dict[str, Any] = {"settings": settings}
    await startup(ctx)
    try:
        assert await process_artifact(ctx, int(ws.id), artifact_id) == "skipped"
    finally:
        await shutdown(ctx)
    body = (await ws.get(f"/v1/context/artifacts/{artifact_id}")).json()
    assert body["status"] == "failed" and "stopped 10 times" in body["error"], body


@pytest.mark.parametrize("query", [
    "last=5x", "last=0m", "last=999999d", "from=yesterday", "last=1h&from=2026-01-01T00:00:00Z",
    "from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z", "limit=0", "limit=101"])
async def test_bad_insight_windows_are_400(ws: Workspace, query: str) -> None:
    assert (await ws.get(f"/v1/insights?{query}")).status_code == 400


async def test_ask_answers_from_facts_with_sessions(ws: Workspace) -> None:
    artifact_id = (await ws.post("/v1/context/text", {"content": EMAIL})).json()["artifact_id"]
    await processed(ws, artifact_id)
    response = await ws.post("/v1/context/ask", {"query": "What's the status with techflow.io?"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert_matches("developer.QueryContextResponse", body)
    names = {e["name"] for e in body["entities_considered"]}
    assert "Sarah Chen" in names
    assert "Sarah Chen" in body["answer"] or "TechFlow" in body["answer"]
    assert body["metadata"]["query_type"] == "entity_specific" and body["signals_used"]
    follow = await ws.post("/v1/context/ask", {"query": "And what about the budget?", "session_id": body["session_id"]})
    assert follow.status_code == 200 and follow.json()["entities_considered"]
    nothing = (await ws.post("/v1/context/ask", {"query": "What about zyxwv.example?"})).json()
    assert nothing["entities_considered"] == [] and nothing["metadata"]["query_type"] == "workspace_wide"
    assert (await ws.post("/v1/context/ask", {"query": "x", "session_id": "nope"})).status_code == 404


async def test_ai_list_job(ws: Workspace) -> None:
    for name, employees, industry in (("Alpha Pay", 120, "Fintech"), ("Beta Bank", 30, "Fintech"),
                                      ("Gamma Health", 500, "Healthcare")):
        await ws.post("/v1/objects/company", {"attributes": {"name": name, "employee_count": employees,
                                                             "industry": industry}})
    created = await ws.post("/v1/context/list/jobs", {"query": "fintech companies with more than 50 employees",
                                                      "object_type": "company", "include_attributes": True})
    assert created.status_code == 200
    job = created.json()
    assert job["message"]["status"] == "pending"
    deadline = time.monotonic() + 20
    while True:
        body = (await ws.get(f"/v1/context/list/jobs/{job['job_id']}")).json()
        if body["message"]["status"] in ("completed", "failed"):
            break
        assert time.monotonic() < deadline
        await asyncio.sleep(0.1)
    assert_matches("developer.GetAIListJobResponse", {"message": body["message"]})
    message = body["message"]
    assert message["status"] == "completed", message
    assert [e["name"] for e in message["entities"]] == ["Alpha Pay"]
    assert message["entities"][0]["reason"] and message["query_interpretation"]
    assert message["entities"][0]["attributes"]["employee_count"] == 120
    bare = (await ws.get(f"/v1/context/list/jobs/{job['job_id']}?include_attributes=false")).json()["message"]
    assert "attributes" not in bare["entities"][0]
    for bad in ({"query": "x", "limit": 101}, {"query": "x", "object_type": "deal"}, {"query": ""}):
        assert (await ws.post("/v1/context/list/jobs", bad)).status_code == 400


async def test_graph(ws: Workspace) -> None:
    artifact_id = (await ws.post("/v1/context/text", {"content": EMAIL})).json()["artifact_id"]
    await processed(ws, artifact_id)
    graph = (await ws.get("/v1/graph")).json()
    assert_matches("graph.GraphResponse", graph)
    assert graph["total_nodes"] >= 2 and len(graph["edges"]) == 1
    assert graph["insight_nodes"] and {e["edge_type"] for e in graph["context_edges"]} == {"insight", "context"}
    page = await ws.get("/v1/graph?format=html")
    assert page.headers["content-type"].startswith("text/html") and "<canvas" in page.text
    assert (await ws.get("/v1/graph?limit=0")).status_code == 400
