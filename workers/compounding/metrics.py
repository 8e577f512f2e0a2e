"""Metrics: a snapshot of what the workspace knows (artifacts, insights by type, entities,
patterns, rules), one row of ``compounding_metrics`` per run (keyed by the run: a retry writes
it once). The latest snapshot is also the run's ``result``."""

from __future__ import annotations

from typing import Any

import orjson

from tessera.db.sql import Params
from tessera.db.tenant import Tenant
from workers.compounding.runs import Outcome, RunContext


async def count(tenant: Tenant) -> dict[str, Any]:
    """The counts of one snapshot."""
    totals = await tenant.fetch_one(
        "SELECT (SELECT count(*) FROM artifacts WHERE workspace_id = $1) AS artifacts, "
        "(SELECT count(*) FROM insights WHERE workspace_id = $1 AND merged_into IS NULL) AS insights, "
        "(SELECT count(*) FROM insights WHERE workspace_id = $1 AND merged_into IS NOT NULL) AS insights_merged, "
        "(SELECT count(*) FROM records r JOIN object_definitions o ON o.workspace_id = r.workspace_id "
        "AND o.id = r.object_id WHERE r.workspace_id = $1 AND o.type <> 'list') AS entities, "
        "(SELECT count(*) FROM patterns WHERE workspace_id = $1 AND status = 'active') AS patterns, "
        "(SELECT count(*) FROM playbook_rules WHERE workspace_id = $1 AND status = 'active') AS rules")
    by_type = await tenant.fetch(
        "SELECT type, count(*) AS n FROM insights WHERE workspace_id = $1 AND merged_into IS NULL GROUP BY type "
        "ORDER BY type")
    return {**{k: int(totals[k]) for k in ("artifacts", "insights", "insights_merged", "entities", "patterns",
                                            "rules")},
            "insights_by_type": {r["type"]: int(r["n"]) for r in by_type}}


async def snapshot(run: RunContext) -> Outcome:
    """The metrics job's work, in ``run``'s transaction."""
    counts = await count(run.tenant)
    params = Params()
    values = ", ".join((params.add(run.job_id), params.add(run.now),
                        params.add(orjson.dumps(counts).decode(), "jsonb")))
    inserted = await run.tenant.fetch(
        f"INSERT INTO compounding_metrics (workspace_id, job_id, taken_at, counts) VALUES ($1, {values}) "
        "ON CONFLICT (workspace_id, job_id) DO NOTHING RETURNING id", *params.values)
    return Outcome(insights_scanned=counts["insights"], candidates_created=len(inserted),
                   result={"snapshot": counts, "taken_at": run.now.isoformat().replace("+00:00", "Z")})
