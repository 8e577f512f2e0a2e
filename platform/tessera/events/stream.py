"""The change stream over SSE (``GET /v1/events/stream``), across API processes.

A write's transaction numbers its events and sends ``events:<workspace id>`` on PostgreSQL's
invalidation channel (``tessera.db.notify``), delivered to every API process when it commits.
Each process's ``EventHub`` (fed by the process's one LISTEN connection) wakes the open streams
of that workspace, and each reads the events after its position from the database: nothing is
carried in the notification, so a lost one costs latency (the next keepalive reads anyway), never
an event. Each SSE event's ``id`` is its position, so a client that reconnects with
``Last-Event-ID`` resumes exactly after the last event it received.

As the insight stream does: keepalive comments every ``sse_keepalive_seconds``, at which the key
is read again from the database (a revoked or expired key, changed scopes, an erased workspace,
or a stream older than ``sse_max_stream_seconds`` end the stream with a ``stream.closed`` event
``{"message", "reconnect"}``), and at most ``sse_max_streams_per_key`` / ``_per_workspace``
concurrent change streams (429 past either; counted apart from insight streams).
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator

import orjson
from sse_starlette import EventSourceResponse
from sse_starlette.event import ServerSentEvent

from tessera.app_state import AppState
from tessera.db.notify import STREAM_NOTICE
from tessera.db.tenant import Tenant
from tessera.events.serialize import event_to_json
from tessera.events.service import EventFilter, check_cursor, current_head, read_page
from tessera.principal import Principal
from tessera.stream_guard import StreamSlots, check_in, sse_response

BATCH = 500
"""Events one read of the stream sends at most (it reads again at once while there are more)."""
SCOPE = "webhook.read"
"""The scope the stream's route requires; re-checked every keepalive."""


class EventHub:
    """Wakes this process's open streams of a workspace when its stream has new events."""

    def __init__(self) -> None:
        self._wakers: dict[int, set[asyncio.Event]] = defaultdict(set)

    def notice(self, payload: str | None) -> None:
        """A listener of ``tessera.db.notify`` (None: the LISTEN connection was lost, wake all)."""
        if payload is None:
            for wakers in self._wakers.values():
                for waker in wakers:
                    waker.set()
        elif payload.startswith(STREAM_NOTICE):
            for waker in self._wakers.get(int(payload.removeprefix(STREAM_NOTICE)), ()):
                waker.set()

    def subscribe(self, workspace_id: int) -> asyncio.Event:
        waker = asyncio.Event()
        self._wakers[workspace_id].add(waker)
        return waker

    def unsubscribe(self, workspace_id: int, waker: asyncio.Event) -> None:
        self._wakers[workspace_id].discard(waker)
        if not self._wakers[workspace_id]:
            del self._wakers[workspace_id]


def hub(state: AppState) -> EventHub:
    existing = state.extras.get("event_hub")
    if existing is None:
        existing = state.extras["event_hub"] = EventHub()
        state.caches.append(existing.notice)
    assert isinstance(existing, EventHub)
    return existing


async def stream_events(state: AppState, principal: Principal, flt: EventFilter, *, authorization: str | None,
                        after: int | None) -> EventSourceResponse:
    """The workspace's events after position ``after`` (from now on when None), then each new one
    as it commits. 400 / 410 for a cursor this workspace has not reached / past the retention."""
    settings = state.settings
    workspace_id = principal.workspace_id
    async with state.engine.begin() as conn:
        head = await current_head(Tenant(conn, workspace_id))
    if after is not None:
        check_cursor(after, head, "Last-Event-ID")
    position = head.last if after is None else after
    slots = StreamSlots(state, principal, kind="event", namespace="events:")
    await slots.take()
    opened_at = state.clock()
    waker = hub(state).subscribe(workspace_id)

    async def events() -> AsyncIterator[ServerSentEvent]:
        nonlocal position
        loop = asyncio.get_running_loop()
        keepalive = settings.sse_keepalive_seconds
        try:
            check_at = loop.time() + keepalive
            while True:
                waker.clear()  # before reading: a notice that arrives during the read wakes the next wait
                async with state.engine.begin() as conn:
                    tenant = Tenant(conn, workspace_id)
                    page = await read_page(tenant, flt, await current_head(tenant), after=position, limit=BATCH)
                for event in page.events:
                    yield ServerSentEvent(data=orjson.dumps(event_to_json(event)).decode(), event=event.event_type,
                                          id=str(event.position))
                position = page.next_cursor
                if page.has_more:
                    continue
                left = min(check_at - loop.time(), opened_at + settings.sse_max_stream_seconds - state.clock())
                if left > 0:
                    try:
                        await asyncio.wait_for(waker.wait(), timeout=left)
                    except TimeoutError:
                        pass
                    else:
                        continue
                # The key check and the slot refresh run every keepalive however busy the stream is.
                check_at = loop.time() + keepalive
                closing = await check_in(state, principal, authorization, opened_at, slots, scope=SCOPE,
                                         end_on_scope_change=True)
                if closing is not None:
                    yield closing
                    return
        finally:
            hub(state).unsubscribe(workspace_id, waker)
            await slots.release()

    return sse_response(events(), settings.sse_keepalive_seconds)
