"""Job leases: how the stranded-work sweep tells a dead worker's job from a running one.

While a worker runs an artifact, AI-list, import or export job it holds a PostgreSQL session
advisory lock named after the job's row, on one connection of its own per worker process. When
the process dies (kill -9, OOM, a deploy), PostgreSQL drops that connection and with it every
lease. The sweep (``workers.jobs.requeue_stranded``) re-queues a ``processing`` row only
when it can take the row's lease itself, so a crashed job runs again within one sweep period
instead of after a fixed timeout, and a long import that is still running is never re-queued.

The lease is taken before the job claims its row, so a ``processing`` row whose lease is free
belongs to no living worker. A second copy of a job whose lease is held elsewhere skips.
If the lease connection itself is lost (PostgreSQL restarted), the held leases are taken again
on a new one; a sweep in between may re-queue a running job, which is safe: every job is
idempotent.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

import asyncpg
import structlog

log = structlog.get_logger(__name__)


def lease_name(table: str, row_id: int) -> str:
    """The text hashed into the advisory lock key; the sweep builds the same one in SQL."""
    return f"tessera:job:{table}:{row_id}"


def lease_key_sql(table: str, id_column: str) -> str:
    """SQL for the lock key of ``table``'s row ``id_column`` (matches ``lease_name``). Both are
    our own names (``workers.jobs.JOB_KINDS``), never a caller's."""
    if not (table.isidentifier() and id_column.replace(".", "_").isidentifier()):
        raise ValueError((table, id_column))
    return f"hashtextextended('tessera:job:{table}:' || {id_column}::text, 0)"


class JobLeases:
    """Session advisory locks of this worker process's running jobs, on one connection."""

    def __init__(self, dsn: str) -> None:
        self._dsn = dsn
        self._conn: asyncpg.Connection | None = None
        self._lock = asyncio.Lock()  # one asyncpg connection runs one statement at a time
        self._held: set[str] = set()

    async def _connection(self) -> asyncpg.Connection:
        if self._conn is not None and not self._conn.is_closed():
            return self._conn
        self._conn = await asyncpg.connect(self._dsn, timeout=10)
        for name in list(self._held):  # a new session: take back what the lost one held
            if not await self._conn.fetchval("SELECT pg_try_advisory_lock(hashtextextended($1, 0))", name):
                log.warning("job_lease_lost", lease=name)
        return self._conn

    async def acquire(self, table: str, row_id: int) -> bool:
        name = lease_name(table, row_id)
        async with self._lock:
            try:
                conn = await self._connection()
                got = bool(await conn.fetchval("SELECT pg_try_advisory_lock(hashtextextended($1, 0))", name))
            except (asyncpg.exceptions.InterfaceError, asyncpg.PostgresConnectionError, OSError):
                # The session went away since its last use (PostgreSQL restarted): one new try.
                self._conn = None
                conn = await self._connection()
                got = bool(await conn.fetchval("SELECT pg_try_advisory_lock(hashtextextended($1, 0))", name))
        if got:
            self._held.add(name)
        return got

    async def release(self, table: str, row_id: int) -> None:
        name = lease_name(table, row_id)
        self._held.discard(name)
        async with self._lock:
            if self._conn is not None and not self._conn.is_closed():
                with suppress(asyncpg.PostgresError, asyncpg.exceptions.InterfaceError, OSError):
                    await self._conn.execute("SELECT pg_advisory_unlock(hashtextextended($1, 0))", name)

    @asynccontextmanager
    async def hold(self, table: str, row_id: int) -> AsyncIterator[bool]:
        """Yield whether this process now holds the job's lease (False: a live worker has it)."""
        if not await self.acquire(table, row_id):
            yield False
            return
        try:
            yield True
        finally:
            await asyncio.shield(self.release(table, row_id))

    async def close(self) -> None:
        if self._conn is not None:
            with suppress(Exception):
                await self._conn.close(timeout=5)
            self._conn = None

