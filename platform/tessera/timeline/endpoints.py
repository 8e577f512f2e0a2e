"""Record timelines (newest first, cursor-paged) and attribute history (beyond the spec)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson

from tessera.db.id_order import creation_page
from tessera.errors import NotFound
from tessera.http.context import RequestContext
from tessera.records.cursor import CursorCodec
from tessera.records.endpoints import reader
from tessera.records.repository import attribute_history as history_of
from tessera.records.values import read_value
from tessera.timeline.aggregate import fold_bursts
from tessera.wire import iso, parse_id


def _event_json(row: Any) -> dict[str, Any]:
    payload = row["payload"]
    return {"id": str(row["id"]), "resource_type": row["resource_type"], "resource_id": str(row["resource_id"]),
            "event_type": row["event_type"],
            "event_payload": orjson.loads(payload) if isinstance(payload, str) else payload,
            "event_timestamp": iso(row["created_at"]), "created_by": row["actor"],
            "created_by_id": row["actor_id"], "is_aggregated": False, "children": []}


def redact_notes(events: list[dict[str, Any]], readable: set[str]) -> list[dict[str, Any]]:
    """Note events keep the note's id and title; its content (in ``note`` and in the content
    ``field_changes``) stays only for notes in ``readable``: the caller holds ``note.read`` and the
    note is not archived. ``record.read`` alone must not read notes through the timeline."""
    for event in events:
        if event["resource_type"] != "note" or event["resource_id"] in readable:
            continue
        payload = event["event_payload"]
        if isinstance(payload.get("note"), dict):
            payload["note"] = {k: v for k, v in payload["note"].items() if k != "content"}
        changes = payload.get("field_changes")
        if isinstance(changes, list):
            payload["field_changes"] = [{"field_name": c["field_name"]} if c.get("field_name") == "content" else c
                                        for c in changes if isinstance(c, dict)]
    return events


async def _readable_notes(ctx: RequestContext, tenant: Any, events: list[dict[str, Any]]) -> set[str]:
    if "note.read" not in ctx.principal.scopes:
        return set()
    ids = sorted({int(e["resource_id"]) for e in events if e["resource_type"] == "note"})
    if not ids:
        return set()
    rows = await tenant.fetch("SELECT id FROM notes WHERE workspace_id = $1 AND id = ANY($2::bigint[]) "
                              "AND archived_at IS NULL", ids)
    return {str(r["id"]) for r in rows}


async def record_timeline(ctx: RequestContext) -> dict[str, Any]:
    service = await reader(ctx)
    _, record = await service.record(parse_id(ctx.path["record_id"]))
    query = ctx.query
    codec = CursorCodec(ctx.state.settings.key_pepper.get_secret_value().encode(), ctx.workspace_id,
                        f"timeline:{record.id}")
    before = codec.decode(query.cursor, [])[1] if query.cursor else None
    rows = await creation_page(
        service.tenant, "SELECT id, resource_type, resource_id, event_type, payload, actor, actor_id, created_at "
        "FROM timeline_events WHERE workspace_id = $1 AND record_id = $2", [record.id],
        newest_first=True, limit=query.limit + 1, after=before)
    has_next = len(rows) > query.limit
    rows = rows[:query.limit]
    events = [_event_json(r) for r in rows]
    events = redact_notes(events, await _readable_notes(ctx, service.tenant, events))
    if query.aggregate:
        events = fold_bursts(events, [r["created_at"] for r in rows])
    out: dict[str, Any] = {"data": events, "has_next_page": has_next}
    if has_next and rows:
        out["next_cursor"] = codec.encode([], rows[-1]["id"])
    return out


async def attribute_history(ctx: RequestContext) -> dict[str, Any]:
    service = await reader(ctx)
    obj, record = await service.record(parse_id(ctx.path["record_id"]))
    attribute = obj.attribute(ctx.path["slug"])
    if attribute is None:
        raise NotFound(f"Attribute '{ctx.path['slug'][:80]}' not found on '{obj.slug}'")
    rows = await history_of(service.tenant, record.id, attribute.id)
    data = []
    for row in rows:
        value = row["value"]
        data.append({"value": read_value(attribute, orjson.loads(value) if isinstance(value, str) else value),
                     "active_from": iso(row["active_from"]), "active_until": iso(row["active_until"]),
                     "actor": {"type": row["actor"], "id": row["actor_id"]}})
    current = record.data.get(str(attribute.id))
    if current:
        meta = record.value_meta.get(str(attribute.id), {})
        since = datetime.fromisoformat(meta["since"]) if "since" in meta else record.created_at
        data.append({"value": read_value(attribute, current), "active_from": iso(since), "active_until": None,
                     "actor": {"type": meta.get("actor", record.created_by),
                               "id": meta.get("actor_id", record.created_by_id)}})
    return {"data": data}
