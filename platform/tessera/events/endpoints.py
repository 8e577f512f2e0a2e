"""HTTP handlers of the change stream: parse the filters and cursor, call the service, serialize."""

from __future__ import annotations

from sse_starlette import EventSourceResponse

from tessera.events import service, stream
from tessera.events.models import EventsQuery, StreamQuery
from tessera.events.serialize import EventListJson, event_to_json
from tessera.events.service import EventFilter
from tessera.http.context import RequestContext


async def _filter(ctx: RequestContext[None, EventsQuery] | RequestContext[None, StreamQuery]) -> EventFilter:
    params = ctx.request.query_params  # ``object`` and ``type`` may be repeated: the query model keeps one
    return service.event_filter(params.getlist("object"), params.getlist("type"), await ctx.schema(),
                                ctx.principal.scopes)


async def list_events(ctx: RequestContext[None, EventsQuery]) -> EventListJson:
    flt = await _filter(ctx)
    page = await service.list_events(await ctx.tenant(), flt, cursor=service.parse_cursor(ctx.query.cursor),
                                     limit=ctx.query.limit)
    return {"data": [event_to_json(e) for e in page.events], "has_more": page.has_more,
            "next_cursor": str(page.next_cursor)}


async def stream_events(ctx: RequestContext[None, StreamQuery]) -> EventSourceResponse:
    flt = await _filter(ctx)
    headers = ctx.request.headers
    last_event_id = headers.get("last-event-id")
    after = (service.parse_cursor(last_event_id, "Last-Event-ID") if last_event_id
             else service.parse_cursor(ctx.query.cursor))
    return await stream.stream_events(ctx.state, ctx.principal, flt, authorization=headers.get("authorization"),
                                      after=after)
