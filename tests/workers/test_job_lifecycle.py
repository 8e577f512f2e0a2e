"""The life of a job row (``workers/jobs.py``), the same for every kind of job: one whose worker
died mid-run is queued again and finished by another run, and the user sees it completed."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import Workspace
from workers.deps import deps
from workers.jobs import AI_LIST, ARTIFACT, EXPORT, JobKind, claim, requeue_stranded, stranded
from workers.leases import lease_name

pytestmark = pytest.mark.usefixtures("worker")


async def _until(read: Callable[[], Awaitable[dict[str, Any]]], statuses: tuple[str, ...],
                 within: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + within
    while True:
        body = await read()
        if body["status"] in statuses:
            return body
        assert time.monotonic() < deadline, body
        await asyncio.sleep(0.1)


@dataclass(frozen=True)
class Case:
    kind: JobKind
    start: Callable[[Workspace], Awaitable[int]]  # creates a job through the API; its row id
    read: Callable[[Workspace, int], Awaitable[dict[str, Any]]]  # what the API shows of it
    forget: str  # SQL (:ws, :id): what the dead run had not stored yet
    outcome: Callable[[dict[str, Any]], Any]  # what the user gets from a finished job


async def _start_artifact(ws: Workspace) -> int:
    body = (await ws.post("/v1/context/text", {"content": "Ada Lovelace <ada@analytical.io> wants a demo."})).json()
    return int(body["artifact_id"])


async def _read_artifact(ws: Workspace, row_id: int) -> dict[str, Any]:
    body: dict[str, Any] = (await ws.get(f"/v1/context/artifacts/{row_id}")).json()
    return body


async def _start_list(ws: Workspace) -> int:
    await ws.post("/v1/objects/company", {"attributes": {"name": "Alpha Pay", "industry": "Fintech"}})
    body = (await ws.post("/v1/context/list/jobs", {"query": "fintech companies", "object_type": "company"})).json()
    return int(body["job_id"])


async def _read_list(ws: Workspace, row_id: int) -> dict[str, Any]:
    body: dict[str, Any] = (await ws.get(f"/v1/context/list/jobs/{row_id}")).json()["message"]
    return body


async def _start_export(ws: Workspace) -> int:
    await ws.post("/v1/objects/person", {"attributes": {"name": "Grace Hopper"}})
    return int((await ws.post("/v1/exports", {"object": "person", "format": "csv"})).json()["id"])


async def _read_export(ws: Workspace, row_id: int) -> dict[str, Any]:
    body: dict[str, Any] = (await ws.get(f"/v1/exports/{row_id}")).json()
    return body


CASES = {
    "artifact": Case(ARTIFACT, _start_artifact, _read_artifact,
                     "UPDATE artifacts SET result = NULL WHERE workspace_id = :ws AND id = :id",
                     lambda body: sorted(e["canonical_entity_id"] for e in body["result"]["entities_extracted"])),
    "ai_list": Case(AI_LIST, _start_list, _read_list,
                    "UPDATE ai_list_jobs SET result = NULL WHERE workspace_id = :ws AND id = :id",
                    lambda body: [e["name"] for e in body["entities"]]),
    "export": Case(EXPORT, _start_export, _read_export,
                   "DELETE FROM export_chunks WHERE workspace_id = :ws AND export_id = :id",
                   lambda body: body["size_bytes"]),
}


async def _execute(engine: AsyncEngine, sql: str, workspace_id: int, row_id: int) -> Any:
    async with engine.begin() as conn:
        result = await conn.execute(text(sql), {"ws": workspace_id, "id": row_id})
        return result.scalar() if result.returns_rows else None


@pytest.mark.parametrize("name", list(CASES))
async def test_a_job_whose_worker_died_is_finished_by_another_run(name: str, ws: Workspace, worker: Any,
                                                                  db: asyncpg.Connection, settings: Any) -> None:
    case = CASES[name]
    workspace_id, row_id = int(ws.id), await case.start(ws)
    first = case.outcome(await _until(lambda: case.read(ws, row_id), ("completed",)))
    assert first
    engine, table = deps(worker.ctx).engine, case.kind.table
    # A worker takes the job's lease on its own session and claims the row, then dies (kill -9)
    # before it stores anything.
    dead = await asyncpg.connect(settings.asyncpg_dsn)
    try:
        # The run that completed the job holds its lease until it returns (it still publishes and
        # nudges after its commit): wait for it to let go.
        deadline = time.monotonic() + 10
        while not await dead.fetchval("SELECT pg_try_advisory_lock(hashtextextended($1, 0))",
                                      lease_name(table, row_id)):
            assert time.monotonic() < deadline, "the finished run kept its lease"
            await asyncio.sleep(0.05)
        await _execute(engine, f"UPDATE {table} SET status = 'pending', updated_at = now() "
                               f"WHERE workspace_id = :ws AND id = :id", workspace_id, row_id)
        claimed = await claim(engine, case.kind, workspace_id, row_id)
        assert claimed is not None and claimed["status"] == "processing"
        await _execute(engine, case.forget, workspace_id, row_id)
        assert (await case.read(ws, row_id))["status"] == "processing"
        async with engine.begin() as conn:  # while its worker lives, the sweep leaves the job alone
            assert row_id not in {row.id for row in await stranded(conn, case.kind)}
        assert await db.fetchval("SELECT pg_terminate_backend($1, 5000)", dead.get_server_pid())
    finally:
        dead.terminate()
    async with engine.begin() as conn:  # its lease went with the dead worker's session
        assert row_id in {row.id for row in await stranded(conn, case.kind)}
    await requeue_stranded(worker.ctx)  # what the sweep does every 15 s
    body = await _until(lambda: case.read(ws, row_id), ("completed", "failed"))
    assert body["status"] == "completed", body
    assert case.outcome(body) == first
    # Started twice after the first run: by the worker that died, and by the run that finished it.
    assert await _execute(engine, f"SELECT attempts FROM {table} WHERE workspace_id = :ws AND id = :id",
                          workspace_id, row_id) == claimed["attempts"] + 1
    if case.kind is EXPORT:
        assert b"Grace Hopper" in (await ws.get(f"/v1/exports/{row_id}/download")).content
