"""Per-process cache of each workspace's schema.

Reads use the cached schema while it is younger than ``schema_cache_seconds`` and no change has
been announced (see ``tessera.db.notify``). Writes of records call ``for_write``, which takes a
key-share lock on the workspace row (schema changes take an exclusive one) and compares the
version, so a write always validates against exactly the schema that is current while it runs.
"""

from __future__ import annotations

from dataclasses import dataclass

from schema_registry.workspace import WorkspaceSchema
from tessera.clock import Clock
from tessera.db.tenant import Tenant
from tessera.registry import repository


@dataclass(slots=True)
class _Entry:
    schema: WorkspaceSchema
    fetched_at: float


class SchemaCache:
    def __init__(self, *, ttl_seconds: float, clock: Clock, max_workspaces: int = 10_000) -> None:
        self._ttl = ttl_seconds
        self._clock = clock
        self._max = max_workspaces
        self._entries: dict[int, _Entry] = {}

    def invalidate(self, payload: str | None) -> None:
        """Listener for invalidation announcements (``schema:<workspace id>``; None = all)."""
        if payload is None:
            self._entries.clear()
        elif payload.startswith("schema:"):
            self.forget(int(payload.removeprefix("schema:")))

    def forget(self, workspace_id: int) -> None:
        self._entries.pop(workspace_id, None)

    def cached(self, workspace_id: int) -> WorkspaceSchema | None:
        """The cached schema if it is fresh enough for a read, without touching the database."""
        entry = self._entries.get(workspace_id)
        if entry is not None and self._clock() - entry.fetched_at < self._ttl:
            return entry.schema
        return None

    async def current(self, tenant: Tenant) -> WorkspaceSchema:
        """The workspace's schema for a read (possibly a few seconds stale across processes)."""
        entry = self._entries.get(tenant.workspace_id)
        if entry is not None and self._clock() - entry.fetched_at < self._ttl:
            return entry.schema
        return await self._load(tenant)

    async def for_write(self, tenant: Tenant) -> WorkspaceSchema:
        """The exact current schema, held stable until the caller's transaction ends."""
        version = await repository.schema_version(tenant, lock="share")
        entry = self._entries.get(tenant.workspace_id)
        if entry is not None and entry.schema.version == version:
            return entry.schema
        return await self._load(tenant)

    async def for_change(self, tenant: Tenant) -> WorkspaceSchema:
        """The exact current schema, locked against concurrent schema changes and record writes."""
        version = await repository.schema_version(tenant, lock="update")
        entry = self._entries.get(tenant.workspace_id)
        if entry is not None and entry.schema.version == version:
            return entry.schema
        return await self._load(tenant)

    async def _load(self, tenant: Tenant) -> WorkspaceSchema:
        schema = await repository.load_schema(tenant)
        if len(self._entries) >= self._max:
            self._entries.clear()
        self._entries[tenant.workspace_id] = _Entry(schema, self._clock())
        return schema
