"""Playbook synthesis: patterns with enough support become playbook rules ("When a prospect
raises security review, ..."), written with ``tessera.compounding.rules.upsert_rule`` under the
fingerprint ``pattern:<pattern fingerprint>`` (a rerun updates the rule); rules whose pattern is
gone (retired, or below the support now asked) are retired.

The prose comes from one deterministic template per pattern kind and insight type. For an
objection or a risk, the action quotes the next step most often noted on the same records, when
one is (what the team did where the theme came up). No LLM is asked (``LLM_BASE_URL`` is not used
here): the same patterns always give the same rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import orjson

from tessera.compounding.rules import NewRule, upsert_rule
from tessera.db.sql import Params
from tessera.db.tenant import Tenant
from tessera.wire import JsonObject
from workers.compounding.runs import Outcome, RunContext

MAX_RULES: Final = 200
RULE_PREFIX: Final = "pattern:"
FOLLOWED: Final = 0.5
"""A next-step theme is what the team did about a theme when it was noted on this share of its records."""

_TRIGGERS: Final = {
    "objection": "a prospect raises {label}",
    "risk": "an account shows {label}",
    "buying_signal": "a prospect signals {label}",
    "budget": "a prospect talks budget: {label}",
    "timeline": "a deal's timeline depends on {label}",
    "sentiment": "a customer says {label}",
    "next_step": "a deal calls for {label}",
}
_ACTIONS: Final = {
    "objection": "answer {label} before it stalls the deal: prepare what the {support} companies that raised it "
                 "needed",
    "risk": "treat {label} as a churn risk: tell the account owner the same day and agree a recovery plan",
    "buying_signal": "move while the interest is fresh: reply within a day and propose the next step",
    "budget": "confirm the budget and its owner, and size the proposal to it",
    "timeline": "confirm the dates with the buyer and plan the deal backwards from them",
    "sentiment": "follow up on what they said about {label} and share it with the product team",
    "next_step": "deliver it promptly, as the team did for {support} records",
}


@dataclass(frozen=True, slots=True)
class StoredPattern:
    id: int
    fingerprint: str
    kind: str
    insight_type: str | None
    key: str
    label: str
    support: int
    entity_ids: tuple[int, ...]
    insight_ids: tuple[int, ...]
    examples: tuple[JsonObject, ...]
    confidence: float


def _followed_step(pattern: StoredPattern, steps: Sequence[StoredPattern]) -> StoredPattern | None:
    """The next-step theme noted on the most of ``pattern``'s records (at least ``FOLLOWED`` of them)."""
    records = set(pattern.entity_ids)
    best: tuple[int, StoredPattern] | None = None
    for step in steps:
        shared = len(records & set(step.entity_ids))
        if shared >= FOLLOWED * len(records) and (best is None or shared > best[0]):
            best = (shared, step)
    return best[1] if best else None


def write_rule(pattern: StoredPattern, steps: Sequence[StoredPattern]) -> NewRule:
    """The rule a pattern stands for (pure: the same pattern always gives the same rule)."""
    label = pattern.label
    values = {"label": label, "support": pattern.support}
    if pattern.kind == "theme":
        kind = pattern.insight_type or "next_step"
        trigger = _TRIGGERS.get(kind, "{label} comes up").format(**values)
        action = _ACTIONS.get(kind, "act on {label}").format(**values)
        step = _followed_step(pattern, steps) if kind in ("objection", "risk") else None
        if step is not None and step.examples:
            action = f"do what worked where it came up before: {step.examples[0].get('quote', step.label)}"
        title = f"{label[:1].upper()}{label[1:]} ({kind.replace('_', ' ')})"
    elif pattern.kind == "co_occurrence":
        first, _, second = label.partition(" with ")
        trigger = f"a record shows {first}"
        action = f"expect {second} too (noted together on {pattern.support} records) and prepare for both"
        title = f"{first} and {second}"
    else:
        trigger = f"a record's {label}"
        action = f"run the hand-off that {pattern.support} records went through at this step"
        title = f"Stage: {label}"
    evidence = [{k: v for k, v in e.items() if k in ("insight_id", "artifact_id", "record_id", "quote")}
                for e in pattern.examples]
    return NewRule(fingerprint=RULE_PREFIX + pattern.fingerprint, pattern_id=pattern.id, title=title[:200],
                   trigger=trigger, action=action, evidence=evidence, support=pattern.support,
                   confidence=pattern.confidence)


async def read_patterns(tenant: Tenant) -> list[StoredPattern]:
    rows = await tenant.fetch(
        "SELECT id, fingerprint, kind, insight_type, key, label, support, entity_ids, insight_ids, examples, "
        "confidence FROM patterns WHERE workspace_id = $1 AND status = 'active' ORDER BY support DESC, id LIMIT 1000")

    def examples(stored: Any) -> tuple[JsonObject, ...]:
        decoded = orjson.loads(stored) if isinstance(stored, str) else stored
        return tuple(e for e in decoded if isinstance(e, dict))

    return [StoredPattern(r["id"], r["fingerprint"], r["kind"], r["insight_type"], r["key"], r["label"], r["support"],
                          tuple(r["entity_ids"]), tuple(r["insight_ids"]), examples(r["examples"]), r["confidence"])
            for r in rows]


async def synthesize(run: RunContext) -> Outcome:
    """The playbook synthesis job's work, in ``run``'s transaction."""
    patterns = await read_patterns(run.tenant)
    steps = [p for p in patterns if p.kind == "theme" and p.insight_type == "next_step"]
    eligible = [p for p in patterns if p.support >= run.settings.compounding_rule_min_support][:MAX_RULES]
    created = 0
    fingerprints = []
    cited: set[str] = set()
    rules = []
    for pattern in eligible:
        rule, new = await upsert_rule(run.tenant, write_rule(pattern, steps), run.now)
        created += int(new)
        fingerprints.append(rule.fingerprint)
        cited |= {str(e["insight_id"]) for e in rule.evidence if "insight_id" in e}
        rules.append({"id": str(rule.id), "title": rule.title, "trigger": rule.trigger, "action": rule.action,
                      "support": rule.support})
    params = Params()
    prefix, kept, at = params.add(RULE_PREFIX), params.add(fingerprints, "text[]"), params.add(run.now)
    retired = await run.tenant.fetch(
        f"UPDATE playbook_rules SET status = 'retired', updated_at = {at} WHERE workspace_id = $1 "
        f"AND status = 'active' AND starts_with(fingerprint, {prefix}) AND NOT (fingerprint = ANY({kept})) "
        "RETURNING id", *params.values)
    return Outcome(insights_scanned=len({i for p in patterns for i in p.insight_ids}), insights_affected=len(cited),
                   candidates_created=created,
                   result={"rules_written": len(fingerprints), "rules_retired": len(retired), "rules": rules[:50]})
