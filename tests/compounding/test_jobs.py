"""Compounding jobs on a workspace seeded through the real pipeline: consolidation, pattern
detection, playbook synthesis, metrics; reruns and retries never duplicate."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest

from tessera.briefs.skills import parse_frontmatter
from tests.compounding.seeding import SECURITY, TWICE, run_job, seed
from tests.conftest import Workspace
from tests.spec import assert_matches

pytestmark = pytest.mark.usefixtures("worker")


async def counts(db: asyncpg.Connection, ws: Workspace) -> dict[str, Any]:
    row = await db.fetchrow(
        "SELECT (SELECT count(*) FROM insights WHERE workspace_id = $1) AS insights, "
        "(SELECT count(*) FROM insights WHERE workspace_id = $1 AND merged_into IS NULL) AS active, "
        "(SELECT count(*) FROM patterns WHERE workspace_id = $1) AS patterns, "
        "(SELECT count(*) FROM playbook_rules WHERE workspace_id = $1) AS rules, "
        "(SELECT count(*) FROM compounding_metrics WHERE workspace_id = $1) AS snapshots", int(ws.id))
    return dict(row)


async def test_the_pipeline_compounds(ws: Workspace, db: asyncpg.Connection) -> None:
    await seed(ws, db)
    before = await counts(db, ws)
    listed = (await ws.get("/v1/insights?last=1h&limit=100")).json()["data"]
    security = [i for i in listed if i["type"] == "objection" and "security review" in i["content"]]
    assert len(security) == len(SECURITY) + len(TWICE)

    # Consolidation: the second mention of each twice-raised objection merges into the first.
    status = await run_job(ws, "consolidation")
    assert_matches("compounding.JobStatusResponse", status)
    assert status["status"] == "completed" and status["dry_run"] is False
    assert status["insights_scanned"] == before["insights"]
    assert status["candidates_created"] == len(TWICE)  # merge groups
    assert status["insights_affected"] == 2 * len(TWICE)  # merged ones and their survivors
    assert status["duration_ms"] >= 0 and status["completed_at"] >= status["started_at"]
    after = await counts(db, ws)
    assert after["insights"] == before["insights"]  # marked, never deleted
    assert after["active"] == before["insights"] - len(TWICE)
    listed = (await ws.get("/v1/insights?last=1h&limit=100")).json()["data"]
    security = [i for i in listed if i["type"] == "objection" and "security review" in i["content"]]
    assert len(security) == len(SECURITY)
    survivors = await db.fetch(
        "SELECT i.id, i.source_artifact_ids, i.support_count, (SELECT array_agg(m.artifact_id ORDER BY m.artifact_id) "
        "FROM insights m WHERE m.workspace_id = i.workspace_id AND (m.id = i.id OR m.merged_into = i.id)) AS artifacts "
        "FROM insights i WHERE i.workspace_id = $1 AND i.support_count > 1", int(ws.id))
    assert len(survivors) == len(TWICE)
    for survivor in survivors:
        assert survivor["support_count"] == 2
        assert sorted(survivor["source_artifact_ids"]) == survivor["artifacts"] and len(survivor["artifacts"]) == 2
    merged_memory = await db.fetchval(
        "SELECT count(*) FROM memory_items m JOIN insights i ON i.workspace_id = m.workspace_id "
        "AND i.id = m.source_id WHERE m.workspace_id = $1 AND m.source_type = 'insight' "
        "AND i.merged_into IS NOT NULL", int(ws.id))
    assert merged_memory == 0
    again = await run_job(ws, "consolidation")
    assert (again["candidates_created"], again["insights_affected"]) == (0, 0)
    assert await counts(db, ws) == after

    # Pattern detection: the security review objection, across 12 companies.
    status = await run_job(ws, "pattern_detection")
    assert_matches("compounding.JobStatusResponse", status)
    assert status["status"] == "completed" and status["candidates_created"] >= 1
    pattern = await db.fetchrow(
        "SELECT * FROM patterns WHERE workspace_id = $1 AND kind = 'theme' AND insight_type = 'objection' "
        "ORDER BY support DESC LIMIT 1", int(ws.id))
    assert pattern["label"] == "security review" and pattern["support"] == len(SECURITY)
    companies = await db.fetch(
        "SELECT r.id FROM records r JOIN object_definitions o ON o.workspace_id = r.workspace_id "
        "AND o.id = r.object_id WHERE r.workspace_id = $1 AND o.slug = 'company' AND r.data::text ~ $2", int(ws.id),
        "|".join(f"{name} Corp" for name in SECURITY))
    assert sorted(pattern["entity_ids"]) == sorted(r["id"] for r in companies)
    assert len(pattern["examples"]) >= 3
    steps = await db.fetchrow("SELECT * FROM patterns WHERE workspace_id = $1 AND kind = 'theme' "
                              "AND insight_type = 'next_step' ORDER BY support DESC LIMIT 1", int(ws.id))
    assert steps["label"] == "SOC 2 report" and steps["support"] == 8
    assert await db.fetchval("SELECT count(*) FROM patterns WHERE workspace_id = $1 AND kind = 'co_occurrence'",
                             int(ws.id)) >= 1
    patterns_once = await counts(db, ws)
    assert (await run_job(ws, "pattern_detection"))["candidates_created"] == 0
    assert await counts(db, ws) == patterns_once

    # Playbook synthesis: a rule citing the pattern, whose action is the step taken where it came up.
    status = await run_job(ws, "playbook_synthesis")
    assert_matches("compounding.JobStatusResponse", status)
    assert status["candidates_created"] >= 1
    rule = await db.fetchrow("SELECT * FROM playbook_rules WHERE workspace_id = $1 AND pattern_id = $2",
                             int(ws.id), pattern["id"])
    assert rule["trigger"] == "a prospect raises security review"
    assert "SOC 2 report" in rule["action"]
    assert rule["support"] == len(SECURITY) and rule["status"] == "active"
    import orjson

    evidence = orjson.loads(rule["evidence"]) if isinstance(rule["evidence"], str) else rule["evidence"]
    cited = {e["insight_id"] for e in evidence}
    objection_ids = {str(i) for i in pattern["insight_ids"]}
    assert cited and cited <= objection_ids
    assert all("security review" in e["quote"] and e["artifact_id"] and e["record_id"] for e in evidence)
    rules_once = await counts(db, ws)
    assert (await run_job(ws, "playbook_synthesis"))["candidates_created"] == 0
    assert await counts(db, ws) == rules_once

    # The rule reaches what agents read: a skill compiled from it and the workspace playbook.
    compiled = (await ws.post("/v1/agent/skills/compile", {})).json()
    skill = next(s for s in compiled["data"] if s["rule_id"] == str(rule["id"]))
    front = parse_frontmatter((await ws.get(f"/v1/agent/skills/{skill['id']}/download")).text)
    assert front["trigger"] == rule["trigger"] and "SOC 2 report" in front["action"]
    assert {p["id"] for p in front["people"]} <= {e["record_id"] for e in evidence}
    playbook = (await ws.get("/v1/playbooks/workspace/playbook")).json()
    assert rule["trigger"] in playbook["content"] and "SOC 2 report" in playbook["content"]

    # Metrics: one snapshot per run, its counts in the run's result.
    status = await run_job(ws, "metrics")
    assert_matches("compounding.JobStatusResponse", status)
    snapshot = status["result"]["snapshot"]
    assert snapshot["artifacts"] == 30 and snapshot["insights"] == before["insights"] - len(TWICE)
    assert snapshot["insights_by_type"]["objection"] >= len(SECURITY)
    assert snapshot["patterns"] >= 2 and snapshot["rules"] >= 1 and snapshot["entities"] >= 26
    assert (await counts(db, ws))["snapshots"] == 1
