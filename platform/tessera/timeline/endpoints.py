"""Record timelines (newest first, cursor-paged) and attribute history (beyond the spec)."""

from __future__ import annotations

from tessera.errors import NotFound
from tessera.http.context import RequestContext
from tessera.records.cursor import CursorCodec
from tessera.records.endpoints import reader
from tessera.timeline import service as timeline
from tessera.timeline.models import TimelineQuery
from tessera.timeline.serialize import AttributeHistoryJson, TimelineResponseJson, event_to_json, history_to_json
from tessera.wire import parse_id


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


async def attribute_history(ctx: RequestContext[None, None]) -> AttributeHistoryJson:
    service = await reader(ctx)
    obj, record = await service.record(parse_id(ctx.path["record_id"]))
    attribute = obj.attribute(ctx.path["slug"])
    if attribute is None:
        raise NotFound(f"Attribute '{ctx.path['slug'][:80]}' not found on '{obj.slug}'")
    return {"data": [history_to_json(e) for e in await timeline.attribute_history(service.tenant, record, attribute)]}
