"""Per-request state: the caller, the parsed input and a lazily opened transaction."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncTransaction
from starlette.requests import Request

from schema_registry.workspace import WorkspaceSchema
from tessera.app_state import AppState
from tessera.db.engine import translated
from tessera.db.tenant import Tenant
from tessera.http.idempotency import PendingUpload
from tessera.principal import Principal


class UnitOfWork:
    """One request, one transaction: opened on first use, committed by the endpoint wrapper
    after the handler returns, rolled back on any error. Work queued with ``after_commit``
    runs only once the commit succeeded."""

    def __init__(self, state: AppState) -> None:
        self._state = state
        self.conn: AsyncConnection | None = None
        self._tx: AsyncTransaction | None = None
        self._after_commit: list[Callable[[], Awaitable[Any]]] = []

    async def connection(self) -> AsyncConnection:
        if self.conn is None:
            async with translated():
                self.conn = await self._state.engine.connect()
                self._tx = await self.conn.begin()
        return self.conn

    def after_commit(self, job: Callable[[], Awaitable[Any]]) -> None:
        self._after_commit.append(job)

    async def commit(self) -> None:
        if self._tx is not None:
            async with translated():
                await self._tx.commit()
        await self._close()
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


class RequestContext:
    """What a handler receives. ``body`` and ``query`` are the validated pydantic models of the
    endpoint (None when it declares none); ``path`` holds the path parameters as strings."""

    __slots__ = ("body", "path", "pending_upload", "principal", "query", "raw_body", "request", "state", "uow")

    def __init__(self, request: Request, state: AppState, principal: Principal) -> None:
        self.request = request
        self.state = state
        self.principal = principal
        self.body: Any = None
        self.query: Any = None
        self.raw_body: bytes = b""
        self.pending_upload: PendingUpload | None = None
        """Set for an upload sent with an Idempotency-Key (see ``tessera.http.idempotency``)."""
        self.path: dict[str, str] = dict(request.path_params)
        self.uow = UnitOfWork(state)

    @property
    def workspace_id(self) -> int:
        return self.principal.workspace_id

    async def schema(self) -> WorkspaceSchema:
        """The workspace's schema for reading (cached; opens the transaction only on a miss)."""
        cached = self.state.schemas.cached(self.principal.workspace_id)
        if cached is not None:
            return cached
        return await self.state.schemas.current(await self.tenant())

    async def tenant(self) -> Tenant:
        """The caller's workspace over this request's transaction."""
        return Tenant(await self.uow.connection(), self.principal.workspace_id)
