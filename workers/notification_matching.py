"""What a notification evaluation decides, without I/O: which sources (insights, passages of an
artifact, record changes, notes) each custom rule matches, which make context alerts of the
enabled types, and the feed items' content. ``workers/notification_jobs.py`` gathers the sources
and writes the items.

A rule matches a source by its words (a concept's paraphrase patterns or all its key words,
``rule_interpreter.match_text``) or by meaning: the sentence's embedding within
``SIMILARITY_THRESHOLD`` of the rule's phrase. Every source belongs to a group (an artifact, a
record change, a note): a rule raises at most one feed item per group, citing every source of it
that matched."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

from tessera.wire import JsonObject, JsonValue
from workers.intelligence.rule_interpreter import match_text, needs_words, object_type_ok, wants_type

SIMILARITY_THRESHOLD: Final = 0.45
"""Cosine similarity (all-MiniLM-L6-v2) from which a sentence counts as saying what the rule
asks. Measured on the acceptance examples: paraphrases the patterns do not know score 0.37-0.50
(``take their business elsewhere`` 0.37 is below it and needs its pattern), unrelated sentences of
the same sales texts 0.0-0.23."""
STAGE_LIKE: Final = re.compile(r"stage|status|phase|pipeline|lifecycle|state", re.IGNORECASE)
"""An attribute whose slug says it tracks a stage (``stage``, ``deal_stage``, ``status``...)."""
MAX_CITED: Final = 20
"""At most this many sources are cited in one feed item (the rest are counted)."""


@dataclass(frozen=True, slots=True)
class Source:
    """One thing the workspace was told or that changed, as a rule or an alert reads it."""

    key: str
    """Unique per workspace: ``insight:<id>``, ``passage:<artifact>:<n>``, ``change:<event>:<field>``,
    ``note:<id>``."""
    group: str
    """The unit a rule raises one item for: ``artifact:<id>``, ``change:<event>:<field>``, ``note:<id>``."""
    kind: str
    """``insight``, ``passage``, ``change`` or ``note``."""
    text: str
    cite: JsonObject
    """The ``important_items`` (or ``entity_changes`` for a change) entry citing it."""
    insight_type: str | None = None
    object_slugs: tuple[str, ...] = ()
    entity_text: str = ""
    """The attributes of the records it is about, as text (an industry condition reads them)."""
    stage_like: bool = False
    at: datetime | None = None
    """When it was made (a scheduled rule reads what came after its last evaluation)."""


@dataclass
class Match:
    group: str
    cited: list[JsonObject] = field(default_factory=list)
    changes: list[JsonObject] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)


Similarity = Callable[[str], float]
"""The cosine similarity of a text to the rule's phrase (the worker's embedder)."""


def change_is_stage_like(field_name: str) -> bool:
    return bool(STAGE_LIKE.search(field_name))


def _reason(matcher: Mapping[str, object], source: Source, similarity: Similarity | None) -> str | None:
    if source.kind == "change":
        if matcher.get("stage_change") and source.stage_like:
            return "a stage or status changed"
        return match_text(matcher, source.text) if needs_words(matcher) else None
    if source.kind == "insight":
        if source.insight_type is None or not wants_type(matcher, source.insight_type):
            return None
        if not needs_words(matcher):
            return f"an insight of type {source.insight_type}" if matcher.get("insight_types") else None
    elif matcher.get("insight_types") or not needs_words(matcher):
        return None  # a rule about insight types (or stage changes only) reads no raw text
    found = match_text(matcher, source.text)
    if found is not None:
        return found
    if similarity is not None:
        score = similarity(source.text)
        if score >= SIMILARITY_THRESHOLD:
            return f"close in meaning to the rule (similarity {score:.2f})"
    return None


def _industry_ok(matcher: Mapping[str, object], source: Source) -> bool:
    industries = matcher.get("industries")
    if not isinstance(industries, list) or not industries or not source.entity_text:
        return True
    text = source.entity_text.casefold()
    return any(str(i).casefold() in text for i in industries)


def match_rule(matcher: Mapping[str, object], sources: Sequence[Source],
               similarity: Similarity | None = None) -> list[Match]:
    """The groups of ``sources`` the rule matches, in the order of their first source, each with
    the sources it matched (cited with the reason). Pure but for ``similarity``."""
    found: dict[str, Match] = {}
    seen_text: set[tuple[str, str]] = set()
    for source in sources:
        if not object_type_ok(matcher, source.object_slugs) or not _industry_ok(matcher, source):
            continue
        # A passage saying what an insight of the same artifact says is cited once, as the insight.
        marker = (source.group, " ".join(source.text.split()).casefold())
        if source.kind == "passage" and marker in seen_text:
            continue
        reason = _reason(matcher, source, similarity)
        if reason is None:
            continue
        seen_text.add(marker)
        match = found.setdefault(source.group, Match(source.group))
        match.keys.append(source.key)
        entry = {**source.cite, "reason": reason}
        (match.changes if source.kind == "change" else match.cited).append(entry)
    return list(found.values())


def alert_sources(enabled_types: Sequence[str], sources: Sequence[Source]) -> list[Source]:
    """The sources that make context alerts: insights of an enabled type, stage changes when
    ``stage_change`` is enabled, other attribute changes when ``entity_change`` is."""
    wanted = set(enabled_types)
    def wanted_change(source: Source) -> bool:
        return ("stage_change" if source.stage_like else "entity_change") in wanted

    return [s for s in sources if (s.kind == "insight" and s.insight_type in wanted)
            or (s.kind == "change" and wanted_change(s))]


def _cut(entries: list[JsonObject]) -> list[JsonValue]:
    return list[JsonValue](entries[:MAX_CITED])


def rule_content(rule_id: int, rule_name: str, match: Match) -> JsonObject:
    """A custom rule's feed item: what matched, each entry citing its source."""
    total = len(match.cited) + len(match.changes)
    return {"title": rule_name, "summary": f"{rule_name}: {total} matching item{'s' if total != 1 else ''}",
            "rule_id": str(rule_id), "rule_name": rule_name, "source": match.group,
            "important_items": _cut(match.cited), "entity_changes": _cut(match.changes),
            "omitted": max(0, len(match.cited) - MAX_CITED) + max(0, len(match.changes) - MAX_CITED)}


