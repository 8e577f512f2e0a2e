"""Playbook rules: the seam between what compounding learns and what reads it.

Playbook synthesis (a compounding job) writes rules with ``upsert_rule``, keyed by a fingerprint
so a rerun or a retry updates a rule instead of adding a second one; workspace playbooks and agent
skills read them with ``list_rules``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Literal

import asyncpg
import orjson

from tessera.db.sql import WORKSPACE, Params
from tessera.db.tenant import Tenant
from tessera.wire import JsonObject

RuleStatus = Literal["active", "retired"]
MAX_RULES: Final = 1_000
"""At most this many rules are read at once (a workspace playbook lists them all)."""

_COLUMNS = ("id, fingerprint, pattern_id, title, trigger, action, evidence, support, confidence, status, "
            "created_at, updated_at")


@dataclass(frozen=True, slots=True)
class PlaybookRule:
    """"When <trigger>, <action>", with the evidence that supports it.

    ``evidence`` items name their sources: ``{"insight_id", "artifact_id", "record_id", "quote"}``
    (each key optional, ids as strings)."""

    id: int
    fingerprint: str
    pattern_id: int | None
    title: str
    trigger: str
    action: str
    evidence: tuple[JsonObject, ...]
    support: int
    confidence: float
    status: RuleStatus
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class NewRule:
    fingerprint: str
    pattern_id: int | None
    title: str
    trigger: str
    action: str
    evidence: Sequence[JsonObject]
    support: int
    confidence: float


def _rule(row: asyncpg.Record) -> PlaybookRule:
    evidence = row["evidence"]
    if isinstance(evidence, str):
        evidence = orjson.loads(evidence)
    return PlaybookRule(
        id=row["id"], fingerprint=row["fingerprint"], pattern_id=row["pattern_id"], title=row["title"],
        trigger=row["trigger"], action=row["action"], evidence=tuple(evidence), support=row["support"],
        confidence=row["confidence"], status=row["status"], created_at=row["created_at"],
        updated_at=row["updated_at"])


async def list_rules(tenant: Tenant, *, status: RuleStatus | None = "active", limit: int = MAX_RULES
                     ) -> list[PlaybookRule]:
    """The workspace's rules, most confident first (then oldest first, for a stable order)."""
    params = Params()
    where = f"workspace_id = {WORKSPACE}" + (f" AND status = {params.add(status)}" if status is not None else "")
    rows = await tenant.fetch(
        f"SELECT {_COLUMNS} FROM playbook_rules WHERE {where} ORDER BY confidence DESC, id "
        f"LIMIT {params.add(min(limit, MAX_RULES))}", *params.values)
    return [_rule(row) for row in rows]


async def upsert_rule(tenant: Tenant, rule: NewRule, now: datetime) -> tuple[PlaybookRule, bool]:
    """Insert the rule, or update the one with its fingerprint; returns it and whether it is new."""
    params = Params()
    values = [params.add(rule.fingerprint), params.add(rule.pattern_id, "bigint"), params.add(rule.title),
              params.add(rule.trigger), params.add(rule.action),
              params.add(orjson.dumps(list(rule.evidence)).decode(), "jsonb"), params.add(rule.support),
              params.add(rule.confidence), params.add(now)]
    row = await tenant.fetch_one(
        "INSERT INTO playbook_rules (workspace_id, fingerprint, pattern_id, title, trigger, action, evidence, "
        f"support, confidence, created_at, updated_at) VALUES ({WORKSPACE}, {', '.join(values)}, {values[-1]}) "
        "ON CONFLICT (workspace_id, fingerprint) DO UPDATE SET pattern_id = EXCLUDED.pattern_id, "
        "title = EXCLUDED.title, trigger = EXCLUDED.trigger, action = EXCLUDED.action, "
        "evidence = EXCLUDED.evidence, support = EXCLUDED.support, confidence = EXCLUDED.confidence, "
        "status = 'active', updated_at = EXCLUDED.updated_at "
        f"RETURNING {_COLUMNS}, (xmax = 0) AS inserted", *params.values)
    return _rule(row), bool(row["inserted"])
