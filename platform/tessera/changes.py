"""What a write did, said once: the domain events a write appends to its transaction's
``Changes``, rendered into timeline rows, outbox rows and webhook rows with the transaction's
actor and clock, and inserted in that transaction (never after it): the record of what happened
and the promise to fan it out (search, webhooks, memory) commit or vanish with the change itself.
After the commit, the unit of work wakes exactly the workers whose topics were written.

A record write inserts its own events in its single statement (``Changes.render`` ->
``EventRows.ctes``); other writes queue theirs (``Changes.add``), and the unit of work inserts
whatever is pending, in one statement, just before it commits (``Changes.flush``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

import orjson

from tessera.db.ids import IdAllocator
from tessera.db.sql import Params
from tessera.db.tenant import Tenant
from tessera.wire import JsonObject, JsonValue

SEARCH: Final = "search"
WEBHOOK: Final = "webhook"
MEMORY: Final = "memory"
WAKES: Final = {SEARCH: "relay_search", WEBHOOK: "webhook_job", MEMORY: "relay_memory"}
"""The worker function that drains each outbox topic (woken after commit; its sweep covers a
wake-up Redis never received)."""


@dataclass(frozen=True, slots=True)
class Actor:
    """Who made a change, as timeline events report it (``created_by`` / ``created_by_id``)."""

    name: str
    id: str


@dataclass(frozen=True, slots=True)
class Stamp:
    """Who writes and when: one per transaction, from the principal and the injected clock."""

    actor: Actor
    now: datetime


class BoundStamp:
    """A ``Stamp``'s placeholders in one statement: each bound on first use (a parameter the SQL
    never names would have no type), then shared by every CTE."""

    __slots__ = ("_actor", "_actor_id", "_now", "_params", "_stamp")

    def __init__(self, stamp: Stamp, params: Params) -> None:
        self._stamp = stamp
        self._params = params
        self._actor: str | None = None
        self._actor_id: str | None = None
        self._now: str | None = None

    @classmethod
    def bind(cls, stamp: Stamp, params: Params) -> BoundStamp:
        return cls(stamp, params)

    @property
    def actor(self) -> str:
        if self._actor is None:
            self._actor = self._params.add(self._stamp.actor.name, "text")
        return self._actor

    @property
    def actor_id(self) -> str:
        if self._actor_id is None:
            self._actor_id = self._params.add(self._stamp.actor.id, "text")
        return self._actor_id

    @property
    def now(self) -> str:
        if self._now is None:
            self._now = self._params.add(self._stamp.now, "timestamptz")
        return self._now


@dataclass
class EventRows:
    """Column-wise timeline and outbox rows (for ``unnest``), rendered from domain events."""

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
    ev_type: list[str] = field(default_factory=list)
    ev_aggregate_type: list[str] = field(default_factory=list)
    ev_aggregate_id: list[int] = field(default_factory=list)
    ev_object: list[str | None] = field(default_factory=list)
    ev_data: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.tl_record or self.ob_topic or self.ev_type)

    def timeline(self, record_id: int, resource_type: str, resource_id: int, event_type: str,
                 payload: Mapping[str, JsonValue]) -> None:
        """A timeline event on ``record_id``'s timeline (its id is drawn when the rows are taken)."""
        self.tl_record.append(record_id)
        self.tl_resource_type.append(resource_type)
        self.tl_resource_id.append(resource_id)
        self.tl_event_type.append(event_type)
        self.tl_payload.append(orjson.dumps(payload).decode())

    def outbox(self, topic: str, event_type: str, aggregate_type: str, aggregate_id: int,
               payload: Mapping[str, JsonValue] | None = None) -> None:
        self.ob_topic.append(topic)
        self.ob_event_type.append(event_type)
        self.ob_aggregate_type.append(aggregate_type)
        self.ob_aggregate_id.append(aggregate_id)
        self.ob_payload.append(orjson.dumps(payload or {}).decode())

    def webhook(self, event_type: str, aggregate_type: str, aggregate_id: int, data: Mapping[str, JsonValue],
                state: Mapping[str, JsonValue] | None = None, *, deliver: bool = True) -> None:
        """An event webhooks carry: always on the change stream (``events``), and an outbox row
        for the webhook fan-out when ``deliver`` (the workspace has webhooks). ``state`` (a
        record's stored values) lets the dispatcher apply subscription filters; it is never sent
        to receivers."""
        self.ev_type.append(event_type)
        self.ev_aggregate_type.append(aggregate_type)
        self.ev_aggregate_id.append(aggregate_id)
        self.ev_object.append(event_object(event_type, data, state))
        self.ev_data.append(orjson.dumps(data).decode())
        if not deliver:
            return
        payload: JsonObject = {"data": dict(data)}
        if state is not None:
            payload["state"] = dict(state)
        self.outbox(WEBHOOK, event_type, aggregate_type, aggregate_id, payload)

    def resource_change(self, resource: str, resource_id: int, kind: str, *, body: JsonObject, summary: JsonObject,
                        records: Sequence[int], changes: list[JsonObject] | None, webhooks: bool) -> None:
        """A note or task ``created``, ``updated`` or ``archived``: the ``<resource>.<kind>`` event
        carrying ``body`` (its response form; on the change stream, and to webhooks when
        ``webhooks``), and a ``kind`` event showing ``{resource: summary}``
        on the timeline of each of ``records``; both add ``field_changes`` when ``changes`` is given."""
        data = dict(body)
        if changes is not None:
            data["field_changes"] = list[JsonValue](changes)
        self.webhook(f"{resource}.{kind}", resource, resource_id, data, deliver=webhooks)
        payload: JsonObject = {resource: summary}
        if changes is not None:
            payload["field_changes"] = list[JsonValue](changes)
        for record_id in records:
            self.timeline(record_id, resource, resource_id, kind, payload)

    def ctes(self, params: Params, stamp: BoundStamp) -> list[str]:
        """The data-modifying CTEs inserting these rows (none when there are none)."""
        out = []
        if self.tl_record:
            rows = params.unnest([(self.tl_id, "bigint"), (self.tl_record, "bigint"),
                                  (self.tl_resource_type, "text"), (self.tl_resource_id, "bigint"),
                                  (self.tl_event_type, "text"), (self.tl_payload, "jsonb")])
            out.append(f"""events AS (
    INSERT INTO timeline_events (workspace_id, id, record_id, resource_type, resource_id, event_type, payload,
                                 actor, actor_id, created_at)
    SELECT $1, e.id, e.record_id, e.resource_type, e.resource_id, e.event_type, e.payload, {stamp.actor},
           {stamp.actor_id}, {stamp.now}
    FROM {rows} AS e(id, record_id, resource_type, resource_id, event_type, payload)
)""")
        if self.ob_topic:
            rows = params.unnest([(self.ob_topic, "text"), (self.ob_event_type, "text"),
                                  (self.ob_aggregate_type, "text"), (self.ob_aggregate_id, "bigint"),
                                  (self.ob_payload, "jsonb")])
            out.append(f"""outbox_rows AS (
    INSERT INTO outbox (workspace_id, topic, event_type, aggregate_type, aggregate_id, payload)
    SELECT $1, o.topic, o.event_type, o.aggregate_type, o.aggregate_id, o.payload
    FROM {rows} AS o(topic, event_type, aggregate_type, aggregate_id, payload)
)""")
        if self.ev_type:
            rows = params.unnest([(self.ev_type, "text"), (self.ev_aggregate_type, "text"),
                                  (self.ev_aggregate_id, "bigint"), (self.ev_object, "text"),
                                  (self.ev_data, "jsonb")])
            # Numbered (``position``) at commit by the ``number_events`` trigger (migration 0019).
            out.append(f"""stream_rows AS (
    INSERT INTO events (workspace_id, event_type, aggregate_type, aggregate_id, object_slug, data, created_at)
    SELECT $1, s.event_type, s.aggregate_type, s.aggregate_id, s.object_slug, s.data, {stamp.now}
    FROM {rows} WITH ORDINALITY AS s(event_type, aggregate_type, aggregate_id, object_slug, data, n)
    ORDER BY s.n
)""")
        return out


