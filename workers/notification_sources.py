"""What a notification evaluation reads: an artifact's passages and insights, the insights and
record changes since a moment, notes since a moment, as ``notification_matching.Source``s with
the records they are about. Every read is bounded (``MAX_SOURCES`` of each kind per run; the rest
waits for the next run, the cursors move only as far as what was read).

Insights are found by ``created_at`` (index ``ix_insights_recent``); timeline events and memory
items by id, whose high bits are the second they were made (``tessera.db.ids``), along their
primary keys."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Final

import asyncpg
import orjson

from schema_registry.workspace import WorkspaceSchema
from tessera.context.memory import sentence_spans
from tessera.db.id_order import FIRST_OLD_ID
from tessera.db.ids import EPOCH_S, compose_id
from tessera.db.sql import WORKSPACE, Params
from tessera.db.tenant import Tenant
from tessera.records.repository import get_records
from tessera.records.values import primary_value, read_attributes
from tessera.wire import JsonObject, JsonValue, iso
from workers.notification_matching import Source, change_is_stage_like

MAX_SOURCES: Final = 500
MAX_SENTENCES: Final = 400
"""Sentences of one artifact read by rules (a 100,000-character text has ~2,000; its insights
are read whole)."""
MAX_ENTITIES: Final = 1_000


class Entities:
    """The records sources are about: object slug, name and attributes as text, loaded once."""

    def __init__(self, schema: WorkspaceSchema) -> None:
        self.schema = schema
        self.known: dict[int, tuple[str, str, str]] = {}

    async def load(self, tenant: Tenant, ids: Iterable[int]) -> None:
        wanted = [i for i in dict.fromkeys(ids) if i not in self.known][:MAX_ENTITIES]
        if not wanted:
            return
        for row in await get_records(tenant, wanted):
            obj = self.schema.object_by_id(row.object_id)
            if obj is None:
                continue
            attributes = read_attributes(obj, row.data)
            self.known[row.id] = (obj.slug, primary_value(obj, row.data),
                                  orjson.dumps(attributes).decode()[:4_000])

    def slugs(self, ids: Iterable[int]) -> tuple[str, ...]:
        return tuple(sorted({self.known[i][0] for i in ids if i in self.known}))

    def text(self, ids: Iterable[int]) -> str:
        return " ".join(self.known[i][2] for i in ids if i in self.known)

    def cite(self, ids: Iterable[int]) -> list[JsonValue]:
        return [{"record_id": str(i), "object": self.known[i][0], "name": self.known[i][1]}
                for i in ids if i in self.known]


def id_floor(moment: datetime) -> int:
    """The smallest id made at or after ``moment``'s second."""
    return compose_id(max(moment.timestamp(), EPOCH_S), 0)


def _insight(row: asyncpg.Record, entities: Entities) -> Source:
    ids = list(row["entity_ids"])
    cite: JsonObject = {"kind": "insight", "insight_id": str(row["id"]), "artifact_id": str(row["artifact_id"]),
                        "type": row["type"], "content": row["content"], "confidence": row["confidence"],
                        "entities": entities.cite(ids), "created_at": iso(row["created_at"])}
    return Source(key=f"insight:{row['id']}", group=f"artifact:{row['artifact_id']}", kind="insight",
                  text=str(row["content"]), cite=cite, insight_type=str(row["type"]), object_slugs=entities.slugs(ids),
                  entity_text=entities.text(ids), at=row["created_at"])


async def artifact_sources(tenant: Tenant, entities: Entities, artifact_id: int) -> list[Source]:
    """An artifact's insights, then the sentences of its text (new context, read by rules)."""
    params = Params()
    artifact = await tenant.fetchrow(
        f"SELECT content, created_at FROM artifacts WHERE workspace_id = {WORKSPACE} AND id = "
        f"{params.add(artifact_id)} AND status = 'completed'", *params.values)
    if artifact is None:
        return []
    params = Params()
    record_rows = await tenant.fetch(
        f"SELECT record_id FROM artifact_entities WHERE workspace_id = {WORKSPACE} AND artifact_id = "
        f"{params.add(artifact_id)} LIMIT {MAX_ENTITIES}", *params.values)
    params = Params()
    insight_rows = await tenant.fetch(
        "SELECT id, artifact_id, type, content, confidence, entity_ids, created_at FROM insights "
        f"WHERE workspace_id = {WORKSPACE} AND artifact_id = {params.add(artifact_id)} ORDER BY id "
        f"LIMIT {MAX_SOURCES}", *params.values)
    record_ids = [r["record_id"] for r in record_rows]
    await entities.load(tenant, [*record_ids, *(e for r in insight_rows for e in r["entity_ids"])])
    sources = [_insight(row, entities) for row in insight_rows]
    text = str(artifact["content"])
    slugs, entity_text = entities.slugs(record_ids), entities.text(record_ids)
    for position, (start, end) in enumerate(sentence_spans(text)[:MAX_SENTENCES]):
        sentence = " ".join(text[start:end].split())
        if len(sentence) < 3:
            continue
        sources.append(Source(
            key=f"passage:{artifact_id}:{position}", group=f"artifact:{artifact_id}", kind="passage", text=sentence,
            cite={"kind": "passage", "artifact_id": str(artifact_id), "content": sentence[:500], "offset": start,
                  "entities": entities.cite(record_ids)},
            object_slugs=slugs, entity_text=entity_text, at=artifact["created_at"]))
    return sources