def alert_content(sources: Sequence[Source]) -> JsonObject:
    """A context-alert batch: the new insights of enabled types and the record changes."""
    items = [s.cite for s in sources if s.kind != "change"]
    changes = [s.cite for s in sources if s.kind == "change"]
    by_type: dict[str, int] = {}
    for s in sources:
        kind = s.insight_type if s.kind == "insight" and s.insight_type else (
            "stage_change" if s.stage_like else "entity_change")
        by_type[kind] = by_type.get(kind, 0) + 1
    summary = ", ".join(f"{n} {kind.replace('_', ' ')}{'s' if n != 1 else ''}" for kind, n in sorted(by_type.items()))
    return {"title": "New context alerts", "summary": summary, "counts": dict[str, JsonValue](by_type),
            "important_items": _cut(items), "entity_changes": _cut(changes),
            "omitted": max(0, len(items) - MAX_CITED) + max(0, len(changes) - MAX_CITED)}


def digest_content(insights: Sequence[Source], changes: Sequence[Source], hours: float) -> JsonObject:
    """The periodic digest: the most confident insights and the stage changes of the period."""
    ranked = sorted(insights, key=lambda s: -float(str(s.cite.get("confidence") or 0)))
    by_type: dict[str, int] = {}
    for s in insights:
        by_type[s.insight_type or "insight"] = by_type.get(s.insight_type or "insight", 0) + 1
    stage = [c for c in changes if c.stage_like]
    return {"title": f"Digest of the last {hours:g} hours",
            "summary": f"{len(insights)} new insight{'s' if len(insights) != 1 else ''}, "
                       f"{len(stage)} stage change{'s' if len(stage) != 1 else ''}",
            "counts": dict[str, JsonValue](by_type), "important_items": _cut([s.cite for s in ranked]),
            "entity_changes": _cut([s.cite for s in stage])}
