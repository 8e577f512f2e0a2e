"""Audit item 11, stored files: a workspace keeps at most MAX_STORED_FILE_BYTES_PER_WORKSPACE of
import and export files, runs at most MAX_RUNNING_JOBS_PER_WORKSPACE imports (and exports) at
once, its exports expire after EXPORT_RETENTION_DAYS, and the worker's sweep deletes the files
of failed imports. Before, files stayed in PostgreSQL for ever and uploads had no total."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from tessera.settings import Settings
from tests.conftest import API, Workspace, WorkspaceFactory
from tests.security.support import until_status


async def upload(ws: Workspace, content: bytes) -> httpx.Response:
    return await ws.http.post(f"{API}/v1/objects/person/imports", headers=ws.headers(),
                              files={"file": ("people.csv", content, "text/csv")})


async def hold_file_bytes(db: asyncpg.Connection, ws: Workspace, size: int) -> None:
    """A failed import of ``size`` bytes whose file the sweep has not deleted yet."""
    import_id = await db.fetchval(
        "INSERT INTO imports (workspace_id, id, object_id, format, mapping, status, total_bytes, processed_rows, "
        "created_count, updated_count, failed_count, attempts, created_by_id) SELECT $1, next_id(), id, 'csv', "
        "'{}', 'failed', $2, 0, 0, 0, 0, 3, '0' FROM object_definitions WHERE workspace_id = $1 AND slug = 'person' "
        "RETURNING id",
        int(ws.id), size)
    await db.execute("INSERT INTO import_chunks (workspace_id, import_id, seq, data) VALUES ($1, $2, 0, $3)",
                     int(ws.id), import_id, b"x" * size)


async def test_stored_files_are_capped_per_workspace(ws: Workspace, make_workspace: WorkspaceFactory, limits: Any,
                                                     db: asyncpg.Connection) -> None:
    limits(max_stored_file_bytes_per_workspace=1_000)
    await hold_file_bytes(db, ws, 900)

    crossing = await upload(ws, b"name\n" + b"Ada Lovelace\n" * 20)
    assert crossing.status_code == 413, crossing.text
    assert "MAX_STORED_FILE_BYTES_PER_WORKSPACE" in crossing.json()["message"]
    assert await db.fetchval("SELECT count(*) FROM imports WHERE workspace_id = $1", int(ws.id)) == 1, \
        "the refused upload left nothing behind"

    await hold_file_bytes(db, ws, 100)
    for refused in (await upload(ws, b"name\nAda\n"), await ws.post("/v1/exports", {"format": "jsonl"})):
        assert refused.status_code == 409, refused.text
        assert "MAX_STORED_FILE_BYTES_PER_WORKSPACE" in refused.json()["message"]
    other = await make_workspace()
    assert (await upload(other, b"name\nAda\n")).status_code == 200, "another workspace has its own total"


async def test_imports_and_exports_running_at_once_are_capped(ws: Workspace, limits: Any,
                                                              db: asyncpg.Connection) -> None:
    limits(max_running_jobs_per_workspace=1)
    await db.execute("INSERT INTO exports (workspace_id, id, format, status) VALUES ($1, next_id(), 'jsonl', "
                     "'processing')", int(ws.id))
    await db.execute(
        "INSERT INTO imports (workspace_id, id, object_id, format, mapping, status, total_bytes, processed_rows, "
        "created_count, updated_count, failed_count, attempts, created_by_id) SELECT $1, next_id(), id, 'csv', "
        "'{}', 'processing', 0, 0, 0, 0, 0, 1, '0' FROM object_definitions WHERE workspace_id = $1 AND slug = 'person'",
        int(ws.id))
    for refused in (await upload(ws, b"name\nAda\n"), await ws.post("/v1/exports", {"format": "jsonl"})):
        assert refused.status_code == 429, refused.text
        assert "MAX_RUNNING_JOBS_PER_WORKSPACE" in refused.json()["message"] and refused.headers["Retry-After"] == "5"


@pytest.mark.usefixtures("worker")
async def test_exports_expire_and_failed_imports_lose_their_files(ws: Workspace, db: asyncpg.Connection,
                                                                  settings: Settings) -> None:
    from workers.lifecycle import purge_expired, shutdown, startup

    await ws.post("/v1/objects/person/records", {"values": {"name": "Ada Lovelace"}})
    export = (await ws.post("/v1/exports", {"format": "jsonl"})).json()
    done = await until_status(ws, f"/v1/exports/{export['id']}", ("completed", "failed"))
    assert done["status"] == "completed", done
    assert done["expires_at"] > done["completed_at"]
    assert (await ws.get(f"/v1/exports/{export['id']}/download")).status_code == 200

    failed = (await upload(ws, b"name\n")).json()  # a header and no rows: the worker fails it
    assert (await until_status(ws, f"/v1/imports/{failed['id']}", ("completed", "failed")))["status"] == "failed"
    assert await db.fetchval("SELECT count(*) FROM import_chunks WHERE workspace_id = $1", int(ws.id)) == 1

    await db.execute("UPDATE exports SET completed_at = now() - $3::interval WHERE workspace_id = $1 AND id = $2",
                     int(ws.id), int(export["id"]), timedelta(days=settings.export_retention_days, minutes=1))
    ctx: dict[str, Any] = {"settings": settings}
    await startup(ctx)
    try:
        await purge_expired(ctx)
    finally:
        await shutdown(ctx)

    expired = (await ws.get(f"/v1/exports/{export['id']}")).json()
    assert expired["status"] == "expired" and "download_url" not in expired, expired
    download = await ws.get(f"/v1/exports/{export['id']}/download")
    assert download.status_code == 409 and "expired" in download.json()["message"]
    for table in ("import_chunks", "export_chunks"):
        assert await db.fetchval(f"SELECT count(*) FROM {table} WHERE workspace_id = $1", int(ws.id)) == 0, table
    assert (await ws.get(f"/v1/imports/{failed['id']}")).json()["status"] == "failed", "the import itself stays"
