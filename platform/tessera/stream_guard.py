"""What every long-lived stream (the insight stream, the change stream) holds to: a place in the
per-key and per-workspace counts of concurrent streams, and a reason to end at a keepalive."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import orjson
from sse_starlette import EventSourceResponse
from sse_starlette.event import ServerSentEvent

from tessera.app_state import AppState
from tessera.errors import TesseraError, TooManyRequests, Unauthorized
from tessera.principal import Principal


class StreamSlots:
    """This stream's places in the per-key and per-workspace counts of ``kind`` streams (Redis, so
    they hold across API processes); a slot not refreshed for three keepalives goes stale.
    ``namespace`` keeps the counts of one kind apart from another's."""

    def __init__(self, state: AppState, principal: Principal, *, kind: str, namespace: str = "") -> None:
        self._state = state
        self._kind = kind
        settings = state.settings
        self._stream_id = uuid.uuid4().hex
        self._stale = settings.sse_keepalive_seconds * 3
        self._buckets = [(f"{namespace}{principal.api_key_id}", settings.sse_max_streams_per_key, "API key"),
                         (f"{namespace}ws:{principal.workspace_id}", settings.sse_max_streams_per_workspace,
                          "workspace")]

    async def take(self) -> None:
        """Claim both slots, or ``TooManyRequests`` naming the limit (Redis down: no limit)."""
        state = self._state
        for held, (bucket, limit, per) in enumerate(self._buckets):
            taken = await state.redis.take_stream_slot(bucket, self._stream_id, limit=limit, stale_s=self._stale,
                                                       now_s=state.clock())
            if taken is False:
                for earlier, _, _ in self._buckets[:held]:
                    await state.redis.release_stream_slot(earlier, self._stream_id)
                raise TooManyRequests(f"At most {limit} concurrent {self._kind} streams per {per}",
                                      retry_after=max(1, int(state.settings.sse_keepalive_seconds)))

    async def refresh(self) -> None:
        for bucket, limit, _ in self._buckets:
            await self._state.redis.take_stream_slot(bucket, self._stream_id, limit=limit, stale_s=self._stale,
                                                     now_s=self._state.clock())

    async def release(self) -> None:
        for bucket, _, _ in self._buckets:
            await self._state.redis.release_stream_slot(bucket, self._stream_id)


async def end_reason(state: AppState, principal: Principal, authorization: str | None, opened_at: float, *,
                     scope: str, end_on_scope_change: bool = False) -> tuple[str, bool] | None:
    """Why the stream must close now (message, whether reconnecting helps), or None to go on.
    The key (sent as ``authorization``) is read from the database, not the cache: a revoked or
    expired key, or one of an erased workspace, ends the stream at the next keepalive; so does
    losing ``scope`` and, with ``end_on_scope_change`` (what the stream shows depends on the
    scopes), any change of the key's scopes."""
    limit = state.settings.sse_max_stream_seconds
    if state.clock() - opened_at >= limit:
        return f"The stream reached its maximum lifetime of {limit:g} s; reconnect with Last-Event-ID", True
    try:
        current = await state.authenticator.authenticate(authorization, fresh=True)
    except Unauthorized as err:
        return err.message, False
    except TesseraError as err:  # the database is unavailable: fail closed, the client retries
        return err.message, True
    if current.api_key_id != principal.api_key_id or scope not in current.scopes:
        return f"This API key lacks the required scope '{scope}'", False
    if end_on_scope_change and current.scopes != principal.scopes:
        return "This API key's scopes changed; reconnect with Last-Event-ID to see what it may read now", True
    return None


async def check_in(state: AppState, principal: Principal, authorization: str | None, opened_at: float,
                   slots: StreamSlots, *, scope: str, end_on_scope_change: bool = False) -> ServerSentEvent | None:
    """At a keepalive: the ``stream.closed`` event ``{"message", "reconnect"}`` when the stream must
    end (``end_reason``), else None with the stream's slots refreshed."""
    ended = await end_reason(state, principal, authorization, opened_at, scope=scope,
                             end_on_scope_change=end_on_scope_change)
    if ended is not None:
        message, reconnect = ended
        return ServerSentEvent(data=orjson.dumps({"message": message, "reconnect": reconnect}).decode(),
                               event="stream.closed")
    await slots.refresh()
    return None


def sse_response(events: AsyncIterator[ServerSentEvent], keepalive_seconds: float) -> EventSourceResponse:
    """The streaming response of a stream's events, pinged every keepalive, never cached or buffered."""
    return EventSourceResponse(events, ping=int(max(1, keepalive_seconds)),
                               headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
