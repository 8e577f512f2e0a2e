"""Per-request state: the caller, the parsed input and its unit of work (a lazily opened transaction)."""

from __future__ import annotations

from typing import Any, Generic

from starlette.requests import Request
from typing_extensions import TypeVar

from schema_registry.workspace import WorkspaceSchema
from tessera.app_state import AppState
from tessera.changes import Actor, Changes, Stamp
from tessera.clock import utcnow
from tessera.db.tenant import Tenant
from tessera.http.idempotency import PendingUpload
from tessera.principal import Principal
from tessera.uow import UnitOfWork

Body = TypeVar("Body", default=Any)
Query = TypeVar("Query", default=Any)


class RequestContext(Generic[Body, Query]):
    """What a handler receives. ``body`` and ``query`` are the validated pydantic models of the
    endpoint (None when it declares none): a handler says which with ``RequestContext[Body,
    Query]``; ``path`` holds the path parameters as strings."""

    __slots__ = ("body", "path", "pending_upload", "principal", "query", "raw_body", "request", "state", "uow")

    def __init__(self, request: Request, state: AppState, principal: Principal) -> None:
        self.request = request
        self.state = state
        self.principal = principal
        self.body: Body = None  # type: ignore[assignment]  # set by the endpoint wrapper before the handler runs
        self.query: Query = None  # type: ignore[assignment]
        self.raw_body: bytes = b""
        self.pending_upload: PendingUpload | None = None
        """Set for an upload sent with an Idempotency-Key (see ``tessera.http.idempotency``)."""
        self.path: dict[str, str] = dict(request.path_params)
        stamp = Stamp(Actor("developer_api", str(principal.api_key_id)), utcnow(state.clock))
        self.uow = UnitOfWork(state.engine, principal.workspace_id, Changes(state.ids, stamp),
                              wake=state.redis.nudge, enqueue=state.redis.enqueue)

    @property
    def workspace_id(self) -> int:
        return self.principal.workspace_id

    async def schema(self) -> WorkspaceSchema:
        """The workspace's schema for reading (cached; opens the transaction only on a miss)."""
        cached = self.state.schemas.cached(self.principal.workspace_id)
        if cached is not None:
            return cached
        return await self.state.schemas.current(await self.tenant())

    @property
    def changes(self) -> Changes:
        """What this request's writes change (rendered and woken by its unit of work)."""
        return self.uow.changes

    async def tenant(self) -> Tenant:
        """The caller's workspace over this request's transaction."""
        return await self.uow.tenant()
