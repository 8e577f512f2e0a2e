"""Cross-process cache invalidation over PostgreSQL LISTEN/NOTIFY.

A write that changes cached state (an API key, a workspace's schema; erasing a workspace
announces each of its keys) calls ``announce`` inside its transaction; PostgreSQL delivers the
notification to every listening process only if the transaction commits. Each API process keeps
one listening connection; when that connection is lost, every cache is flushed on reconnect
(notifications sent meanwhile are lost), and caches also expire on their own, so a missed
notification costs staleness bounded by the cache TTL.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

import asyncpg
import structlog
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

log = structlog.get_logger(__name__)

CHANNEL = "tessera_invalidate"
STREAM_NOTICE = "events:"
"""Payload prefix (``events:<workspace id>``): the workspace's change stream has new events
(sent at commit by the ``number_events`` trigger of migration 0019, which spells the channel
and this prefix out; open streams wake on it, caches ignore it)."""
Listener = Callable[[str | None], None]
"""Called with the payload (``"api_key:sk-..."``, ``"schema:123"``) or None to flush all."""


async def announce(conn: AsyncConnection, payload: str) -> None:
    """Queue an invalidation that is delivered when (and only if) this transaction commits."""
    await conn.execute(text("SELECT pg_notify(:channel, :payload)"), {"channel": CHANNEL, "payload": payload})


class InvalidationListener:
    def __init__(self, dsn: str) -> None:
        self._dsn = dsn
        self._listeners: list[Listener] = []
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self.connected = asyncio.Event()

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def _dispatch(self, payload: str | None) -> None:
        for listener in self._listeners:
            listener(payload)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="invalidation-listener")

    async def stop(self) -> None:
        self._stopping.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task

    async def _run(self) -> None:
        delay = 0.5
        while not self._stopping.is_set():
            conn: asyncpg.Connection | None = None
            try:
                conn = await asyncpg.connect(self._dsn, timeout=5)
                lost = asyncio.Event()
                conn.add_termination_listener(lambda _c, lost=lost: lost.set())
                await conn.add_listener(CHANNEL, lambda _c, _pid, _ch, payload: self._dispatch(payload))
                self._dispatch(None)  # anything may have changed while we were not listening
                self.connected.set()
                delay = 0.5
                while not lost.is_set() and not self._stopping.is_set():
                    try:
                        await asyncio.wait_for(lost.wait(), timeout=10)
                    except TimeoutError:
                        await conn.execute("SELECT 1")  # detects a silently dead connection
            except asyncio.CancelledError:
                raise
            except Exception as err:
                log.warning("invalidation_listener_down", error_type=type(err).__name__)
            finally:
                self.connected.clear()
                if conn is not None and not conn.is_closed():
                    with contextlib.suppress(Exception):
                        await conn.close(timeout=2)
            if not self._stopping.is_set():
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)
