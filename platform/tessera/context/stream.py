"""Insight streaming (SSE) across API processes.

Workers publish ``{"insight_ids": [...]}`` on ``tessera:insights:<workspace id>`` after the
insights commit, and ``{"notification_ids": [...]}`` after notification feed items commit. Each
API process keeps ONE pattern subscription (started with its first stream)
and hands each message to the queues of that workspace's open streams, so a stream sees
insights no matter which process or worker produced them. A stream first replays up to 20 recent
insights (or those after ``Last-Event-ID``), then sends new ones; keepalive comments go out every
``sse_keepalive_seconds``. A key that also holds ``notification.read`` receives each new feed item
as a ``notification.created`` event (its data the ``NotificationFeedItem``; no event id, so
``Last-Event-ID`` stays an insight id: notifications are not replayed, the feed's ``since`` is).

Streams are long-lived, so authentication is not a one-off: every keepalive the key is read again
from the database, and a revoked or expired key, a key that lost the scope, an erased workspace
or a stream older than ``sse_max_stream_seconds`` ends the stream with a ``stream.closed`` event
(``{"message", "reconnect"}``). Streams are counted per key and per workspace (429 over either).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import AsyncIterator

import orjson
import structlog
from redis.exceptions import RedisError
from sse_starlette import EventSourceResponse
from sse_starlette.event import ServerSentEvent

from schema_registry.workspace import WorkspaceSchema
from tessera.app_state import AppState
from tessera.clock import utcnow
from tessera.context.insights import list_insights
from tessera.context.serialize import InsightJson, insight_to_json, stream_payload
from tessera.db.tenant import Tenant
from tessera.notifications.repository import get_items
from tessera.notifications.serialize import item_to_json
from tessera.principal import Principal
from tessera.stream_guard import StreamSlots, check_in, sse_response
from tessera.wire import JsonObject

log = structlog.get_logger(__name__)
CHANNEL = "tessera:insights:"
REPLAY = 20
SCOPE = "insight.stream"
"""The scope the stream's route requires; re-checked every keepalive."""
NOTIFICATION_SCOPE = "notification.read"
Message = tuple[str, list[int]]
"""What the hub hands a stream: ``("insight", ids)`` or ``("notification", ids)``."""


class InsightHub:
    """One Redis subscription per process, fanned out to in-process queues."""

    def __init__(self, state: AppState) -> None:
        self._state = state
        self._queues: dict[int, set[asyncio.Queue[Message]]] = defaultdict(set)
        self._task: asyncio.Task[None] | None = None

    def subscribe(self, workspace_id: int) -> asyncio.Queue[Message]:
        queue: asyncio.Queue[Message] = asyncio.Queue(maxsize=1000)
        self._queues[workspace_id].add(queue)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="insight-hub")
        return queue

    def unsubscribe(self, workspace_id: int, queue: asyncio.Queue[Message]) -> None:
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
                    message = orjson.loads(data)
                    for kind in ("insight", "notification"):
                        ids = [int(i) for i in message.get(f"{kind}_ids", [])]
                        if not ids:
                            continue
                        for queue in list(self._queues.get(workspace_id, ())):
                            with contextlib.suppress(asyncio.QueueFull):
                                queue.put_nowait((kind, ids))
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError, ValueError) as err:
                log.warning("insight_hub_reconnecting", error_type=type(err).__name__)
                await asyncio.sleep(1.0)


async def close_hub(state: AppState) -> None:
    """Stop the process's subscription, if a stream ever started it (the app's shutdown)."""
    existing = state.extras.pop("insight_hub", None)
    if isinstance(existing, InsightHub):
        await existing.close()


def hub(state: AppState) -> InsightHub:
    existing = state.extras.get("insight_hub")
    if existing is None:
        existing = state.extras["insight_hub"] = InsightHub(state)
    assert isinstance(existing, InsightHub)
    return existing


async def stream_insights(state: AppState, principal: Principal, schema: WorkspaceSchema, *,
                          authorization: str | None, after: int | None) -> EventSourceResponse:
    """The stream of ``principal``'s workspace: its recent insights (those after the insight
    ``after``, the client's Last-Event-ID, when given), then new ones as they come.
    ``authorization`` is the request's header, authenticated again at every keepalive."""
    settings = state.settings
    workspace_id = principal.workspace_id
    slots = StreamSlots(state, principal, kind="insight")
    await slots.take()
    opened_at = state.clock()
    queue = hub(state).subscribe(workspace_id)

    async def load(ids: list[int] | None) -> list[InsightJson]:
        async with state.engine.connect() as conn:
            tenant = Tenant(conn, workspace_id)
            if ids is None:
                found = await list_insights(tenant, schema, start=None, end=None, limit=REPLAY, after_id=after)
                shown = found if after is not None else list(reversed(found))
            else:
                wanted = set(ids)
                rows = await list_insights(tenant, schema, start=None, end=None, limit=len(ids) + REPLAY,
                                           after_id=min(ids) - 1)
                shown = [r for r in rows if r.insight.id in wanted]
            return [insight_to_json(i, workspace_id) for i in shown]

    async def load_notifications(ids: list[int]) -> list[JsonObject]:
        async with state.engine.connect() as conn:
            return [item_to_json(i) for i in await get_items(Tenant(conn, workspace_id), ids[:100])]

    async def events() -> AsyncIterator[ServerSentEvent]:
        loop = asyncio.get_running_loop()
        keepalive = settings.sse_keepalive_seconds
        try:
            replay = await load(None)
            if replay:
                yield ServerSentEvent(data=stream_payload(workspace_id, "", replay, utcnow(state.clock)).decode(),
                                      event="insight.replay", id=replay[-1]["id"])
            # The key check and the slot refresh run every keepalive however busy the stream is.
            check_at = loop.time() + keepalive
            while True:
                left = min(check_at - loop.time(), opened_at + settings.sse_max_stream_seconds - state.clock())
                if left > 0:
                    try:
                        kind, ids = await asyncio.wait_for(queue.get(), timeout=left)
                    except TimeoutError:
                        pass
                    else:
                        if kind == "notification":
                            if NOTIFICATION_SCOPE in principal.scopes:
                                for item in await load_notifications(ids):
                                    yield ServerSentEvent(data=orjson.dumps(item).decode(),
                                                          event="notification.created")
                            continue
                        batch = await load(ids)
                        if batch:
                            yield ServerSentEvent(
                                data=stream_payload(workspace_id, "", batch, utcnow(state.clock)).decode(),
                                event="insight.batch.created", id=batch[-1]["id"])
                        continue
                check_at = loop.time() + keepalive
                closing = await check_in(state, principal, authorization, opened_at, slots, scope=SCOPE)
                if closing is not None:
                    yield closing
                    return
        finally:
            hub(state).unsubscribe(workspace_id, queue)
            await slots.release()

    return sse_response(events(), settings.sse_keepalive_seconds)
