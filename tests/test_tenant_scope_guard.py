"""The tests' tenant-scope guard refuses a statement on a tenant table that does not name
``workspace_id`` before PostgreSQL sees it, on every path: SQLAlchemy, ``Tenant.fetch`` and
statements sent straight to ``Tenant.driver()``.

Each refused statement names a column that does not exist: had it reached PostgreSQL, the error
would be PostgreSQL's (undefined column), not the guard's ``AssertionError``."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from tessera.db.tenant import Tenant

REFUSED = "touches a tenant table without workspace_id"
NOBODY = 2**52  # no workspace has this id: scoped reads find nothing


async def test_driver_statements_without_workspace_id_are_refused(app: Any) -> None:
    async with app.state.tessera.engine.connect() as conn, conn.begin():
        driver = await Tenant(conn, NOBODY).driver()
        with pytest.raises(AssertionError, match=REFUSED):
            await driver.fetch("SELECT no_such_column FROM records")
        with pytest.raises(AssertionError, match=REFUSED):
            await driver.fetchval("SELECT count(no_such_column) FROM notes")
        with pytest.raises(AssertionError, match=REFUSED):
            await driver.execute("DELETE FROM tasks WHERE no_such_column = 1")
        with pytest.raises(AssertionError, match=REFUSED):
            await driver.executemany("UPDATE records SET no_such_column = $1", [(1,)])
        with pytest.raises(AssertionError, match=REFUSED):
            await driver.copy_records_to_table("notes", records=[(1,)], columns=["no_such_column"])
        # Nothing reached PostgreSQL, so the transaction is intact; scoped statements pass.
        assert await driver.fetchval("SELECT count(*) FROM records WHERE workspace_id = $1", NOBODY) == 0
        assert await driver.fetchval("SELECT 1") == 1


async def test_tenant_fetch_and_sqlalchemy_statements_without_workspace_id_are_refused(app: Any) -> None:
    async with app.state.tessera.engine.connect() as conn, conn.begin():
        tenant = Tenant(conn, NOBODY)
        with pytest.raises(AssertionError):
            await tenant.fetch("SELECT no_such_column FROM records WHERE id = $1")
        with pytest.raises(AssertionError, match=REFUSED):
            await tenant.execute(text("SELECT no_such_column FROM records"))
        assert await tenant.fetch("SELECT id FROM records WHERE workspace_id = $1") == []