def event_object(event_type: str, data: Mapping[str, JsonValue], state: Mapping[str, JsonValue] | None) -> str | None:
    """The object slug an event concerns, as webhook subscriptions match it: the record's or list
    entry's object (list), the object of a schema event, None for tasks and notes."""
    if state is not None:
        slug = state.get("object_slug")
        return slug if isinstance(slug, str) else None
    key = "slug" if event_type.startswith("object.") else "object_slug" if event_type.startswith("attribute.") else ""
    value = data.get(key) if key else None
    return value if isinstance(value, str) else None


@dataclass(frozen=True, slots=True)
class Job:
    function: str
    args: tuple[int, ...]
    job_id: str


class DomainEvent(ABC):
    """Something that happened to the domain (a record created, a task updated...), which knows
    the timeline, outbox and webhook rows that tell of it."""

    __slots__ = ()

    @abstractmethod
    def render(self, rows: EventRows, *, webhooks: bool) -> None:
        """Append this event's rows; webhook rows only when the workspace has webhooks."""


class Changes:
    """The side effects of one transaction's writes: its stamp, the id source, the domain events
    not yet inserted, and the outbox topics written so far (woken after commit)."""

    __slots__ = ("_pending", "committed", "ids", "jobs", "stamp", "topics")

    def __init__(self, ids: IdAllocator, stamp: Stamp) -> None:
        self.ids = ids
        self.stamp = stamp
        self._pending: list[tuple[DomainEvent, bool]] = []
        self.topics: set[str] = set()
        self.committed: list[Callable[[], None]] = []
        """Run by the unit of work once the transaction committed (cache invalidations)."""
        self.jobs: list[Job] = []
        """Worker jobs for rows this transaction wrote, queued once it committed."""

    @property
    def actor(self) -> Actor:
        return self.stamp.actor

    @property
    def now(self) -> datetime:
        return self.stamp.now

    def add(self, *events: DomainEvent, webhooks: bool) -> None:
        """Queue events; ``webhooks``: the workspace has webhook subscriptions (else none are queued)."""
        self._pending.extend((event, webhooks) for event in events)

    async def render(self, tenant: Tenant, events: Sequence[DomainEvent], *, webhooks: bool) -> EventRows:
        """The rows of ``events`` (timeline ids drawn here), for a write that inserts them in its
        own statement. Their topics count as written."""
        rows = EventRows()
        for event in events:
            event.render(rows, webhooks=webhooks)
        return await self._taken(tenant, rows)

    async def flush(self, tenant: Tenant) -> None:
        """Insert every pending event, in one statement (writes with no statement of their own)."""
        if not self._pending:
            return
        rows = EventRows()
        for event, webhooks in self._pending:
            event.render(rows, webhooks=webhooks)
        self._pending.clear()
        rows = await self._taken(tenant, rows)
        if not rows:
            return
        params = Params()
        ctes = rows.ctes(params, BoundStamp.bind(self.stamp, params))
        await tenant.fetch(f"WITH {', '.join(ctes)} SELECT 1", *params.values)

    def touch(self, topic: str) -> None:
        """Count ``topic`` as written by a write that queues its work another way (a webhook test
        delivery is a delivery row of its own, not an outbox row)."""
        self.topics.add(topic)

    def after_commit(self, job: Callable[[], None]) -> None:
        self.committed.append(job)

    def enqueue(self, function: str, *args: int, job_id: str) -> None:
        """Queue a worker job for a row this transaction writes (an artifact, a list job) once it
        committed; the job's own row makes a lost enqueue good at the worker's next sweep."""
        self.jobs.append(Job(function, args, job_id))

    def mark(self) -> int:
        """A point to return to when a savepoint is rolled back (``discard_after``)."""
        return len(self._pending)

    def discard_after(self, mark: int) -> None:
        """Forget the events queued since ``mark`` (their writes were rolled back)."""
        del self._pending[mark:]

    async def _taken(self, tenant: Tenant, rows: EventRows) -> EventRows:
        if rows.tl_record:
            rows.tl_id = await self.ids.take(tenant.conn, len(rows.tl_record))
        self.topics.update(rows.ob_topic)
        return rows
