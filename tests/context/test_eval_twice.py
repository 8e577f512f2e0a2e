"""The whole evaluation set through the API twice: the second pass matches every entity the first
created, so it adds no person and no company (issue: "the same set run twice creates no
duplicate records")."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from tests.conftest import Workspace

pytestmark = [pytest.mark.usefixtures("worker"), pytest.mark.slow]

DATA = Path(__file__).resolve().parents[1] / "data" / "context_eval"
SETS = ("cases.jsonl", "holdout.jsonl", "fresh.jsonl")
COUNTS = ("SELECT o.slug, count(*) AS n FROM records r JOIN object_definitions o ON o.workspace_id = r.workspace_id "
          "AND o.id = r.object_id WHERE r.workspace_id = $1 AND o.slug IN ('person', 'company') GROUP BY o.slug")


def _texts() -> list[dict[str, Any]]:
    cases = [json.loads(line) for name in SETS
             for line in (DATA / name).read_text(encoding="utf-8").splitlines() if line.strip()]
    return [{"content": case["text"], **({"context": case["context"]} if case.get("context") else {})}
            for case in cases]


async def _feed(ws: Workspace, bodies: list[dict[str, Any]]) -> list[int]:
    ids = []
    for body in bodies:
        response = await ws.post("/v1/context/text", body)
        assert response.status_code == 200, response.text
        ids.append(response.json()["artifact_id"])
    deadline = time.monotonic() + 180
    pending = set(ids)
    while pending:
        for artifact_id in list(pending):
            status = (await ws.get(f"/v1/context/artifacts/{artifact_id}")).json()["status"]
            assert status != "failed", artifact_id
            if status == "completed":
                pending.discard(artifact_id)
        assert time.monotonic() < deadline, f"{len(pending)} artifacts not completed"
        if pending:
            await asyncio.sleep(0.5)
    return ids


async def test_the_eval_set_twice_creates_no_duplicates(make_workspace: Any, db: asyncpg.Connection) -> None:
    ws = await make_workspace()
    bodies = _texts()
    assert len(bodies) >= 100
    await _feed(ws, bodies)
    first = {row["slug"]: row["n"] for row in await db.fetch(COUNTS, int(ws.id))}
    assert first["person"] >= 100 and first["company"] >= 60, first
    newest = await db.fetchval("SELECT max(id) FROM records WHERE workspace_id = $1", int(ws.id))
    second_ids = await _feed(ws, bodies)
    added = await db.fetch("SELECT data::text FROM records WHERE workspace_id = $1 AND id > $2 "
                           "AND object_id IN (SELECT id FROM object_definitions WHERE workspace_id = $1 "
                           "AND slug IN ('person', 'company'))", int(ws.id), newest)
    assert {row["slug"]: row["n"] for row in await db.fetch(COUNTS, int(ws.id))} == first, [r[0] for r in added]
    # The second pass matched what the first created, and says so.
    created, matched = 0, 0
    for artifact_id in second_ids:
        result = (await ws.get(f"/v1/context/artifacts/{artifact_id}")).json()["result"]
        created += result["entities_created"]
        matched += sum(1 for entity in result["entities_extracted"] if not entity["is_new"])
    assert created == 0 and matched >= first["person"], (created, matched)
