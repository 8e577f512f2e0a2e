"""Audit item 12: what one query may cost. Deep offsets and many leading-wildcard conditions are
refused with a 400 that says what to do instead; one workspace's concurrent queries cannot take
the whole connection pool from the others."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import pytest

from tests.conftest import Workspace, WorkspaceFactory


async def _query(ws: Workspace, body: dict[str, Any]) -> Any:
    return await ws.post("/v1/objects/person/records", body)


async def test_an_offset_past_the_cap_is_refused_with_the_cursor_named(ws: Workspace) -> None:
    at_cap = await _query(ws, {"offset": 10_000})
    past = await _query(ws, {"offset": 10_001})

    assert at_cap.status_code == 200
    assert past.status_code == 400
    assert "at most 10000" in past.json()["message"] and "cursor" in past.json()["message"]
    assert past.json()["errors"][0]["path"] == "offset"


async def test_many_leading_wildcard_conditions_are_refused(ws: Workspace) -> None:
    def contains(n: int) -> dict[str, Any]:
        return {"filter": {"$or": [{"description": {"$contains": f"needle{i}"}} for i in range(n)]}}

    assert (await _query(ws, contains(10))).status_code == 200
    refused = await _query(ws, contains(11))
    assert refused.status_code == 400 and "at most 10" in refused.json()["message"]
    ends_with = {"filter": {"$and": [{"$not": {"job_title": {"$ends_with": f"x{i}"}}} for i in range(11)]}}
    assert (await _query(ws, ends_with)).status_code == 400
    anchored = {"filter": {"$or": [{"description": {"$starts_with": f"needle{i}"}} for i in range(11)]}}
    assert (await _query(ws, anchored)).status_code == 200


async def test_one_workspaces_queries_wait_for_a_slot_and_never_block_another(
        app: Any, ws: Workspace, make_workspace: WorkspaceFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    gate = app.state.tessera.query_gate
    monkeypatch.setattr(gate, "wait_seconds", 0.2)
    other = await make_workspace()
    created = await ws.post("/v1/objects/person/lists", {"name": "Leads", "slug": "leads"})
    list_id = created.json()["id"]
    async with contextlib.AsyncExitStack() as running:  # four expensive queries of ws in flight
        for _ in range(gate.limit):
            await running.enter_async_context(gate.slot(int(ws.id)))

        refused, answered = await asyncio.gather(_query(ws, {}), _query(other, {}))

        assert refused.status_code == 429 and refused.headers["Retry-After"] == "1"
        assert "at most 4" in refused.json()["message"]
        assert answered.status_code == 200
        members = await ws.post(f"/v1/lists/{list_id}/records", {})
        assert members.status_code == 429, "list-entry queries share the workspace's slots"
    assert (await _query(ws, {})).status_code == 200, "slots are given back"
    assert gate._slots == {}, "no per-workspace state is kept once idle"
