"""Audit item 13: ``Idempotency-Key`` on import uploads. A retried upload (same key, same file and
fields, a new multipart boundary as every client draws) answers the first import again instead
of starting a second; the same key with another file is 409. Before, uploads skipped
idempotency altogether: each retry imported the file again."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx

from tests.conftest import API, Workspace

PEOPLE = b"name\nAda Lovelace\nGrace Hopper\n"


async def upload(ws: Workspace, content: bytes, key: str, **fields: str) -> httpx.Response:
    return await ws.http.post(f"{API}/v1/objects/person/imports", headers={**ws.headers(), "Idempotency-Key": key},
                              files={"file": ("people.csv", content, "text/csv")}, data=fields)


async def imports(db: asyncpg.Connection, ws: Workspace) -> int:
    return int(await db.fetchval("SELECT count(*) FROM imports WHERE workspace_id = $1", int(ws.id)))


async def test_a_retried_upload_answers_the_first_import(ws: Workspace, db: asyncpg.Connection, limits: Any) -> None:
    limits(max_running_jobs_per_workspace=1)  # the first import may still be running: a replay is not a new job
    first = await upload(ws, PEOPLE, "import-1")
    assert first.status_code == 200, first.text
    assert "idempotent-replayed" not in first.headers

    again = await upload(ws, PEOPLE, "import-1")

    assert again.status_code == 200, again.text
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert await imports(db, ws) == 1


async def test_the_same_key_with_another_upload_is_409(ws: Workspace, db: asyncpg.Connection) -> None:
    assert (await upload(ws, PEOPLE, "import-2")).status_code == 200
    other_file = await upload(ws, PEOPLE + b"Alan Turing\n", "import-2")
    other_field = await upload(ws, PEOPLE, "import-2", matching_attribute="name")
    for refused in (other_file, other_field):
        assert refused.status_code == 409, refused.text
        assert refused.json()["code"] == 409 and "Idempotency-Key" in refused.json()["message"]
    assert await imports(db, ws) == 1
    assert (await upload(ws, PEOPLE + b"Alan Turing\n", "import-3")).status_code == 200, "a new key is a new upload"
