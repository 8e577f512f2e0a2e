"""SQL of the change stream: the workspace's head (last position given, highest purged) and pages
of numbered events (numbered at commit by the ``number_events`` trigger, migration 0019)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import orjson

from tessera.db.sql import Params
from tessera.db.tenant import Tenant
from tessera.wire import JsonObject


@dataclass(frozen=True, slots=True)
class Head:
    last: int
    """The last position given (0: none yet)."""
    purged_through: int
    """Every event at or below this position is gone (retention)."""


@dataclass(frozen=True, slots=True)
class StoredEvent:
    position: int
    event_type: str
    created_at: datetime
    data: JsonObject


async def head(tenant: Tenant) -> Head:
    row = await tenant.fetchrow("SELECT last_position, purged_through FROM event_heads WHERE workspace_id = $1")
    return Head(0, 0) if row is None else Head(int(row["last_position"]), int(row["purged_through"]))


async def page(tenant: Tenant, *, after: int, until: int, types: Sequence[str], objects: Sequence[str] | None,
               limit: int) -> list[StoredEvent]:
    """Events at positions in (``after``, ``until``] of ``types`` (and ``objects``), oldest first."""
    params = Params()
    where = [f"position > {params.add(after, 'bigint')}", f"position <= {params.add(until, 'bigint')}",
             f"event_type = ANY({params.add(list(types), 'text[]')})"]
    if objects is not None:
        where.append(f"object_slug = ANY({params.add(list(objects), 'text[]')})")
    rows = await tenant.fetch(
        f"SELECT position, event_type, created_at, data::text AS data FROM events WHERE workspace_id = $1 AND "
        f"{' AND '.join(where)} ORDER BY position LIMIT {params.add(limit, 'int')}", *params.values)
    return [StoredEvent(int(r["position"]), r["event_type"], r["created_at"], orjson.loads(r["data"])) for r in rows]
