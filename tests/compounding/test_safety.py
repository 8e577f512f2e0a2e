"""Compounding jobs change nothing in a dry run, decay what nothing reinforced, survive a crash
mid-run without duplicating, stay in their workspace, refuse bad bodies, and run on schedule."""

from __future__ import annotations

import asyncio
import dataclasses
import time
import uuid
from typing import Any

import asyncpg
import pytest

from tessera.context.repository import insights_on
from tessera.db.tenant import Tenant
from tests.compounding.seeding import TWICE, finished, indexed, processed, run_job, seed
from tests.conftest import Workspace, WorkspaceFactory
from tests.spec import assert_matches

pytestmark = pytest.mark.usefixtures("worker")

DUMPS = {
    "insights": "SELECT id, type, content, confidence, entity_ids, merged_into, source_artifact_ids, support_count, "
                "peak_confidence, reinforced_at FROM insights",
    "memory_items": "SELECT id, source_type, source_id, position, content, entity_ids FROM memory_items",
    "patterns": "SELECT * FROM patterns",
    "playbook_rules": "SELECT * FROM playbook_rules",
    "compounding_metrics": "SELECT * FROM compounding_metrics",
    "outbox": "SELECT id, topic, event_type, aggregate_type, aggregate_id FROM outbox",
}


async def dump(db: asyncpg.Connection, ws: Workspace) -> dict[str, list[str]]:
    """What the jobs may change in ``ws``, every row as text."""
    out = {}
    for table, select in DUMPS.items():
        rows = await db.fetch(f"SELECT row_to_json(t)::text AS r FROM ({select} WHERE workspace_id = $1) AS t "
                              "ORDER BY 1", int(ws.id))
        out[table] = [r["r"] for r in rows]
    return out


async def test_dry_runs_change_nothing(ws: Workspace, db: asyncpg.Connection) -> None:
    await seed(ws, db)
    before = await dump(db, ws)
    response = await ws.post("/v1/compounding/trigger", {"job_type": "consolidation", "dry_run": True})
    accepted = response.json()
    assert_matches("compounding.TriggerJobResponse", accepted)
    assert (accepted["status"], accepted["success"], accepted["dry_run"]) == ("accepted", True, True)
    assert accepted["workspace_id"] == int(ws.id) and uuid.UUID(accepted["job_run_id"])
    status = await finished(ws, accepted["job_run_id"])
    assert (status["status"], status["dry_run"]) == ("completed", True)
    assert status["candidates_created"] == len(TWICE)  # what a real run would merge
    assert status["result"]["dry_run"] is True
    found = await run_job(ws, "pattern_detection", dry_run=True)
    assert found["candidates_created"] >= 2 and found["insights_affected"] >= 12
    for job_type in ("decay_sweep", "metrics", "playbook_synthesis"):
        assert (await run_job(ws, job_type, dry_run=True))["status"] == "completed"
    assert await dump(db, ws) == before
    # With patterns stored, a dry synthesis reports the rules it would write, and writes none.
    await run_job(ws, "pattern_detection")
    stored = await dump(db, ws)
    assert stored["patterns"] and not stored["playbook_rules"]
    assert (await run_job(ws, "playbook_synthesis", dry_run=True))["candidates_created"] >= 1
    assert await dump(db, ws) == stored


