"""Engine creation, database error translation and the tenant-scope guard of the tests.

Statements reach PostgreSQL through the engine built here: workspace-scoped ones through
``tessera.db.tenant.Tenant`` (SQLAlchemy, or its asyncpg connection on hot paths), the others
(workspace administration, maintenance, the workers' relays) on the engine's connections. Two
connections live outside it: ``tessera.db.notify``'s LISTEN connection and the session advisory
locks of ``workers.leases``.

Driver and SQLAlchemy exceptions are translated here (``translate_error``, ``translated``): a lost
connection becomes ``ServiceUnavailable`` (503), a value PostgreSQL refuses becomes ``BadRequest``
(400). Integrity errors are re-raised as ``IntegrityViolation`` so repositories can map a
constraint to the error a client should see (409 for uniqueness, 404 for a vanished parent...).
"""

from __future__ import annotations

import re
import weakref
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Final

import asyncpg
import orjson
import structlog
from sqlalchemy import Connection, Engine, event, text
from sqlalchemy.engine.interfaces import DBAPICursor, ExecutionContext
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from tessera.errors import BadRequest, Conflict, ServiceUnavailable, TesseraError
from tessera.settings import Settings

log = structlog.get_logger(__name__)

_UNAVAILABLE_SQLSTATES = {"57P01", "57P02", "57P03", "53300", "08000", "08003", "08006", "08001",
                          "08004", "40001", "40P01", "55P03", "57014"}
DEADLOCK_DETECTED: Final = "40P01"
_BAD_INPUT_SQLSTATE_CLASSES = ("22",)  # data exceptions: overflow, invalid datetime, bad encoding


class IntegrityViolation(Conflict):
    """A constraint refused a write. ``constraint`` names it so the caller can translate."""

    def __init__(self, constraint: str | None, sqlstate: str | None, detail: str | None) -> None:
        super().__init__("Conflict")
        self.constraint = constraint
        self.sqlstate = sqlstate
        self.detail = detail


def create_engine(settings: Settings, *, pool_size: int | None = None) -> AsyncEngine:
    """An asyncpg-backed engine with a bounded pool and a statement timeout."""
    engine = create_async_engine(
        settings.sqlalchemy_url,
        pool_size=pool_size if pool_size is not None else settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_pre_ping=False,
        pool_recycle=3600,
        json_deserializer=orjson.loads,  # jsonb columns (records.data...): ~4x faster than json.loads
        connect_args={
            "server_settings": {
                "statement_timeout": str(settings.db_statement_timeout_ms),
                "application_name": "tessera",
                "timezone": "UTC",
            },
            "command_timeout": settings.db_statement_timeout_ms / 1000 + 5,
        },
    )
    return engine


def sqlstate(err: BaseException | None) -> str | None:
    """The SQLSTATE behind a database failure (or a TesseraError translated from one), if any."""
    if err is None:
        return None
    return _sqlstate(err) or (_sqlstate(err.__cause__) if err.__cause__ is not None else None)


def _sqlstate(err: BaseException) -> str | None:
    orig = getattr(err, "orig", None)
    for candidate in (orig, getattr(orig, "__cause__", None), err):
        state = getattr(candidate, "sqlstate", None) or getattr(candidate, "pgcode", None)
        if isinstance(state, str):
            return state
    return None


def _constraint(err: BaseException) -> str | None:
    orig = getattr(err, "orig", None)
    for candidate in (getattr(orig, "__cause__", None), orig, err):
        name = getattr(candidate, "constraint_name", None)
        if isinstance(name, str):
            return name
    match = re.search(r'constraint "([^"]+)"', str(err))
    return match.group(1) if match else None


def translate_error(err: BaseException) -> TesseraError:
    """Map a driver/SQLAlchemy exception to the service's error tree (never leaking SQL)."""
    if isinstance(err, TesseraError):
        return err
    state = _sqlstate(err)
    if isinstance(err, IntegrityError) or (state is not None and state.startswith("23")):
        orig = getattr(err, "orig", None)
        detail = getattr(getattr(orig, "__cause__", None), "detail", None)
        return IntegrityViolation(_constraint(err), state, detail if isinstance(detail, str) else None)
    if state is not None and state.startswith(_BAD_INPUT_SQLSTATE_CLASSES):
        return BadRequest("A value could not be stored: it is outside the range or format the "
                          "database accepts")
    if state is not None and state.startswith("54"):
        return BadRequest("The request is too complex to execute")
    if state == "57014":  # statement_timeout: the database is up, the query was too slow
        return ServiceUnavailable("The query took longer than the database's time limit; narrow the filter "
                                  "or ask for a smaller page", retry_after=5)
    if (
        isinstance(err, (OperationalError, InterfaceError, ConnectionError, OSError, TimeoutError,
                         asyncpg.exceptions.PostgresConnectionError,
                         asyncpg.exceptions.InterfaceError))
        or (state is not None and state in _UNAVAILABLE_SQLSTATES)
        or (isinstance(err, DBAPIError) and err.connection_invalidated)
    ):
        return ServiceUnavailable("The database is unavailable, retry shortly")
    cause = err.__cause__
    if cause is not None and not isinstance(err, SQLAlchemyError):
        # SQLAlchemy's adapted DB-API error, raised outside a statement (the asyncpg adapter's
        # own BEGIN), is not a DBAPIError: judge it by the driver exception behind it.
        return translate_error(cause)
    log.error("database_error", error_type=type(err).__name__, sqlstate=state)
    return TesseraError()


@asynccontextmanager
async def translated() -> AsyncIterator[None]:
    """Run a block, translating any database failure into the service's error tree."""
    try:
        yield
    except TesseraError:
        raise
    except (DBAPIError, OperationalError, InterfaceError, asyncpg.PostgresError,
            asyncpg.exceptions.InterfaceError, ConnectionError, OSError, TimeoutError) as err:
        raise translate_error(err) from err


TenantScopeCheck = Callable[[str], None]
"""Raises ``AssertionError`` for a statement that touches a tenant table without ``workspace_id``."""

_tenant_scope_checks: weakref.WeakKeyDictionary[Engine, TenantScopeCheck] = weakref.WeakKeyDictionary()


def enforce_tenant_scope(engine: AsyncEngine, tenant_tables: frozenset[str]) -> None:
    """Refuse, before it reaches PostgreSQL, any statement that touches one of ``tenant_tables``
    (``tessera.db.tables.tenant_table_names()``) without naming ``workspace_id``: SQLAlchemy's
    statements (an engine event) and those a ``Tenant`` sends straight to the driver, which that
    event never sees (``Tenant.driver`` applies ``tenant_scope_check``). Enabled in tests so a
    forgotten scope fails loudly."""
    pattern = re.compile(r"\b(" + "|".join(sorted(tenant_tables)) + r")\b")

    def check(statement: str) -> None:
        if "workspace_id" not in statement and pattern.search(statement):
            raise AssertionError(f"statement touches a tenant table without workspace_id: {statement[:200]}")

    _tenant_scope_checks[engine.sync_engine] = check

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _check(conn: Connection, cursor: DBAPICursor, statement: str,
               params: Sequence[object] | Mapping[str, object], context: ExecutionContext | None,
               many: bool) -> None:
        check(statement)


def tenant_scope_check(conn: AsyncConnection) -> TenantScopeCheck | None:
    """The check ``enforce_tenant_scope`` installed on ``conn``'s engine; None when it is off."""
    return _tenant_scope_checks.get(conn.sync_engine)


async def ping(conn: AsyncConnection) -> None:
    await conn.execute(text("SELECT 1"))
