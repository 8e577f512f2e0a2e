"""``Tenant``'s raw-driver statements belong to the caller's transaction, even as its first ones."""

from __future__ import annotations

from typing import Any

import pytest

from tessera.db.tenant import Tenant
from tessera.errors import ServiceUnavailable

ADVISORY_HELD = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"


async def test_a_lock_taken_first_through_the_driver_lasts_until_commit(app: Any) -> None:
    engine = app.state.tessera.engine
    async with engine.connect() as conn:
        async with conn.begin():
            driver = await Tenant(conn, 1).driver()
            await driver.execute("SELECT pg_advisory_xact_lock(7316402120)")
            assert await driver.fetchval(ADVISORY_HELD) == 1
            assert driver.is_in_transaction()
        assert await (await Tenant(conn, 1).driver()).fetchval(ADVISORY_HELD) == 0


async def test_a_rolled_back_transaction_takes_its_driver_writes_with_it(app: Any, db: Any) -> None:
    engine = app.state.tessera.engine
    await db.execute("CREATE TABLE IF NOT EXISTS tenant_tx_probe (n int)")
    async with engine.connect() as conn:
        transaction = await conn.begin()
        await (await Tenant(conn, 1).driver()).execute("INSERT INTO tenant_tx_probe VALUES (1)")
        await transaction.rollback()
    assert await db.fetchval("SELECT count(*) FROM tenant_tx_probe") == 0
    await db.execute("DROP TABLE tenant_tx_probe")


async def test_a_connection_lost_before_the_transaction_starts_is_a_503(app: Any) -> None:
    """The adapter's own BEGIN raises its DB-API error, not SQLAlchemy's: it must still answer 503
    (seen as the one 500 of the fault suite's dropped-connection proxy)."""
    engine = app.state.tessera.engine
    async with engine.connect() as conn:
        await conn.begin()
        raw = await conn.get_raw_connection()
        raw.driver_connection.terminate()
        with pytest.raises(ServiceUnavailable):
            await Tenant(conn, 1).driver()
        await conn.invalidate()