async def test_decay_lowers_what_nothing_reinforced(ws: Workspace, db: asyncpg.Connection, app: Any) -> None:
    text = ("Sterling Cooper (sterlingcooper.com) has a budget of $50,000 for this year. "
            "Sterling Cooper (sterlingcooper.com) loves the new dashboards.")
    artifact = (await ws.post("/v1/context/text", {"content": text})).json()["artifact_id"]
    assert (await processed(ws, artifact))["status"] == "completed"
    rows = await db.fetch("SELECT id, type, confidence, entity_ids FROM insights WHERE workspace_id = $1 ORDER BY id",
                          int(ws.id))
    budget = next(r for r in rows if r["type"] == "budget")
    sentiment = next(r for r in rows if r["type"] == "sentiment")
    assert budget["confidence"] > sentiment["confidence"]
    record_id = budget["entity_ids"][0]
    assert record_id in sentiment["entity_ids"]

    async def on_record() -> list[int]:
        async with app.state.tessera.engine.begin() as conn:
            return [i.id for i in await insights_on(Tenant(conn, int(ws.id)), record_id)]

    assert (await on_record())[0] == budget["id"]
    # The budget was noted 95 days ago: three 30-day periods without reinforcement.
    await db.execute("UPDATE insights SET created_at = now() - interval '95 days' WHERE workspace_id = $1 AND id = $2",
                     int(ws.id), budget["id"])
    status = await run_job(ws, "decay_sweep")
    assert_matches("compounding.JobStatusResponse", status)
    assert status["insights_affected"] == 1 and status["insights_scanned"] == len(rows)
    decayed = await db.fetchrow("SELECT confidence, peak_confidence FROM insights WHERE workspace_id = $1 AND id = $2",
                                int(ws.id), budget["id"])
    assert decayed["peak_confidence"] == budget["confidence"]
    assert decayed["confidence"] == pytest.approx(round(budget["confidence"] * 0.8 ** 3, 4))
    assert await db.fetchval("SELECT confidence FROM insights WHERE workspace_id = $1 AND id = $2", int(ws.id),
                             sentiment["id"]) == sentiment["confidence"]
    assert (await on_record())[0] == sentiment["id"]  # ask now prefers the fresh insight
    assert (await run_job(ws, "decay_sweep"))["insights_affected"] == 0  # a rerun decays nothing more
    await db.execute("UPDATE insights SET created_at = now() - interval '3000 days' WHERE workspace_id = $1 "
                     "AND id = $2", int(ws.id), budget["id"])
    assert (await run_job(ws, "decay_sweep"))["insights_affected"] == 1
    assert await db.fetchval("SELECT confidence FROM insights WHERE workspace_id = $1 AND id = $2", int(ws.id),
                             budget["id"]) == pytest.approx(0.1)  # the floor


