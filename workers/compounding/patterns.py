"""Pattern detection: what recurs across records.

- **theme**: the same key phrase (two or three adjacent content words, normalized: see
  ``phrases.key_phrases``) in insights of one type about at least ``min_support`` distinct
  records: "security review" raised as an objection by 12 companies. Of phrases covering
  (nearly) the same insights only the best supported, shortest one is kept.
- **co_occurrence**: two themes found on the same records (at least ``min_support`` of them):
  "security review" objections where "SOC 2 report" next steps were also noted.
- **stage_transition**: the same change of a stage- or status-like attribute (its slug names a
  stage, status, phase, lifecycle or pipeline) on at least ``min_support`` records, read from the
  timeline's ``field_changes``.

Each pattern carries its support (distinct records), the records and insights behind it and up
to ``MAX_EXAMPLES`` examples (one per record first); it is stored under a fingerprint of what it
is, so a rerun updates it, and a pattern no longer found is retired.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import orjson

from tessera.db.sql import Params
from tessera.db.tenant import Tenant
from tessera.wire import JsonObject
from workers.compounding.phrases import content_runs, phrases_of, widest_in
from workers.compounding.runs import Outcome, RunContext

MAX_EXAMPLES: Final = 5
MAX_THEMES: Final = 200
MAX_CANDIDATES: Final = 2_000
COVERED: Final = 0.8
"""A phrase whose insights are at least this share inside those of a better theme names the same theme."""
CO_OCCURRENCE_THEMES: Final = 50
MAX_CO_OCCURRENCES: Final = 100
STAGE_WORDS: Final = ("stage", "status", "phase", "lifecycle", "pipeline")
MAX_TRANSITIONS: Final = 100_000
TYPE_ORDER: Final = {t: n for n, t in enumerate(
    ("objection", "risk", "buying_signal", "budget", "timeline", "sentiment", "next_step"))}
"""Which theme of a co-occurring pair names it first (what is raised before what is done about it)."""


@dataclass(frozen=True, slots=True)
class InsightRow:
    id: int
    type: str
    content: str
    confidence: float
    entity_ids: tuple[int, ...]
    artifact_id: int | None


@dataclass(frozen=True, slots=True)
class Pattern:
    kind: str
    insight_type: str | None
    key: str
    label: str
    support: int
    entity_ids: tuple[int, ...]
    insight_ids: tuple[int, ...]
    examples: tuple[JsonObject, ...]
    confidence: float

    @property
    def fingerprint(self) -> str:
        digest = hashlib.sha256(f"{self.kind}|{self.insight_type or ''}|{self.key}".encode()).hexdigest()
        return f"{self.kind}:{digest[:32]}"


def _examples(insights: Sequence[InsightRow]) -> tuple[JsonObject, ...]:
    """Up to ``MAX_EXAMPLES`` quotes, one per record first, oldest insight first."""
    chosen: list[JsonObject] = []
    seen: set[int] = set()
    for insight in sorted(insights, key=lambda i: i.id):
        record = next((e for e in insight.entity_ids if e not in seen), None)
        if record is None:
            continue
        seen.add(record)
        chosen.append({"insight_id": str(insight.id), "record_id": str(record), "quote": insight.content[:300],
                       **({"artifact_id": str(insight.artifact_id)} if insight.artifact_id is not None else {})})
        if len(chosen) == MAX_EXAMPLES:
            break
    return tuple(chosen)


def theme_confidence(mean_confidence: float, support: int, min_support: int) -> float:
    """How much a theme can be trusted: its insights' mean confidence, discounted while its
    support is below twice the minimum."""
    return round(max(0.0, min(0.99, mean_confidence * min(1.0, 0.5 + support / (4 * min_support)))), 3)


def find_themes(insights: Sequence[InsightRow], *, min_support: int) -> list[Pattern]:
    """Themes among ``insights``: best supported first (then by key, for a stable order)."""
    members: dict[tuple[str, str], list[int]] = {}
    runs = [content_runs(i.content) if i.entity_ids else [] for i in insights]
    for index, insight in enumerate(insights):
        if not insight.entity_ids:
            continue
        for key in phrases_of(runs[index]):
            members.setdefault((insight.type, key), []).append(index)
    supported = []
    for (kind, key), found in members.items():
        entities = {e for i in found for e in insights[i].entity_ids}
        if len(entities) >= min_support:
            supported.append((len(entities), len(found), kind, key, entities))
    # Best supported first; of phrases naming the same insights, one without digits, then the shortest.
    supported.sort(key=lambda s: (-s[0], -s[1], any(c.isdigit() for c in s[3]), len(s[3].split()), s[3], s[2]))
    accepted: list[tuple[str, set[int]]] = []
    themes: list[Pattern] = []
    for support, _, kind, key, entities in supported[:MAX_CANDIDATES]:
        found_set = set(members[(kind, key)])
        if any(k == kind and len(found_set & other) >= COVERED * len(found_set) for k, other in accepted):
            continue
        accepted.append((kind, found_set))
        rows = [insights[i] for i in sorted(found_set)]
        mean = sum(r.confidence for r in rows) / len(rows)
        label = widest_in(key, [runs[i] for i in sorted(found_set)])
        themes.append(Pattern("theme", kind, key, label, support, tuple(sorted(entities)),
                              tuple(sorted(r.id for r in rows)), _examples(rows),
                              theme_confidence(mean, support, min_support)))
        if len(themes) == MAX_THEMES:
            break
    return themes


def find_co_occurrences(themes: Sequence[Pattern], *, min_support: int) -> list[Pattern]:
    """Pairs of themes (of the best supported ``CO_OCCURRENCE_THEMES``) noted on the same
    records, when they are not mostly the same insights."""
    top = list(themes[:CO_OCCURRENCE_THEMES])
    out = []
    for a_index, a in enumerate(top):
        for b in top[a_index + 1:]:
            shared = set(a.entity_ids) & set(b.entity_ids)
            if len(shared) < min_support:
                continue
            same_insights = set(a.insight_ids) & set(b.insight_ids)
            if len(same_insights) * 2 >= min(len(a.insight_ids), len(b.insight_ids)):
                continue
            first, second = sorted((a, b), key=lambda p: (TYPE_ORDER.get(p.insight_type or "", 99), p.key))
            union = set(a.entity_ids) | set(b.entity_ids)
            examples = tuple([e for e in first.examples if int(str(e["record_id"])) in shared][:2]
                             + [e for e in second.examples if int(str(e["record_id"])) in shared][:2])
            out.append(Pattern(
                "co_occurrence", None, f"{first.insight_type}:{first.key}+{second.insight_type}:{second.key}",
                f"{first.label} ({first.insight_type}) with {second.label} ({second.insight_type})", len(shared),
                tuple(sorted(shared)), tuple(sorted(set(first.insight_ids) | set(second.insight_ids))), examples,
                round(min(0.95, max(0.05, len(shared) / len(union))), 3)))
    out.sort(key=lambda p: (-p.support, p.key))
    return out[:MAX_CO_OCCURRENCES]


def display(value: Any) -> str:
    """An attribute value as a person reads it (a select option's title, a list joined)."""
    if isinstance(value, dict):
        for name in ("title", "name", "option", "value"):
            if isinstance(value.get(name), str | int | float):
                return str(value[name])
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
    if isinstance(value, list):
        return ", ".join(display(v) for v in value)
    return "" if value is None else str(value)


def find_transitions(changes: Sequence[tuple[int, str, Any, Any]], *, min_support: int) -> list[Pattern]:
    """Stage transitions among ``(record_id, attribute slug, old value, new value)`` changes."""
    records: dict[tuple[str, str, str], set[int]] = {}
    for record_id, slug, old, new in changes:
        before, after = display(old), display(new)
        if before and after and before != after:
            records.setdefault((slug, before, after), set()).add(record_id)
    out = []
    for (slug, before, after), found in records.items():
        if len(found) >= min_support:
            examples = tuple[JsonObject, ...]({"record_id": str(r), "quote": f"{slug}: {before} -> {after}"}
                                              for r in sorted(found)[:MAX_EXAMPLES])
            out.append(Pattern("stage_transition", None, f"{slug}:{before}->{after}",
                               f"{slug} from {before} to {after}", len(found), tuple(sorted(found)), (), examples,
                               round(min(0.95, 0.5 + len(found) / (4 * min_support)), 3)))
    out.sort(key=lambda p: (-p.support, p.key))
    return out[:MAX_THEMES]


async def read_insights(tenant: Tenant, limit: int) -> list[InsightRow]:
    params = Params()
    rows = await tenant.fetch(
        "SELECT id, type, content, confidence, entity_ids, artifact_id FROM insights WHERE workspace_id = $1 "
        f"AND merged_into IS NULL ORDER BY created_at DESC, id DESC LIMIT {params.add(limit)}", *params.values)
    return [InsightRow(r["id"], r["type"], r["content"], r["confidence"], tuple(r["entity_ids"]), r["artifact_id"])
            for r in rows]


async def read_stage_changes(tenant: Tenant) -> list[tuple[int, str, Any, Any]]:
    pattern = "(" + "|".join(STAGE_WORDS) + ")"
    params = Params()
    rows = await tenant.fetch(
        "SELECT t.record_id, c->>'field_name' AS slug, c->'old_value' AS old, c->'new_value' AS new "
        "FROM timeline_events t CROSS JOIN LATERAL jsonb_array_elements(CASE WHEN jsonb_typeof("
        "t.payload->'field_changes') = 'array' THEN t.payload->'field_changes' ELSE '[]'::jsonb END) AS c "
        f"WHERE t.workspace_id = $1 AND t.event_type = 'updated' AND c->>'field_name' ~ {params.add(pattern)} "
        f"LIMIT {params.add(MAX_TRANSITIONS)}", *params.values)

    def decode(value: Any) -> Any:
        return orjson.loads(value) if isinstance(value, str) else value

    return [(r["record_id"], r["slug"], decode(r["old"]), decode(r["new"])) for r in rows]


async def store_patterns(tenant: Tenant, found: Sequence[Pattern], now: Any) -> tuple[int, int]:
    """Upsert ``found`` by fingerprint and retire the active patterns not among them. Returns
    (patterns created, patterns retired)."""
    created = 0
    for p in found:
        params = Params()
        values = [params.add(v) for v in (p.fingerprint, p.kind, p.insight_type, p.key, p.label, p.support,
                                          list(p.entity_ids), list(p.insight_ids))]
        values.append(params.add(orjson.dumps(list(p.examples)).decode(), "jsonb"))
        values.append(params.add(p.confidence))
        at = params.add(now)
        row = await tenant.fetch_one(
            "INSERT INTO patterns (workspace_id, fingerprint, kind, insight_type, key, label, support, entity_ids, "
            f"insight_ids, examples, confidence, status, created_at, updated_at) VALUES ($1, {', '.join(values)}, "
            f"'active', {at}, {at}) ON CONFLICT (workspace_id, fingerprint) DO UPDATE SET "
            "label = EXCLUDED.label, support = EXCLUDED.support, entity_ids = EXCLUDED.entity_ids, "
            "insight_ids = EXCLUDED.insight_ids, examples = EXCLUDED.examples, confidence = EXCLUDED.confidence, "
            "status = 'active', updated_at = EXCLUDED.updated_at RETURNING (xmax = 0) AS inserted", *params.values)
        created += int(bool(row["inserted"]))
    params = Params()
    kept = params.add([p.fingerprint for p in found], "text[]")
    retired = await tenant.fetch(
        f"UPDATE patterns SET status = 'retired', updated_at = {params.add(now)} WHERE workspace_id = $1 "
        f"AND status = 'active' AND NOT (fingerprint = ANY({kept})) RETURNING id", *params.values)
    return created, len(retired)


async def detect_patterns(run: RunContext) -> Outcome:
    """The pattern detection job's work, in ``run``'s transaction."""
    min_support = run.settings.compounding_pattern_min_support
    insights = await read_insights(run.tenant, run.settings.compounding_max_insights)
    themes = find_themes(insights, min_support=min_support)
    found = [*themes, *find_co_occurrences(themes, min_support=min_support),
             *find_transitions(await read_stage_changes(run.tenant), min_support=min_support)]
    created, retired = await store_patterns(run.tenant, found, run.now)
    touched = {i for p in found for i in p.insight_ids}
    return Outcome(insights_scanned=len(insights), insights_affected=len(touched), candidates_created=created,
                   result={"patterns_found": len(found), "patterns_retired": retired,
                           "patterns": [{"kind": p.kind, "insight_type": p.insight_type, "label": p.label,
                                         "support": p.support, "confidence": p.confidence} for p in found[:50]]})
