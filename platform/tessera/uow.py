"""The unit of work: one transaction, the ``Changes`` its writes made, and what follows the
commit. Before committing it inserts the events still pending (``Changes.flush``); after the
commit succeeded it runs the cache invalidations the writes asked for, queues their worker jobs
and wakes the worker of every outbox topic written (search, webhooks, memory). Nothing of it runs when
the transaction rolls back. HTTP requests get one per request (``tessera.http.context``); jobs
and commands open one with ``transaction``."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncTransaction

from tessera.changes import WAKES, Changes
from tessera.db.engine import translated
from tessera.db.tenant import Tenant

Wake = Callable[[str], None]
"""Wakes a worker function by name (``RedisClient.nudge``)."""
Enqueue = Callable[..., Awaitable[bool]]
"""Queues a worker job by function name (``RedisClient.enqueue``)."""


class UnitOfWork:
    def __init__(self, engine: AsyncEngine, workspace_id: int, changes: Changes, *, wake: Wake | None = None,
                 enqueue: Enqueue | None = None) -> None:
        self._engine = engine
        self.workspace_id = workspace_id
        self.changes = changes
        self._wake = wake
        self._enqueue = enqueue
        self.conn: AsyncConnection | None = None
        self._tx: AsyncTransaction | None = None
        self._after_commit: list[Callable[[], Awaitable[None]]] = []

    async def connection(self) -> AsyncConnection:
        """The transaction's connection, opened (and the transaction begun) on first use."""
        if self.conn is None:
            async with translated():
                self.conn = await self._engine.connect()
                self._tx = await self.conn.begin()
        return self.conn

    async def tenant(self) -> Tenant:
        return Tenant(await self.connection(), self.workspace_id)

    def after_commit(self, job: Callable[[], Awaitable[None]]) -> None:
        self._after_commit.append(job)

    async def commit(self) -> None:
        if self.conn is not None:
            await self.changes.flush(Tenant(self.conn, self.workspace_id))
        if self._tx is not None:
            async with translated():
                await self._tx.commit()
        await self._close()
        for forget in self.changes.committed:
            forget()
        if self._enqueue is not None:
            for queued in self.changes.jobs:
                await self._enqueue(queued.function, *queued.args, job_id=queued.job_id)
        if self._wake is not None:
            for topic in sorted(self.changes.topics):
                self._wake(WAKES[topic])
        for job in self._after_commit:
            await job()

    async def rollback(self) -> None:
        # The connection may be gone already; closing it below is all that is left to do then.
        with contextlib.suppress(Exception):
            if self._tx is not None and self._tx.is_active:
                await self._tx.rollback()
        await self._close()

    async def _close(self) -> None:
        if self.conn is not None:
            conn, self.conn, self._tx = self.conn, None, None
            with contextlib.suppress(Exception):
                await conn.close()


@asynccontextmanager
async def transaction(engine: AsyncEngine, workspace_id: int, changes: Changes, *,
                      wake: Wake | None = None, enqueue: Enqueue | None = None) -> AsyncIterator[Tenant]:
    """A unit of work for a job or a command: committed when the block ends, rolled back if it raises."""
    uow = UnitOfWork(engine, workspace_id, changes, wake=wake, enqueue=enqueue)
    try:
        yield await uow.tenant()
    except BaseException:
        await uow.rollback()
        raise
    await uow.commit()
