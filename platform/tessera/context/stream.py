"""Insight streaming (SSE) across API processes.

Workers publish ``{"insight_ids": [...]}`` on ``tessera:insights:<workspace id>`` after the
insights commit. Each API process keeps ONE pattern subscription (started with its first stream)
and hands each message to the queues of that workspace's open streams, so a stream sees
insights no matter which process or worker produced them. A stream first replays up to 20 recent
insights (or those after ``Last-Event-ID``), then sends new ones; keepalive comments go out every
``sse_keepalive_seconds``.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any

import orjson
import structlog
from redis.exceptions import RedisError
from sse_starlette import EventSourceResponse
from sse_starlette.event import ServerSentEvent

from tessera.app_state import AppState
from tessera.clock import utcnow
from tessera.context.insights import list_insights, stream_payload
from tessera.db.ids import id_from_text
from tessera.db.tenant import Tenant
from tessera.errors import TooManyRequests
from tessera.http.context import RequestContext

log = structlog.get_logger(__name__)
CHANNEL = "tessera:insights:"
REPLAY = 20


class InsightHub:
    """One Redis subscription per process, fanned out to in-process queues."""

    def __init__(self, state: AppState) -> None:
        self._state = state
        self._queues: dict[int, set[asyncio.Queue[list[int]]]] = defaultdict(set)
        self._task: asyncio.Task[None] | None = None

    def subscribe(self, workspace_id: int) -> asyncio.Queue[list[int]]:
        queue: asyncio.Queue[list[int]] = asyncio.Queue(maxsize=1000)
        self._queues[workspace_id].add(queue)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="insight-hub")
        return queue

    def unsubscribe(self, workspace_id: int, queue: asyncio.Queue[list[int]]) -> None:
        self._queues[workspace_id].discard(queue)
        if not self._queues[workspace_id]:
            del self._queues[workspace_id]

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task

    async def _run(self) -> None:
        while True:
            try:
                async for channel, data in self._state.redis.listen(CHANNEL + "*"):
                    workspace_id = int(channel.removeprefix(CHANNEL))
                    ids = [int(i) for i in orjson.loads(data).get("insight_ids", [])]
                    for queue in list(self._queues.get(workspace_id, ())):
                        with contextlib.suppress(asyncio.QueueFull):
                            queue.put_nowait(ids)
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError, ValueError) as err:
                log.warning("insight_hub_reconnecting", error_type=type(err).__name__)
                await asyncio.sleep(1.0)


def hub(state: AppState) -> InsightHub:
    existing = state.extras.get("insight_hub")
    if existing is None:
        existing = state.extras["insight_hub"] = InsightHub(state)
    assert isinstance(existing, InsightHub)
    return existing


async def stream_insights(ctx: RequestContext) -> EventSourceResponse:
    state = ctx.state
    settings = state.settings
    bucket = str(ctx.principal.api_key_id)
    stream_id = uuid.uuid4().hex
    stale = settings.sse_keepalive_seconds * 3
    taken = await state.redis.take_stream_slot(bucket, stream_id, limit=settings.sse_max_streams_per_key,
                                               stale_s=stale, now_s=state.clock())
    if taken is False:
        raise TooManyRequests(f"At most {settings.sse_max_streams_per_key} concurrent insight streams per API key",
                              retry_after=int(settings.sse_keepalive_seconds))
    last_event = ctx.request.headers.get("last-event-id", "")
    after = id_from_text(last_event)
    workspace_id = ctx.workspace_id
    schema = await ctx.schema()
    queue = hub(state).subscribe(workspace_id)

    async def load(ids: list[int] | None) -> list[dict[str, Any]]:
        async with state.engine.connect() as conn:
            tenant = Tenant(conn, workspace_id)
            if ids is None:
                found = await list_insights(tenant, schema, start=None, end=None, limit=REPLAY, after_id=after)
                return found if after is not None else list(reversed(found))
            rows = await list_insights(tenant, schema, start=None, end=None, limit=len(ids) + REPLAY,
                                       after_id=min(ids) - 1)
            return [r for r in rows if int(r["id"]) in set(ids)]

    async def events() -> AsyncIterator[ServerSentEvent]:
        try:
            replay = await load(None)
            if replay:
                yield ServerSentEvent(data=stream_payload(workspace_id, "", replay, utcnow(state.clock)).decode(),
                                      event="insight.replay", id=replay[-1]["id"])
            while True:
                try:
                    ids = await asyncio.wait_for(queue.get(), timeout=settings.sse_keepalive_seconds)
                except TimeoutError:
                    await state.redis.take_stream_slot(bucket, stream_id, limit=settings.sse_max_streams_per_key,
                                                       stale_s=stale, now_s=state.clock())
                    continue
                batch = await load(ids)
                if batch:
                    yield ServerSentEvent(
                        data=stream_payload(workspace_id, "", batch, utcnow(state.clock)).decode(),
                        event="insight.batch.created", id=batch[-1]["id"])
        finally:
            hub(state).unsubscribe(workspace_id, queue)
            await state.redis.release_stream_slot(bucket, stream_id)

    return EventSourceResponse(events(), ping=int(max(1, settings.sse_keepalive_seconds)),
                               headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
