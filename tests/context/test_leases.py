"""Job leases (workers/leases.py): held while a job runs, gone with the process that held them."""

from __future__ import annotations

from typing import Any

import asyncpg

from workers.leases import JobLeases


async def test_a_lease_is_exclusive_and_ends_with_its_session(settings: Any, db: asyncpg.Connection) -> None:
    first, second = JobLeases(settings.asyncpg_dsn), JobLeases(settings.asyncpg_dsn)
    try:
        assert await first.acquire("imports", 424242)
        assert not await second.acquire("imports", 424242)  # a live worker holds it
        assert await second.acquire("imports", 424243)  # other rows are free
        # What kill -9 of the first worker does to its lease connection:
        session = await first._connection()
        assert await db.fetchval("SELECT pg_terminate_backend($1, 5000)", session.get_server_pid())
        assert await second.acquire("imports", 424242)
        # The first worker, still alive after all (say PostgreSQL restarted), reconnects by itself
        # and finds that lease taken; its other work goes on.
        assert not await first.acquire("imports", 424242)
        assert await first.acquire("exports", 424242)
        await second.release("imports", 424242)
        assert await first.acquire("imports", 424242)
    finally:
        await first.close()
        await second.close()