async def insights_since(tenant: Tenant, entities: Entities, since: datetime) -> list[Source]:
    """Insights made after ``since``, oldest first (at most ``MAX_SOURCES``)."""
    params = Params()
    rows = await tenant.fetch(
        "SELECT id, artifact_id, type, content, confidence, entity_ids, created_at FROM insights "
        f"WHERE workspace_id = {WORKSPACE} AND created_at > {params.add(since)} ORDER BY created_at, id "
        f"LIMIT {MAX_SOURCES}", *params.values)
    await entities.load(tenant, (e for r in rows for e in r["entity_ids"]))
    return [_insight(row, entities) for row in rows]


def _render(value: object) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, str):
        return value
    return orjson.dumps(value).decode()


async def changes_since(tenant: Tenant, entities: Entities, since: datetime) -> list[Source]:
    """Attribute changes of records and list entries (``updated`` timeline events) after
    ``since``, one source per changed field, oldest first."""
    params = Params()
    rows = await tenant.fetch(
        "SELECT id, record_id, resource_type, resource_id, payload, created_at, actor FROM timeline_events "
        f"WHERE workspace_id = {WORKSPACE} AND id >= {params.add(id_floor(since))} AND id < {FIRST_OLD_ID} "
        f"AND event_type = 'updated' AND created_at > {params.add(since)} ORDER BY id LIMIT {params.add(MAX_SOURCES)}",
        *params.values)
    await entities.load(tenant, (r["record_id"] for r in rows))
    sources: list[Source] = []
    for row in rows:
        payload = row["payload"]
        if isinstance(payload, str):
            payload = orjson.loads(payload)
        record_id = row["record_id"]
        slug, name, _ = entities.known.get(record_id, ("", "", ""))
        listed = payload.get("list_item") if isinstance(payload.get("list_item"), dict) else None
        for change in payload.get("field_changes") or []:
            field_name = str(change.get("field_name", ""))
            old, new = change.get("old_value"), change.get("new_value")
            where = f" in {listed.get('list_name')}" if listed else ""
            text = f"{name or 'A record'}{where}: {field_name.replace('_', ' ')} changed from {_render(old)} to " \
                   f"{_render(new)}"
            cite: JsonObject = {"kind": "record_change", "record_id": str(record_id), "object": slug, "name": name,
                                "field": field_name, "old_value": old, "new_value": new,
                                "timeline_event_id": str(row["id"]), "changed_at": iso(row["created_at"]),
                                "changed_by": row["actor"]}
            if listed:
                cite["list_entry_id"] = str(row["resource_id"])
                cite["list"] = listed.get("list_name")
            sources.append(Source(
                key=f"change:{row['id']}:{field_name}", group=f"change:{row['id']}:{field_name}", kind="change",
                text=text, cite=cite, object_slugs=(slug,) if slug and not listed else (),
                entity_text=entities.text([record_id]), stage_like=change_is_stage_like(field_name),
                at=row["created_at"]))
    return sources


async def notes_since(tenant: Tenant, entities: Entities, since: datetime) -> list[Source]:
    """Notes remembered after ``since`` (their memory items), one source per note."""
    params = Params()
    rows = await tenant.fetch(
        "SELECT source_id, position, content, entity_ids, created_at FROM memory_items "
        f"WHERE workspace_id = {WORKSPACE} AND id >= {params.add(id_floor(since))} AND id < {FIRST_OLD_ID} "
        f"AND source_type = 'note' ORDER BY id LIMIT {params.add(MAX_SOURCES)}", *params.values)
    await entities.load(tenant, (e for r in rows for e in r["entity_ids"]))
    sources = []
    for row in rows:
        ids = list(row["entity_ids"])
        text = " ".join(str(row["content"]).split())
        sources.append(Source(
            key=f"note:{row['source_id']}:{row['position']}", group=f"note:{row['source_id']}", kind="note", text=text,
            cite={"kind": "note", "note_id": str(row["source_id"]), "content": text[:500],
                  "entities": entities.cite(ids)},
            object_slugs=entities.slugs(ids), entity_text=entities.text(ids), at=row["created_at"]))
    return sources
