"""Waiting for what the worker does, as a user would see it (the feed), and for its runs."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import asyncpg

from tests.conftest import Workspace


async def processed(ws: Workspace, content: str, within: float = 30) -> int:
    """Post a text and wait until its extraction and its notification run are done; its id."""
    response = await ws.post("/v1/context/text", {"content": content})
    assert response.status_code == 200, response.text
    artifact_id: int = response.json()["artifact_id"]
    deadline = time.monotonic() + within
    while (await ws.get(f"/v1/context/artifacts/{artifact_id}")).json()["status"] not in ("completed", "failed"):
        assert time.monotonic() < deadline, "artifact not processed in time"
        await asyncio.sleep(0.1)
    return artifact_id


async def run_done(db: asyncpg.Connection, ws: Workspace, artifact_id: int, within: float = 30) -> dict[str, Any]:
    """The notification run of an artifact once it finished."""
    deadline = time.monotonic() + within
    while True:
        row = await db.fetchrow("SELECT status, items_created, sources_scanned, attempts FROM notification_runs "
                                "WHERE workspace_id = $1 AND artifact_id = $2", int(ws.id), artifact_id)
        if row is not None and row["status"] in ("completed", "failed"):
            return dict(row)
        assert time.monotonic() < deadline, f"notification run not finished in time: {row}"
        await asyncio.sleep(0.1)


async def feed(ws: Workspace, query: str = "") -> list[dict[str, Any]]:
    response = await ws.get("/v1/notifications/feed" + query)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def feed_until(ws: Workspace, predicate: Any, within: float = 40) -> list[dict[str, Any]]:
    """The feed once ``predicate(items)`` holds."""
    deadline = time.monotonic() + within
    while True:
        items = await feed(ws, "?limit=50")
        if predicate(items):
            return items
        assert time.monotonic() < deadline, f"feed never satisfied the condition: {items}"
        await asyncio.sleep(0.2)
