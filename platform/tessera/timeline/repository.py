"""SQL for record timelines: a record's events, newest first, and which notes a reader may see."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg
import orjson

from tessera.db.id_order import creation_page
from tessera.db.sql import Params
from tessera.db.tenant import Tenant
from tessera.wire import JsonObject


@dataclass(frozen=True, slots=True)
class TimelineEvent:
    """One event of a record's timeline. ``children`` holds, newest first, the events a burst of
    updates folded into this one (``timeline.aggregate``); an event as stored has none."""

    id: int
    resource_type: str
    resource_id: int
    event_type: str
    payload: JsonObject
    actor: str
    actor_id: str
    created_at: datetime
    children: tuple[TimelineEvent, ...] = ()

    @property
    def is_aggregated(self) -> bool:
        return bool(self.children)


def _event(row: asyncpg.Record) -> TimelineEvent:
    payload = row["payload"]
    return TimelineEvent(
        id=row["id"], resource_type=row["resource_type"], resource_id=row["resource_id"],
        event_type=row["event_type"], payload=orjson.loads(payload) if isinstance(payload, str) else payload,
        actor=row["actor"], actor_id=row["actor_id"], created_at=row["created_at"])


async def record_events(tenant: Tenant, record_id: int, *, limit: int, before: int | None) -> list[TimelineEvent]:
    """Up to ``limit`` of the record's events, newest first, older than the event ``before`` (a
    cursor) when given."""
    params = Params()
    select = ("SELECT id, resource_type, resource_id, event_type, payload, actor, actor_id, created_at "
              f"FROM timeline_events WHERE workspace_id = $1 AND record_id = {params.add(record_id)}")
    rows = await creation_page(tenant, select, params, newest_first=True, limit=limit, after=before)
    return [_event(r) for r in rows]


async def unarchived_notes(tenant: Tenant, note_ids: Sequence[int]) -> set[int]:
    """Those of ``note_ids`` that are notes of this workspace and not archived."""
    params = Params()
    ids = params.add(list(note_ids), "bigint[]")
    rows = await tenant.fetch(
        f"SELECT id FROM notes WHERE workspace_id = $1 AND id = ANY({ids}) AND archived_at IS NULL", *params.values)
    return {r["id"] for r in rows}
