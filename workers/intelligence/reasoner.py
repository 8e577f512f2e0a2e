"""Answering a question about the workspace from the facts the API gathered for it.

The API resolves the entities a question names (``resolve_question_terms``), collects their
attributes, insights, notes, open tasks and relationships into ``AskFacts``, and hands them to a
``Reasoner``. The default ``SummaryReasoner`` writes a readable summary of exactly those facts:
it never states anything that is not in them, and when nothing matched it says so, naming what
it looked for. It is deterministic.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Final, Protocol

from workers.intelligence.question import QuestionTerms, resolve_question_terms
from workers.intelligence.recollection import asks_for_overview, quote, subject_of

__all__ = [
    "Answer",
    "AskFacts",
    "EntityFacts",
    "InsightFact",
    "NoteFact",
    "PassageFact",
    "QuestionTerms",
    "Reasoner",
    "RelationshipFact",
    "SignalUsed",
    "SummaryReasoner",
    "TaskFact",
    "resolve_question_terms",
]

MAX_INSIGHTS_PER_ENTITY: Final = 5
MAX_ENTITIES_DESCRIBED: Final = 10


@dataclass(frozen=True, slots=True)
class InsightFact:
    id: int
    content: str
    type: str
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class NoteFact:
    title: str
    excerpt: str = ""


@dataclass(frozen=True, slots=True)
class TaskFact:
    title: str
    due_date: date | datetime | None = None


@dataclass(frozen=True, slots=True)
class RelationshipFact:
    predicate: str
    other_name: str


@dataclass(frozen=True, slots=True)
class EntityFacts:
    """One resolved entity: ``type`` is ``PERSON``, ``COMPANY`` or a custom object's slug;
    ``attributes`` hold read-form values (strings, numbers, lists, composite dicts)."""

    id: int
    type: str
    name: str
    attributes: Mapping[str, Any] = field(default_factory=dict)
    insights: tuple[InsightFact, ...] = ()
    notes: tuple[NoteFact, ...] = ()
    tasks: tuple[TaskFact, ...] = ()
    relationships: tuple[RelationshipFact, ...] = ()


@dataclass(frozen=True, slots=True)
class PassageFact:
    """A remembered passage recall chose, best first: ``sentence`` is the part that answers,
    ``replaces`` the older passages on the same thing (a knowledge update)."""

    id: int
    source_type: str
    source_id: int
    content: str
    sentence: str
    created_at: datetime | None
    score: float
    entity_ids: tuple[int, ...] = ()
    replaces: tuple[PassageFact, ...] = ()
    artifact_id: int | None = None


@dataclass(frozen=True, slots=True)
class AskFacts:
    entities: tuple[EntityFacts, ...] = ()
    workspace_wide: bool = False
    total_entities_searched: int = 0
    passages: tuple[PassageFact, ...] = ()
    answerable: bool = False
    """Recall is confident that the best passages answer the question."""


@dataclass(frozen=True, slots=True)
class SignalUsed:
    insight_id: int
    entity_id: int
    content: str
    score: float
    type: str


@dataclass(frozen=True, slots=True)
class Answer:
    answer: str
    confidence: float
    signals_used: tuple[SignalUsed, ...] = ()
    passages_cited: tuple[PassageFact, ...] = ()


class Reasoner(Protocol):
    """Answers ``question`` from ``facts`` only."""

    async def answer(self, question: str, facts: AskFacts) -> Answer: ...


def render_value(value: Any) -> str:
    """A read-form attribute value as text: lists joined, composite values by their display
    part (``full_name``, ``url``, a location's parts)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return f"{value:,}" if isinstance(value, int) else f"{value:g}"
    if isinstance(value, list | tuple):
        return ", ".join(part for v in value if (part := render_value(v)))
    if isinstance(value, Mapping):
        for key in ("full_name", "url", "address", "name", "email_address", "value"):
            if isinstance(value.get(key), str) and value[key]:
                return str(value[key])
        if "amount" in value:
            return f"{render_value(value['amount'])} {value.get('currency_code', '')}".strip()
        return ", ".join(render_value(v) for k, v in value.items() if render_value(v) and k not in ("platform",))
    return " ".join(str(value).split())


def _when(value: date | datetime | None) -> str:
    if value is None:
        return ""
    return value.date().isoformat() if isinstance(value, datetime) else value.isoformat()


def _label(slug: str) -> str:
    return slug.replace("_", " ")


def score_insight(insight: InsightFact, terms: QuestionTerms, rank: int) -> float:
    """How relevant an insight is to the question: keyword and name hits, then recency (rank 0
    is the newest). In (0, 1]."""
    text = insight.content.casefold()
    hits = sum(1 for word in (*terms.keywords, *(n.casefold() for n in terms.names)) if word.casefold() in text)
    hits += sum(1 for word in terms.keywords if word.replace("_", " ") in insight.type.replace("_", " "))
    return round(min(1.0, max(0.1, 0.5 + 0.15 * hits - 0.05 * rank)), 2)


def _recent(insights: tuple[InsightFact, ...]) -> list[InsightFact]:
    return sorted(insights, key=lambda i: (i.created_at is not None, i.created_at or datetime.min, i.id), reverse=True)


def describe_entity(entity: EntityFacts, terms: QuestionTerms) -> tuple[str, list[SignalUsed]]:
    """A paragraph on one entity, and the insights it cites."""
    kind = {"PERSON": "person", "COMPANY": "company"}.get(entity.type, entity.type)
    lines = [f"{entity.name} ({kind})"]
    details = [f"{_label(slug)}: {text}" for slug, value in entity.attributes.items()
               if slug != "name" and (text := render_value(value))]
    if details:
        lines.append("  " + "; ".join(details) + ".")
    for relationship in entity.relationships:
        lines.append(f"  {relationship.predicate.replace('_', ' ')}: {relationship.other_name}.")
    used: list[SignalUsed] = []
    ranked = _recent(entity.insights)
    scored = sorted(((score_insight(i, terms, rank), rank, i) for rank, i in enumerate(ranked)),
                    key=lambda item: (-item[0], item[1]))[:MAX_INSIGHTS_PER_ENTITY]
    if scored:
        lines.append(f"  Insights ({len(entity.insights)} recorded, {len(scored)} shown):")
        for score, _, insight in scored:
            when = _when(insight.created_at)
            lines.append(f"  - {insight.type.replace('_', ' ')}{f' ({when})' if when else ''}: {insight.content}")
            used.append(SignalUsed(insight.id, entity.id, insight.content, score, insight.type))
    else:
        lines.append("  No insights recorded.")
    if entity.tasks:
        tasks = "; ".join(f"{t.title}{f' (due {_when(t.due_date)})' if t.due_date else ''}" for t in entity.tasks)
        lines.append(f"  Open tasks: {tasks}.")
    for note in entity.notes:
        excerpt = " ".join(note.excerpt.split())
        lines.append(f"  Note \"{note.title}\"{f': {excerpt}' if excerpt else ''}")
    return "\n".join(lines), used


def summarize_facts(question: str, facts: AskFacts) -> Answer:
    """The default answer (see the module docstring). Confidence says how much was found: 0
    for nothing, higher with more entities and insights, never above 0.9."""
    terms = resolve_question_terms(question)
    if not facts.entities:
        searched = f" (searched {facts.total_entities_searched:,} records)" if facts.total_entities_searched else ""
        looked_for = "anything that matches the question" if terms.is_empty else terms.describe()
        return Answer(f"Nothing in this workspace matches {looked_for}{searched}. This answer only uses the "
                      "records, insights, notes and tasks stored here, so there is nothing to report.", 0.0)
    shown = facts.entities[:MAX_ENTITIES_DESCRIBED]
    paragraphs: list[str] = []
    used: list[SignalUsed] = []
    for entity in shown:
        text, cited = describe_entity(entity, terms)
        paragraphs.append(text)
        used.extend(cited)
    count = len(facts.entities)
    noun = "record" if count == 1 else "records"
    if facts.workspace_wide:
        by_type: dict[str, int] = {}
        for entity in facts.entities:
            for insight in entity.insights:
                by_type[insight.type] = by_type.get(insight.type, 0) + 1
        ordered = sorted(by_type.items(), key=lambda kv: (-kv[1], kv[0]))
        mix = ", ".join(f"{n} {kind.replace('_', ' ')}" for kind, n in ordered)
        head = f"Across the workspace, {count} {noun} relate to this question" + (f" ({mix} insights)." if mix else ".")
    else:
        head = f"Here is what this workspace holds on {', '.join(e.name for e in shown)}."
    if count > len(shown):
        head += f" The {len(shown)} most relevant of {count} are described."
    insight_total = sum(len(e.insights) for e in facts.entities)
    confidence = round(min(0.9, 0.35 + 0.1 * min(count, 3) + 0.05 * min(insight_total, 5)), 2)
    return Answer(head + "\n\n" + "\n\n".join(paragraphs), confidence, tuple(used))


SECOND_SENTENCE_AT: Final = 0.9
"""A second passage joins the answer when it scores at least this share of the best one."""


def _near_duplicate(a: str, b: str) -> bool:
    x, y = set(a.casefold().split()), set(b.casefold().split())
    return bool(x and y) and len(x & y) / min(len(x), len(y)) >= 0.8


def answer_from_memory(question: str, facts: AskFacts) -> Answer:
    """The default answer. When recall is confident, the best remembered sentences, condensed to
    the one (or two) that answer, each cited; when a newer fact replaced an older one, the newer
    leads and the answer says what it replaced and when. When it is not, a general question about
    a known entity gets ``summarize_facts``; anything else gets a plain "no information" naming
    the question's subject. Nothing is stated that is not in the facts."""
    if not facts.answerable or not facts.passages:
        summary = summarize_facts(question, facts)
        if facts.entities and asks_for_overview(question):
            return summary
        # The specific point is unknown; what is known about the entities (or that nothing
        # matched) follows, so the reader sees what was looked at.
        return Answer(f"I have no information on {subject_of(question)}. {summary.answer}",
                      0.0 if not facts.entities else round(summary.confidence / 2, 2), summary.signals_used)
    lead = facts.passages[0]
    chosen = [lead]
    for passage in facts.passages[1:3]:
        if passage.score >= SECOND_SENTENCE_AT * lead.score and passage.source_id != lead.source_id \
                and not _near_duplicate(passage.sentence, lead.sentence) and not passage.replaces:
            chosen.append(passage)
            break
    parts = [quote(lead.sentence, lead.created_at)]
    for old in lead.replaces[:2]:
        when = f" ({old.created_at.date().isoformat()})" if old.created_at else ""
        parts.append(f"That changed what was noted before{when}: \"{' '.join(old.sentence.split())}\"")
    parts += [quote(p.sentence, p.created_at) for p in chosen[1:]]
    confidence = round(min(0.95, max(0.3, lead.score)), 2)
    return Answer(" ".join(parts), confidence, passages_cited=tuple(chosen))


class SummaryReasoner:
    """The default reasoner: ``answer_from_memory`` behind the ``Reasoner`` interface."""

    async def answer(self, question: str, facts: AskFacts) -> Answer:
        return answer_from_memory(question, facts)
