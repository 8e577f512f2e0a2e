"""Record timelines (newest first, cursor-paged) and attribute history (beyond the spec)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson

from tessera.errors import NotFound
from tessera.http.context import RequestContext
from tessera.records.cursor import CursorCodec
from tessera.records.endpoints import reader
from tessera.records.repository import attribute_history as history_of
from tessera.records.values import read_value
from tessera.timeline import service as timeline
from tessera.timeline.models import TimelineQuery
from tessera.timeline.serialize import TimelineResponseJson, event_to_json
from tessera.wire import iso, parse_id


async def record_timeline(ctx: RequestContext[None, TimelineQuery]) -> TimelineResponseJson:
    service = await reader(ctx)
    _, record = await service.record(parse_id(ctx.path["record_id"]))
    query = ctx.query
    codec = CursorCodec(ctx.state.settings.key_pepper.get_secret_value().encode(), ctx.workspace_id,
                        f"timeline:{record.id}")
    before = codec.decode(query.cursor, [])[1] if query.cursor else None
    page = await timeline.record_timeline(service.tenant, record.id, limit=query.limit, before=before,
                                          aggregate=query.aggregate, reads_notes="note.read" in ctx.principal.scopes)
    out: TimelineResponseJson = {"data": [event_to_json(e) for e in page.events], "has_next_page": page.has_next_page}
    if page.last_id is not None:
        out["next_cursor"] = codec.encode([], page.last_id)
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
