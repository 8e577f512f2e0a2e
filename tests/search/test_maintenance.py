"""`tessera search verify` and `tessera search reindex` against the real index."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from tessera.settings import Settings
from tests.conftest import Workspace
from workers.deps import deps
from workers.search_maintenance import reindex, verify

pytestmark = pytest.mark.usefixtures("worker")


async def _indexed(ws: Workspace, count: int) -> None:
    deadline = time.monotonic() + 10
    while True:
        body = (await ws.post("/v1/search", {"query": "Maint", "limit": 100})).json()
        if len(body["results"]["company"]) >= count:
            return
        assert time.monotonic() < deadline
        await asyncio.sleep(0.1)


async def _engine(worker: Any) -> Any:
    return deps(worker.ctx).search


async def test_verify_finds_and_repairs_drift(ws: Workspace, settings: Settings, worker: Any) -> None:
    ids = [(await ws.post("/v1/objects/company", {"attributes": {"name": f"Maint {i}"}})).json()["id"]
           for i in range(5)]
    await _indexed(ws, 5)
    clean = await verify(settings, workspace_id=int(ws.id), repair=False)
    assert clean["drift"] == 0 and clean["records"] == 5
    engine = await _engine(worker)
    await engine.client.wait_for_task(await engine.client.delete_documents(engine.index_uid, [ids[0]]))
    stray = {"id": "1", "workspace_id": int(ws.id), "object_id": 1, "primary_value": "ghost", "text": {}, "f": {}}
    await engine.client.wait_for_task(await engine.client.add_documents(engine.index_uid, [stray]))
    drifted = await verify(settings, workspace_id=int(ws.id), repair=False)
    assert (drifted["missing"], drifted["extra"], drifted["drift"]) == (1, 1, 2)
    repaired = await verify(settings, workspace_id=int(ws.id), repair=True)
    assert repaired["repaired"] is True
    assert (await verify(settings, workspace_id=int(ws.id), repair=False))["drift"] == 0


async def test_reindex_rebuilds_and_resumes(ws: Workspace, settings: Settings, worker: Any, db: Any) -> None:
    for i in range(6):
        await ws.post("/v1/objects/company", {"attributes": {"name": f"Maint R{i}"}})
    await _indexed(ws, 6)
    engine = await _engine(worker)
    await engine.client.wait_for_task(
        await engine.client.delete_by_filter(engine.index_uid, f"workspace_id = {int(ws.id)}"))
    assert (await verify(settings, workspace_id=int(ws.id), repair=False))["missing"] == 6
    done = await reindex(settings, workspace_id=int(ws.id), object_slug="company", restart=True)
    assert done == 6
    assert (await verify(settings, workspace_id=int(ws.id), repair=False))["drift"] == 0
    # An interrupted run resumes after its checkpoint.
    ids = sorted(int(r["id"]) for r in await db.fetch(
        "SELECT r.id FROM records r JOIN object_definitions o ON o.workspace_id = r.workspace_id "
        "AND o.id = r.object_id WHERE r.workspace_id = $1 AND o.slug = 'company'", int(ws.id)))
    company = (await ws.get("/v1/objects/company")).json()["id"]
    await db.execute(
        "INSERT INTO maintenance_checkpoints (name, value) VALUES ($1, $2::jsonb)",
        f"reindex:{ws.id}:company", f'{{"ws": {ws.id}, "obj": {company}, "after": {ids[3]}}}')
    assert await reindex(settings, workspace_id=int(ws.id), object_slug="company", restart=False) == 2
    assert await db.fetchval("SELECT count(*) FROM maintenance_checkpoints WHERE name = $1",
                             f"reindex:{ws.id}:company") == 0


async def test_verify_and_reindex_cover_memory(ws: Workspace, settings: Settings, worker: Any, db: Any) -> None:
    response = await ws.post("/v1/context/text", {"content": "The standby generator at the Leeds site is tested "
                                                              "on the first Monday of each month."})
    artifact_id = response.json()["artifact_id"]
    deadline = time.monotonic() + 20
    while await db.fetchval("SELECT count(*) FROM memory_items WHERE workspace_id = $1 AND indexed_at IS NULL",
                            int(ws.id)) or await db.fetchval(
            "SELECT status <> 'completed' FROM artifacts WHERE workspace_id = $1 AND id = $2", int(ws.id), artifact_id):
        assert time.monotonic() < deadline
        await asyncio.sleep(0.1)
    clean = await verify(settings, workspace_id=int(ws.id), repair=False)
    assert clean["memory"]["missing"] == 0 and clean["memory"]["extra"] == 0 and clean["memory"]["items"] >= 1
    index = deps(worker.ctx).memory_index
    await index.client.wait_for_task(await index.client.delete_by_filter(index.index_uid,
                                                                          f"workspace_id = {int(ws.id)}"))
    gone = await verify(settings, workspace_id=int(ws.id), repair=False)
    assert gone["memory"]["missing"] == clean["memory"]["items"] and gone["drift"] >= 1
    await reindex(settings, workspace_id=int(ws.id), object_slug=None, restart=True)
    assert (await verify(settings, workspace_id=int(ws.id), repair=False))["drift"] == 0
    answer = (await ws.post("/v1/context/ask", {"query": "When is the Leeds standby generator tested?"})).json()
    assert "first Monday" in answer["answer"], answer["answer"]