async def test_a_crash_mid_run_is_retried_without_duplicates(ws: Workspace, db: asyncpg.Connection, worker: Any,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from workers.compounding import job as compounding_job
    from workers.jobs import requeue_stranded

    await seed(ws, db)
    await run_job(ws, "consolidation")
    await run_job(ws, "pattern_detection")
    await run_job(ws, "playbook_synthesis")
    once = await dump(db, ws)
    assert once["patterns"] and once["playbook_rules"]

    # A run that fails after doing its work: its transaction rolls back, the row waits for a retry.
    real = compounding_job.WORK["pattern_detection"]
    calls = 0

    async def crashing(run: Any) -> Any:
        nonlocal calls
        calls += 1
        outcome = await real(run)
        if calls == 1:
            raise ConnectionResetError("the database went away")
        return outcome

    monkeypatch.setitem(compounding_job.WORK, "pattern_detection", crashing)
    run_id = (await ws.post("/v1/compounding/trigger", {"job_type": "pattern_detection"})).json()["job_run_id"]
    deadline = time.monotonic() + 30
    while (status := (await ws.get(f"/v1/compounding/jobs/{run_id}")).json())["errors"] == 0:
        assert time.monotonic() < deadline, status
        await asyncio.sleep(0.1)
    assert status["status"] == "accepted" and status["error_details"]["will_retry"] is True
    assert "database went away" not in str(status["error_details"])  # the user sees a generic sentence
    assert await dump(db, ws) == once
    await db.execute("UPDATE compounding_jobs SET updated_at = now() - interval '1 minute' WHERE workspace_id = $1",
                     int(ws.id))
    assert await requeue_stranded(worker.ctx) >= 1
    status = await finished(ws, run_id)
    assert (status["status"], status["errors"], calls) == ("completed", 1, 2)
    assert_matches("compounding.JobStatusResponse", status)

    # A worker killed mid-run leaves its row 'processing' with no lease: the sweep runs it again.
    for job_type in ("consolidation", "pattern_detection", "playbook_synthesis", "metrics"):
        run_id = (await run_job(ws, job_type))["job_run_id"]
        await db.execute("UPDATE compounding_jobs SET status = 'processing', completed_at = NULL "
                         "WHERE workspace_id = $1 AND run_id = $2", int(ws.id), uuid.UUID(run_id))
        assert await requeue_stranded(worker.ctx) >= 1
        assert (await finished(ws, run_id))["status"] == "completed"
    again = await dump(db, ws)
    assert len(again["compounding_metrics"]) == 1  # one snapshot for the one metrics run, retried
    for table in ("insights", "memory_items", "patterns", "playbook_rules"):
        assert len(again[table]) == len(once[table]), table
    assert [r for r in again["insights"]] == once["insights"]


async def test_workspaces_are_isolated(make_workspace: WorkspaceFactory, db: asyncpg.Connection) -> None:
    ws, other = await make_workspace(), await make_workspace()
    status = await run_job(ws, "metrics")
    assert status["workspace_id"] == int(ws.id)
    run_id = status["job_run_id"]
    response = await other.get(f"/v1/compounding/jobs/{run_id}")
    assert response.status_code == 404 and response.json() == {"code": 404, "message": "Compounding job not found"}
    for unknown in (str(uuid.uuid4()), "not-a-uuid", "123", "x" * 300):
        response = await ws.get(f"/v1/compounding/jobs/{unknown}")
        assert response.status_code == 404, unknown
    await run_job(other, "metrics")
    for space in (ws, other):
        assert await db.fetchval("SELECT count(*) FROM compounding_metrics WHERE workspace_id = $1", int(space.id)) == 1


async def test_bad_requests_write_nothing(ws: Workspace, db: asyncpg.Connection) -> None:
    bodies: list[Any] = [{}, {"job_type": "compaction"}, {"job_type": 5}, {"job_type": "metrics", "dry_run": "yes"},
                         {"job_type": "metrics", "dry_run": 1}, {"job_type": "metrics", "extra": True},
                         {"job_type": None}, [], "metrics"]
    for body in bodies:
        response = await ws.post("/v1/compounding/trigger", body)
        assert response.status_code == 400, body
        assert response.json()["code"] == 400 and response.json()["message"]
    response = await ws.post("/v1/compounding/trigger", content=b"{not json",
                             headers={"content-type": "application/json"})
    assert response.status_code == 400
    reader = await ws.new_key(["compounding.read"])
    assert (await ws.post("/v1/compounding/trigger", {"job_type": "metrics"}, key=reader)).status_code == 403
    writer = await ws.new_key(["compounding.write"])
    run_id = (await ws.post("/v1/compounding/trigger", {"job_type": "metrics"}, key=writer)).json()["job_run_id"]
    assert (await ws.get(f"/v1/compounding/jobs/{run_id}", key=writer)).status_code == 403
    assert (await ws.get(f"/v1/compounding/jobs/{run_id}", key=reader)).status_code == 200
    assert await db.fetchval("SELECT count(*) FROM compounding_jobs WHERE workspace_id = $1", int(ws.id)) == 1


async def test_the_schedule_runs_what_is_due(make_workspace: WorkspaceFactory, db: asyncpg.Connection,
                                             worker: Any, settings: Any) -> None:
    from workers.compounding.schedule import schedule_compounding
    from workers.deps import DEPS_KEY, deps

    busy, quiet = await make_workspace(), await make_workspace()
    artifact = (await busy.post("/v1/context/text", {"content": "Virtucon (virtucon.com) says the pricing is too "
                                                                "expensive."})).json()["artifact_id"]
    await processed(busy, artifact)
    await indexed(db, busy)
    scheduled = dataclasses.replace(deps(worker.ctx), settings=settings.model_copy(update={
        "compounding_schedule": "metrics=1h", "compounding_workspaces_per_cycle": 10_000}))
    ctx = {**worker.ctx, DEPS_KEY: scheduled}
    assert await schedule_compounding(ctx) >= 1
    rows = await db.fetch("SELECT job_type, trigger, run_id FROM compounding_jobs WHERE workspace_id = $1",
                          int(busy.id))
    assert [(r["job_type"], r["trigger"]) for r in rows] == [("metrics", "schedule")]
    assert await db.fetchval("SELECT count(*) FROM compounding_jobs WHERE workspace_id = $1", int(quiet.id)) == 0
    status = await finished(busy, str(rows[0]["run_id"]))
    assert status["status"] == "completed" and status["result"]["snapshot"]["insights"] == 1
    await schedule_compounding(ctx)  # not due again within the hour
    assert await db.fetchval("SELECT count(*) FROM compounding_jobs WHERE workspace_id = $1", int(busy.id)) == 1
    await db.execute("UPDATE insights SET created_at = now() - interval '3 hours' WHERE workspace_id = $1",
                     int(busy.id))
    await db.execute("UPDATE compounding_jobs SET created_at = now() - interval '2 hours' WHERE workspace_id = $1",
                     int(busy.id))
    await schedule_compounding(ctx)  # due, but no insight arrived since
    assert await db.fetchval("SELECT count(*) FROM compounding_jobs WHERE workspace_id = $1", int(busy.id)) == 1
    artifact = (await busy.post("/v1/context/text", {"content": "Virtucon (virtucon.com) put the rollout on hold."}
                                )).json()["artifact_id"]
    await processed(busy, artifact)
    await schedule_compounding(ctx)  # due, with a new insight
    assert await db.fetchval("SELECT count(*) FROM compounding_jobs WHERE workspace_id = $1", int(busy.id)) == 2
