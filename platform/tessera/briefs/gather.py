"""What an entity brief is written from, read through the modules that own it (records,
relationships, insights, notes, tasks, timeline, memory). Every read is bounded: the newest few of
each kind, so a record with thousands of events compiles as fast as one with ten."""

from __future__ import annotations

from typing import Final

from schema_registry.definitions import ObjectDefinition
from schema_registry.workspace import WorkspaceSchema
from tessera.briefs.compose import (
    AttributeLine,
    BriefInputs,
    InsightLine,
    MentionLine,
    NoteLine,
    RelatedRecord,
    TaskLine,
    TimelineLine,
)
from tessera.context import memory
from tessera.context import repository as context_repository
from tessera.db.tenant import Tenant
from tessera.notes import repository as notes_repository
from tessera.records.repository import RecordRow, get_records, relationships_of
from tessera.records.values import primary_value, read_attributes
from tessera.tasks import repository as tasks_repository
from tessera.timeline.repository import TimelineEvent
from tessera.timeline.service import record_timeline
from tessera.wire import JsonValue

MAX_RELATIONSHIPS: Final = 20
MAX_NOTES: Final = 5
MAX_TASKS: Final = 5
MAX_TIMELINE_READ: Final = 50
"""Newest events read (then bursts of updates folded); ``MAX_TIMELINE`` of them are shown."""
MAX_TIMELINE: Final = 10
MAX_MENTIONS: Final = 5


def describe_event(event: TimelineEvent) -> str:
    """``record updated: name, stage``; ``note created: Call recap``; ``task completed: Send SOC 2``."""
    what = f"{event.resource_type} {event.event_type}"
    changes = event.payload.get("field_changes")
    if event.resource_type in ("record", "entity") and isinstance(changes, list):
        names = [str(c["field_name"]) for c in changes if isinstance(c, dict) and "field_name" in c]
        folded = f" ({len(event.children) + 1} updates)" if event.children else ""
        return f"{what}{folded}: {', '.join(dict.fromkeys(names))}" if names else what + folded
    item = event.payload.get(event.resource_type)
    title = item.get("title") if isinstance(item, dict) else None
    return f"{what}: {title}" if isinstance(title, str) and title else what


def _attributes(obj: ObjectDefinition, row: RecordRow) -> tuple[AttributeLine, ...]:
    values = read_attributes(obj, row.data)
    return tuple(AttributeLine(a.name, a.slug, values[a.slug]) for a in obj.attributes if a.slug in values)


async def _relationships(tenant: Tenant, schema: WorkspaceSchema, record_id: int) -> tuple[RelatedRecord, ...]:
    links = await relationships_of(tenant, record_id, limit=MAX_RELATIONSHIPS)
    others = {r.id: r for r in await get_records(
        tenant, [link.entity_2_id if link.entity_1_id == record_id else link.entity_1_id for link in links])}
    out = []
    for link in links:
        forward = link.entity_1_id == record_id
        other = others.get(link.entity_2_id if forward else link.entity_1_id)
        other_obj = schema.object_by_id(other.object_id) if other is not None else None
        definition = schema.relationship(link.definition_id)
        if other is None or other_obj is None:
            continue
        predicate = ""
        if definition is not None:
            predicate = definition.entity_1_to_2_predicate if forward else definition.entity_2_to_1_predicate
        out.append(RelatedRecord(link.id, predicate or "related to", other.id,
                                 primary_value(other_obj, other.data) or f"record {other.id}", other_obj.slug))
    return tuple(out)


async def gather_brief(tenant: Tenant, schema: WorkspaceSchema, obj: ObjectDefinition, row: RecordRow
                       ) -> BriefInputs:
    """The inputs of ``row``'s brief (the newest few of each kind)."""
    insights = await context_repository.insights_on(tenant, row.id)
    sources = await context_repository.insight_artifacts(tenant, [i.id for i in insights])
    notes = await notes_repository.list_notes(tenant, record_id=row.id, include_archived=False, limit=MAX_NOTES)
    tasks = await tasks_repository.open_tasks_of(tenant, row.id, limit=MAX_TASKS)
    page = await record_timeline(tenant, row.id, limit=MAX_TIMELINE_READ, before=None, aggregate=True,
                                 reads_notes=False)
    mentions = await memory.items_about(tenant, [row.id], limit=MAX_MENTIONS, source_type="artifact")
    return BriefInputs(
        record_id=row.id, name=primary_value(obj, row.data) or f"{obj.name} {row.id}", object_name=obj.name,
        object_slug=obj.slug, attributes=_attributes(obj, row),
        relationships=await _relationships(tenant, schema, row.id),
        insights=tuple(InsightLine(i.id, i.type, i.content, float(i.confidence), i.created_at, sources.get(i.id))
                       for i in insights),
        notes=tuple(NoteLine(n.id, n.title, n.content[:300], n.updated_at) for n in notes),
        tasks=tuple(TaskLine(t.id, t.title, t.priority, t.due_date) for t in tasks[:MAX_TASKS]),
        timeline=tuple(TimelineLine(e.id, e.created_at, describe_event(e)) for e in page.events[:MAX_TIMELINE]),
        mentions=tuple(MentionLine(m.source_id, m.content, m.created_at) for m in mentions))


def evidence_records(evidence: tuple[JsonValue, ...]) -> list[int]:
    """The record ids an evidence list names (``record_id``), in order, once each."""
    out: list[int] = []
    for item in evidence:
        raw = item.get("record_id") if isinstance(item, dict) else None
        if isinstance(raw, (str, int)) and str(raw).isdigit() and int(raw) not in out:
            out.append(int(raw))
    return out
