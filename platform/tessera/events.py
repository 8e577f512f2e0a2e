"""Timeline events and outbox rows, gathered while a write runs and inserted in the same
transaction as the write (never after it): the record of what happened and the promise to fan
it out (search, webhooks) commit or vanish together with the change itself."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from tessera.db.tenant import Tenant

SEARCH = "search"
WEBHOOK = "webhook"


@dataclass(frozen=True, slots=True)
class Actor:
    """Who made a change, as timeline events report it (``created_by`` / ``created_by_id``)."""

    name: str
    id: str


@dataclass
class EventBatch:
    """Column-wise timeline and outbox rows (for ``unnest``)."""

    tl_id: list[int] = field(default_factory=list)
    tl_record: list[int] = field(default_factory=list)
    tl_resource_type: list[str] = field(default_factory=list)
    tl_resource_id: list[int] = field(default_factory=list)
    tl_event_type: list[str] = field(default_factory=list)
    tl_payload: list[str] = field(default_factory=list)
    ob_topic: list[str] = field(default_factory=list)
    ob_event_type: list[str] = field(default_factory=list)
    ob_aggregate_type: list[str] = field(default_factory=list)
    ob_aggregate_id: list[int] = field(default_factory=list)
    ob_payload: list[str] = field(default_factory=list)

    def timeline(self, event_id: int, record_id: int, resource_type: str, resource_id: int, event_type: str,
                 payload: dict[str, Any]) -> None:
        self.tl_id.append(event_id)
        self.tl_record.append(record_id)
        self.tl_resource_type.append(resource_type)
        self.tl_resource_id.append(resource_id)
        self.tl_event_type.append(event_type)
        self.tl_payload.append(orjson.dumps(payload).decode())

    def outbox(self, topic: str, event_type: str, aggregate_type: str, aggregate_id: int,
               payload: dict[str, Any] | None = None) -> None:
        self.ob_topic.append(topic)
        self.ob_event_type.append(event_type)
        self.ob_aggregate_type.append(aggregate_type)
        self.ob_aggregate_id.append(aggregate_id)
        self.ob_payload.append(orjson.dumps(payload or {}).decode())

    def webhook(self, event_type: str, aggregate_type: str, aggregate_id: int, data: dict[str, Any],
                state: dict[str, Any] | None = None) -> None:
        """Queue a webhook event. ``state`` (a record's stored values) lets the dispatcher apply
        subscription filters; it is never sent to receivers."""
        payload: dict[str, Any] = {"data": data}
        if state is not None:
            payload["state"] = state
        self.outbox(WEBHOOK, event_type, aggregate_type, aggregate_id, payload)

    def timeline_args(self) -> tuple[list[Any], ...]:
        return (self.tl_id, self.tl_record, self.tl_resource_type, self.tl_resource_id, self.tl_event_type,
                self.tl_payload)

    def outbox_args(self) -> tuple[list[Any], ...]:
        return (self.ob_topic, self.ob_event_type, self.ob_aggregate_type, self.ob_aggregate_id, self.ob_payload)


TIMELINE_CTE = """events AS (
    INSERT INTO timeline_events (workspace_id, id, record_id, resource_type, resource_id, event_type, payload,
                                 actor, actor_id, created_at)
    SELECT $1, e.id, e.record_id, e.resource_type, e.resource_id, e.event_type, e.payload, {actor}, {actor_id},
           {now}
    FROM unnest({a}::bigint[], {b}::bigint[], {c}::text[], {d}::bigint[], {e}::text[], {f}::jsonb[])
         AS e(id, record_id, resource_type, resource_id, event_type, payload)
)"""

OUTBOX_CTE = """outbox_rows AS (
    INSERT INTO outbox (workspace_id, topic, event_type, aggregate_type, aggregate_id, payload)
    SELECT $1, o.topic, o.event_type, o.aggregate_type, o.aggregate_id, o.payload
    FROM unnest({a}::text[], {b}::text[], {c}::text[], {d}::bigint[], {e}::jsonb[])
         AS o(topic, event_type, aggregate_type, aggregate_id, payload)
)"""


def event_ctes(first_param: int, actor: str, actor_id: str, now: str) -> tuple[str, int]:
    """The two CTEs inserting an ``EventBatch``; their 11 parameters start at ``first_param``.
    Returns the SQL and the next free parameter number."""
    n = first_param
    timeline = TIMELINE_CTE.format(actor=actor, actor_id=actor_id, now=now,
                                   **{k: f"${n + i}" for i, k in enumerate("abcdef")})
    outbox = OUTBOX_CTE.format(**{k: f"${n + 6 + i}" for i, k in enumerate("abcde")})
    return f"{timeline},\n{outbox}", n + 11


async def flush(tenant: Tenant, batch: EventBatch, actor: Actor, now: Any) -> None:
    """Insert a batch on its own (writes that have no statement of their own to ride on)."""
    if not batch.tl_id and not batch.ob_topic:
        return
    ctes, _ = event_ctes(2, "$13", "$14", "$15")
    await tenant.fetch(f"WITH {ctes} SELECT 1", *batch.timeline_args(), *batch.outbox_args(),
                       actor.name, actor.id, now)
