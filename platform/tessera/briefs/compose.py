"""What an entity brief and a workspace playbook say, from their gathered inputs. Every statement
cites its source (``[record 1]``, ``[relationship 2]``, ``[insight 3]``, ``[artifact 4]``,
``[note 5]``, ``[task 6]``, ``[timeline 7]``, ``[rule 8]``). Pure functions, no I/O."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import orjson

from tessera.briefs.document import Document, Section, one_line
from tessera.compounding.rules import PlaybookRule
from tessera.wire import JsonValue


@dataclass(frozen=True, slots=True)
class AttributeLine:
    name: str
    slug: str
    value: JsonValue


@dataclass(frozen=True, slots=True)
class RelatedRecord:
    relationship_id: int
    predicate: str
    record_id: int
    name: str
    object_slug: str


@dataclass(frozen=True, slots=True)
class InsightLine:
    id: int
    type: str
    content: str
    confidence: float
    created_at: datetime
    artifact_id: int | None


@dataclass(frozen=True, slots=True)
class NoteLine:
    id: int
    title: str
    excerpt: str
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class TaskLine:
    id: int
    title: str
    priority: str
    due_date: datetime | None


@dataclass(frozen=True, slots=True)
class TimelineLine:
    id: int
    created_at: datetime
    text: str


@dataclass(frozen=True, slots=True)
class MentionLine:
    artifact_id: int
    excerpt: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class BriefInputs:
    """Everything an entity brief is written from (each list already bounded, newest first)."""

    record_id: int
    name: str
    object_name: str
    object_slug: str
    attributes: tuple[AttributeLine, ...]
    relationships: tuple[RelatedRecord, ...]
    insights: tuple[InsightLine, ...]
    notes: tuple[NoteLine, ...]
    tasks: tuple[TaskLine, ...]
    timeline: tuple[TimelineLine, ...]
    mentions: tuple[MentionLine, ...]


def day(value: datetime) -> str:
    return value.date().isoformat()


def format_value(value: JsonValue) -> str:
    """An attribute's read form as text: lists joined, currency as ``1200 USD``, locations by
    their parts, anything else as JSON."""
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(format_value(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (str, int, float)):
        return str(value)
    if "amount" in value and "currency_code" in value:
        return f"{value['amount']} {value['currency_code']}"
    parts = [str(value[k]) for k in ("line_1", "city", "region", "postcode", "country_code") if value.get(k)]
    return ", ".join(parts) if parts else orjson.dumps(value).decode()


def _summary(inputs: BriefInputs) -> Section:
    cite = f"[record {inputs.record_id}]"
    lines = [f"{inputs.name} is a {inputs.object_name.lower()} record (`{inputs.object_slug}`) {cite}."]
    facts = [f"{a.name}: {one_line(format_value(a.value), 120)}" for a in inputs.attributes
             if a.slug not in ("name",) and format_value(a.value)][:4]
    if facts:
        lines.append("Key facts: " + "; ".join(facts) + f" {cite}.")
    if inputs.relationships:
        named = ", ".join(f"{r.name} ({r.predicate}) [relationship {r.relationship_id}]"
                          for r in inputs.relationships[:3])
        lines.append(f"Connected to {named}.")
    if inputs.insights:
        latest = inputs.insights[0]
        lines.append(f"Latest signal ({latest.type.replace('_', ' ')}, {day(latest.created_at)}): "
                     f"{one_line(latest.content, 200)} [insight {latest.id}].")
    if inputs.tasks:
        lines.append(f"{len(inputs.tasks)} open task(s), next: {inputs.tasks[0].title} [task {inputs.tasks[0].id}].")
    return Section("summary", "Summary", tuple(lines))


def compose_brief(inputs: BriefInputs) -> Document:
    """The brief: a summary, then one section per kind of input that has any (empty ones are left
    out, so a new kind of context shows up in the history as an added section)."""
    cite = f"[record {inputs.record_id}]"
    sections = [_summary(inputs)]
    attributes = [f"- **{a.name}** (`{a.slug}`): {one_line(format_value(a.value), 300)} {cite}"
                  for a in inputs.attributes if format_value(a.value)]
    if attributes:
        sections.append(Section("attributes", "Attributes", tuple(attributes)))
    if inputs.relationships:
        sections.append(Section("relationships", "Relationships", tuple(
            f"- {r.predicate} **{r.name}** (`{r.object_slug}`, record {r.record_id}) [relationship {r.relationship_id}]"
            for r in inputs.relationships)))
    if inputs.insights:
        sections.append(Section("insights", "Recent insights", tuple(
            f"- **{i.type.replace('_', ' ')}** ({day(i.created_at)}, confidence {i.confidence:.2f}): "
            f"{one_line(i.content, 300)} [insight {i.id}]"
            + (f" (from [artifact {i.artifact_id}])" if i.artifact_id is not None else "")
            for i in inputs.insights)))
    if inputs.notes:
        sections.append(Section("notes", "Notes", tuple(
            f"- **{one_line(n.title, 120)}** ({day(n.updated_at)})"
            + (f": {one_line(n.excerpt, 300)}" if n.excerpt.strip() else "") + f" [note {n.id}]"
            for n in inputs.notes)))
    if inputs.tasks:
        sections.append(Section("tasks", "Open tasks", tuple(
            f"- {one_line(t.title, 200)}" + (f", due {day(t.due_date)}" if t.due_date else "")
            + (f", priority {t.priority}" if t.priority != "unspecified" else "") + f" [task {t.id}]"
            for t in inputs.tasks)))
    if inputs.mentions:
        sections.append(Section("mentions", "Mentioned in", tuple(
            f"- {day(m.created_at)}: \"{one_line(m.excerpt, 240)}\" [artifact {m.artifact_id}]"
            for m in inputs.mentions)))
    if inputs.timeline:
        sections.append(Section("timeline", "Timeline highlights", tuple(
            f"- {day(t.created_at)}: {one_line(t.text, 200)} [timeline {t.id}]" for t in inputs.timeline)))
    lead = f"_Entity brief: {inputs.object_name.lower()} {inputs.name} (context_id {inputs.record_id})._"
    return Document(inputs.name, lead, tuple(sections))


PLAYBOOK_SLUG = "playbook"
PLAYBOOK_TITLE = "Workspace playbook"


def compose_playbook(rules: Sequence[PlaybookRule]) -> Document:
    """The workspace playbook: every active rule as trigger, action, evidence, support and
    confidence, most confident first."""
    if not rules:
        return Document(PLAYBOOK_TITLE, "_No playbook rules yet: they appear as the compounding jobs learn them._",
                        ())
    sections = []
    for rule in rules:
        lines = [f"**When** {rule.trigger}, **then** {rule.action} [rule {rule.id}].", "",
                 f"- Support: {rule.support} · confidence {rule.confidence:.2f}"]
        for item in rule.evidence[:5]:
            lines.append("- Evidence: " + describe_evidence(item))
        sections.append(Section(f"rule-{rule.id}", one_line(rule.title, 120), tuple(lines)))
    lead = f"_What this workspace has learned works: {len(rules)} rule(s), most confident first._"
    return Document(PLAYBOOK_TITLE, lead, tuple(sections))


def describe_evidence(item: JsonValue) -> str:
    """An evidence item (``{"insight_id", "artifact_id", "record_id", "quote"}``) with its citations."""
    if not isinstance(item, dict):
        return one_line(str(item), 200)
    cites = [f"[{kind} {item[key]}]" for kind, key in (("insight", "insight_id"), ("artifact", "artifact_id"),
                                                      ("record", "record_id")) if item.get(key) is not None]
    quote = item.get("quote")
    text = f"\"{one_line(quote, 200)}\"" if isinstance(quote, str) and quote else ""
    return " ".join(p for p in (text, *cites) if p) or "(no source named)"
