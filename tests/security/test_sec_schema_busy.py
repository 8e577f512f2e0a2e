"""From the hostile-tenant scenario: a workspace whose context jobs held its schema (each
artifact's transaction keeps it from changing) answered its own object and webhook creations 503
after the 30 s statement timeout. A schema change now waits at most SCHEMA_CHANGE_WAIT_MS for the
workspace's running writes, then answers 429 with Retry-After; another workspace never waits."""

from __future__ import annotations

import time

import asyncpg
import pytest

from tessera.registry import repository
from tests.conftest import Workspace, WorkspaceFactory


async def test_a_schema_change_behind_long_writes_is_429_not_a_timeout(ws: Workspace, make_workspace: WorkspaceFactory,
                                                                      app: object, monkeypatch: pytest.MonkeyPatch
                                                                      ) -> None:
    monkeypatch.setattr(repository, "SCHEMA_CHANGE_WAIT_MS", 300)
    conn = await asyncpg.connect(app.state.tessera.settings.asyncpg_dsn)  # type: ignore[attr-defined]
    try:
        writing = conn.transaction()
        await writing.start()  # a record write or a context job: the schema held for its transaction
        await conn.execute("SELECT schema_version FROM workspaces WHERE id = $1 FOR KEY SHARE", int(ws.id))
        started = time.monotonic()
        busy = await ws.post("/v1/objects", {"name": "Deal", "slug": "deal", "type": "deal"})
        waited = time.monotonic() - started
        other = await (await make_workspace()).post("/v1/objects", {"name": "Deal", "slug": "deal", "type": "deal"})
        await writing.rollback()
    finally:
        await conn.close()
    assert busy.status_code == 429, busy.text
    assert "in use by its running writes" in busy.json()["message"] and busy.headers["Retry-After"] == "5"
    assert waited < 3, f"waited {waited:.1f} s"
    assert other.status_code == 200, other.text
    assert (await ws.post("/v1/objects", {"name": "Deal", "slug": "deal", "type": "deal"})).status_code == 200
