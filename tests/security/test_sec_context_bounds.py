"""Audit item 10: what one context artifact may make, and what ``/v1/graph`` draws, are bounded.
A text naming 150 people at 150 companies creates at most CONTEXT_MAX_ENTITIES_PER_ARTIFACT
entities (the rest counted as skipped), an insight about entities that were skipped is attached to
none instead of to every entity of the artifact, entities mentioned together are a star (n - 1
edges) instead of a clique (n(n - 1)/2), and the graph holds at most ``limit`` nodes and
4 x ``limit`` edges of each kind."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import asyncpg
import pytest

from tessera.settings import Settings
from tests.conftest import Workspace

pytestmark = pytest.mark.usefixtures("worker")

PEOPLE = 150
NAMES = [f"Alex Person{chr(65 + i % 26)}{chr(65 + i // 26)}" for i in range(PEOPLE)]
CROWD = "\n".join(f"Met {name} <{name.lower().replace(' ', '.')}@firm{i}.com> today." for i, name in enumerate(NAMES))
LAST_WORD = "\nZed Zulu from Zulu Labs said our budget is around $40,000 for this year.\n"


async def processed(ws: Workspace, content: str) -> tuple[int, dict[str, Any]]:
    artifact_id = (await ws.post("/v1/context/text", {"content": content})).json()["artifact_id"]
    deadline = time.monotonic() + 60
    while (body := (await ws.get(f"/v1/context/artifacts/{artifact_id}")).json())["status"] != "completed":
        assert body["status"] != "failed" and time.monotonic() < deadline, body
        await asyncio.sleep(0.1)
    return artifact_id, body["result"]


async def test_a_crowded_text_makes_at_most_the_cap_and_reports_the_rest(ws: Workspace, db: asyncpg.Connection,
                                                                        settings: Settings) -> None:
    cap = settings.context_max_entities_per_artifact
    artifact_id, result = await processed(ws, CROWD + LAST_WORD)

    assert len(result["entities_extracted"]) == cap
    assert result["entities_skipped"] == 2 * (PEOPLE + 1) - cap
    assert await db.fetchval("SELECT count(*) FROM records WHERE workspace_id = $1", int(ws.id)) == cap
    insights = await db.fetch("SELECT entity_ids FROM insights WHERE workspace_id = $1 AND artifact_id = $2",
                              int(ws.id), artifact_id)
    assert insights, "the budget sentence is still an insight"
    assert all(list(i["entity_ids"]) == [] for i in insights), "Zed Zulu and Zulu Labs were skipped: about no one"


async def test_the_graph_draws_a_star_per_artifact_and_stays_within_its_limit(ws: Workspace,
                                                                             settings: Settings) -> None:
    cap = settings.context_max_entities_per_artifact
    await processed(ws, CROWD)

    graph = (await ws.get("/v1/graph", params={"limit": 1000})).json()
    context = [e for e in graph["context_edges"] if e["edge_type"] == "context"]
    assert len(context) == cap - 1, "a star: every entity linked to one hub (a clique would be 4,950 edges)"
    assert len({e["source"] for e in context}) == 1

    small = (await ws.get("/v1/graph", params={"limit": 10})).json()
    assert len(small["nodes"]) == 10 and small["total_nodes"] == cap
    node_ids = {n["id"] for n in small["nodes"]}
    assert len(small["edges"]) <= 40
    assert len([e for e in small["context_edges"] if e["edge_type"] == "context"]) <= 40
    assert all(e["source"] in node_ids and e["target"] in node_ids
               for e in small["edges"] + [e for e in small["context_edges"] if e["edge_type"] == "context"])
