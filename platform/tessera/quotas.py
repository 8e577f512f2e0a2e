"""Per-workspace quotas: how much one tenant may keep (keys, webhooks, objects, attributes, stored
files) and run at once (import, export and AI jobs). Counts of stored things answer 409 with the
limit and the setting that sets it; concurrent jobs answer 429 with ``Retry-After``. Defaults are
far above what a real workspace uses and below what would let one tenant make every query of the
others slower (each object and attribute is in every schema load and validator)."""

from __future__ import annotations

from dataclasses import dataclass

from tessera.db.tenant import Tenant
from tessera.errors import Conflict, TooManyRequests


@dataclass(frozen=True, slots=True)
class Quota:
    limit: int
    what: str
    setting: str


def check_count(count: int, quota: Quota) -> None:
    """409 when a workspace already holds ``quota.limit`` of a thing and asks for one more."""
    if count >= quota.limit:
        raise Conflict(f"This workspace has reached its limit of {quota.limit} {quota.what} "
                       f"({quota.setting}); delete some first")


async def count_rows(tenant: Tenant, table: str, where: str, limit: int) -> int:
    """Rows of ``table`` in this workspace matching ``where``, counted up to ``limit``."""
    row = await tenant.fetch_one(
        f"SELECT count(*) FROM (SELECT 1 FROM {table} WHERE workspace_id = $1 AND {where} LIMIT {int(limit)}) AS q")
    return int(row[0])


async def check_rows(tenant: Tenant, table: str, where: str, quota: Quota) -> None:
    check_count(await count_rows(tenant, table, where, quota.limit), quota)


async def stored_file_bytes(tenant: Tenant) -> int:
    """Bytes of import and export files this workspace holds (``octet_length`` of a stored chunk
    reads its size from the TOAST header, not the data)."""
    row = await tenant.fetch_one(
        "SELECT (SELECT coalesce(sum(octet_length(data)), 0) FROM import_chunks WHERE workspace_id = $1) "
        "+ (SELECT coalesce(sum(octet_length(data)), 0) FROM export_chunks WHERE workspace_id = $1)")
    return int(row[0])


async def file_room(tenant: Tenant, quota: Quota) -> int:
    """Bytes this workspace may still store; 409 when it has none left."""
    stored = await stored_file_bytes(tenant)
    if stored >= quota.limit:
        raise Conflict(f"This workspace stores {stored} bytes of import and export files, its limit is "
                       f"{quota.limit} ({quota.setting}); wait for running imports to finish or exports to expire")
    return quota.limit - stored


async def check_running(tenant: Tenant, table: str, quota: Quota) -> None:
    """429 when ``quota.limit`` jobs of ``table`` are queued or running in this workspace."""
    running = await count_rows(tenant, table, "status IN ('pending', 'processing')", quota.limit)
    if running >= quota.limit:
        raise TooManyRequests(f"This workspace already has {running} {quota.what} queued or running "
                              f"(at most {quota.limit}, {quota.setting}); retry when one has finished",
                              retry_after=5)
