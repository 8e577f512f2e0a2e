"""The workspace-scoping primitive: the one way code reaches tenant data.

A ``Tenant`` is a database connection bound to one workspace. Every statement it builds is
filtered (or, for inserts, stamped) with that workspace's id, so a repository cannot forget the
scope; raw SQL (``fetch``, ``fetchrow``) must filter on ``workspace_id = $1`` and gets ``$1`` bound
to it. In tests, any statement that touches a tenant table without ``workspace_id`` is refused
before it reaches PostgreSQL, whether it goes through SQLAlchemy or straight to the driver
(``tessera.db.engine.enforce_tenant_scope``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

import asyncpg
from sqlalchemy import CursorResult, Delete, Executable, Insert, Select, Table, Update, delete, insert, select
from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_connection
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from tessera.db.engine import TenantScopeCheck, tenant_scope_check, translate_error, translated
from tessera.db.sql import WORKSPACE


class Tenant:
    """A connection (inside a transaction) bound to one workspace."""

    __slots__ = ("conn", "workspace_id")

    def __init__(self, conn: AsyncConnection, workspace_id: int) -> None:
        self.conn = conn
        self.workspace_id = workspace_id

    def owns(self, table: Table) -> ColumnElement[bool]:
        """The predicate ``table.workspace_id = <this workspace>``, for joins and subqueries."""
        return table.c.workspace_id == self.workspace_id

    def select(self, table: Table, *columns: ColumnElement[Any]) -> Select[Any]:
        """``SELECT columns FROM table WHERE workspace_id = ws`` (all columns when none given)."""
        stmt = select(*columns) if columns else select(table)
        return stmt.select_from(table).where(self.owns(table))

    def insert(self, table: Table) -> Insert:
        """An INSERT whose single row is stamped with this workspace (use ``values(...)``)."""
        return insert(table).values(workspace_id=self.workspace_id)

    def rows(self, rows: Sequence[Mapping[str, object]]) -> list[dict[str, object]]:
        """Stamp many rows with this workspace for an executemany INSERT."""
        return [{**row, "workspace_id": self.workspace_id} for row in rows]

    def update(self, table: Table) -> Update:
        return table.update().where(self.owns(table))

    def delete(self, table: Table) -> Delete:
        return delete(table).where(self.owns(table))

    async def execute(self, stmt: Executable,
                      params: Mapping[str, object] | Sequence[Mapping[str, object]] | None = None
                      ) -> CursorResult[Any]:
        async with translated():
            result = await self.conn.execute(stmt, params)
        return result

    async def driver(self) -> asyncpg.Connection:
        """The underlying asyncpg connection (same transaction), for hot paths and bulk I/O. Where
        ``enforce_tenant_scope`` is on (tests), it comes wrapped so its statements pass that check.

        SQLAlchemy's asyncpg adapter sends BEGIN lazily, on its own first statement: a statement
        sent straight to the driver before that would run in autocommit, outside the caller's
        transaction (its locks released at once). So the transaction is started here first."""
        raw = await self.conn.get_raw_connection()
        adapted = cast(AsyncAdapt_asyncpg_connection, raw.dbapi_connection)  # the engine's driver (engine.py)
        if self.conn.in_transaction() and getattr(adapted, "_transaction", False) is None:
            try:
                # private (and untyped): the adapter has no public hook for this
                await adapted._start_transaction()  # type: ignore[no-untyped-call]
            except Exception as err:  # the adapter's own DB-API error: a lost connection is a 503
                raise translate_error(err) from err
        driver: asyncpg.Connection = raw.driver_connection
        check = tenant_scope_check(self.conn)
        # The wrapper passes every attribute through to the connection, so it is one to its callers.
        return driver if check is None else cast(asyncpg.Connection, _CheckedDriver(driver, check))

    async def fetch(self, statement: str, *args: object) -> list[asyncpg.Record]:
        """Run raw SQL on the driver; ``$1`` is bound to this workspace and must filter on it.
        ``args`` bind ``$2`` onwards (any value asyncpg encodes)."""
        if WORKSPACE not in statement or "workspace_id" not in statement:
            raise AssertionError("raw SQL against tenant data must bind workspace_id to $1")
        driver = await self.driver()
        async with translated():
            rows: list[asyncpg.Record] = await driver.fetch(statement, self.workspace_id, *args)
        return rows

    async def fetchrow(self, statement: str, *args: object) -> asyncpg.Record | None:
        """The first row of ``fetch``, or None when there is none."""
        rows = await self.fetch(statement, *args)
        return rows[0] if rows else None

    async def fetch_one(self, statement: str, *args: object) -> asyncpg.Record:
        """The row of a statement that always returns exactly one (an aggregate such as ``count``);
        any other number of rows is an error (``ValueError``)."""
        (row,) = await self.fetch(statement, *args)
        return row

    async def savepoint(self, name: str) -> None:
        await (await self.driver()).execute(f"SAVEPOINT {name}")

    async def rollback_to(self, name: str) -> None:
        await (await self.driver()).execute(f"ROLLBACK TO SAVEPOINT {name}")

    async def release(self, name: str) -> None:
        await (await self.driver()).execute(f"RELEASE SAVEPOINT {name}")


_STATEMENT_METHODS = frozenset({"execute", "executemany", "fetch", "fetchrow", "fetchval", "fetchmany", "prepare",
                                "cursor", "copy_from_query"})
_TABLE_METHODS = frozenset({"copy_from_table", "copy_to_table", "copy_records_to_table"})


class _CheckedDriver:
    """An asyncpg connection whose every statement passes the tenant-scope check first: SQLAlchemy's
    ``before_cursor_execute`` event, where ``enforce_tenant_scope`` checks the rest, never sees
    them. A table copy counts as naming ``workspace_id`` when its columns do."""

    __slots__ = ("_check", "_driver")

    def __init__(self, driver: asyncpg.Connection, check: TenantScopeCheck) -> None:
        self._driver = driver
        self._check = check

    def __getattr__(self, name: str) -> object:
        attribute = getattr(self._driver, name)
        if name in _STATEMENT_METHODS:
            def checked(statement: str, *args: object, **kwargs: object) -> object:
                self._check(statement)
                return attribute(statement, *args, **kwargs)
            return checked
        if name in _TABLE_METHODS:
            def checked_copy(table_name: str, *args: object, columns: Sequence[str] | None = None,
                             **kwargs: object) -> object:
                self._check(f"COPY {table_name} ({', '.join(columns or ())})")
                return attribute(table_name, *args, columns=columns, **kwargs)
            return checked_copy
        return attribute
