"""Playbook rules: synthesis upserts by fingerprint (a rerun never duplicates), readers see the
workspace's own rules, most confident first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tessera.compounding.rules import NewRule, list_rules, upsert_rule
from tessera.db.tenant import Tenant
from tests.conftest import WorkspaceFactory

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def rule(fingerprint: str, confidence: float, **changes: Any) -> NewRule:
    fields: dict[str, Any] = {
        "fingerprint": fingerprint, "pattern_id": None, "title": "Security review",
        "trigger": "a prospect raises a security review", "action": "send the SOC 2 report within a day",
        "evidence": [{"insight_id": "12", "quote": "they need a security review"}], "support": 12,
        "confidence": confidence, **changes}
    return NewRule(**fields)


async def test_upsert_by_fingerprint_and_isolation(make_workspace: WorkspaceFactory, app: Any) -> None:
    ws, other = await make_workspace(), await make_workspace()
    engine = app.state.tessera.engine
    async with engine.begin() as conn:
        tenant = Tenant(conn, int(ws.id))
        first, new = await upsert_rule(tenant, rule("security", 0.6), NOW)
        assert new
        again, new = await upsert_rule(tenant, rule("security", 0.8, support=14), NOW + timedelta(hours=1))
        assert not new and again.id == first.id
        assert (again.support, again.confidence, again.updated_at) == (14, 0.8, NOW + timedelta(hours=1))
        assert again.created_at == NOW
        await upsert_rule(tenant, rule("pricing", 0.9, title="Pricing"), NOW)
        assert [r.fingerprint for r in await list_rules(tenant)] == ["pricing", "security"]
        assert again.evidence == ({"insight_id": "12", "quote": "they need a security review"},)
        assert await list_rules(Tenant(conn, int(other.id))) == []
