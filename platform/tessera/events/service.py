"""The change stream's rules: which events a key may read (the webhook scope of each event
group), the filters, the cursor and one bounded page.

A cursor is an event's position in its workspace's stream (1, 2, 3... in commit order, never
reused). A page scans at most ``SCAN_WINDOW`` positions past its cursor however selective its
filters, so a request's work is bounded; its ``next_cursor`` says where the next one starts."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from schema_registry.workspace import WorkspaceSchema
from tessera.db.tenant import Tenant
from tessera.errors import BadRequest, FieldError, Forbidden, Gone
from tessera.events import repository
from tessera.events.repository import Head, StoredEvent
from tessera.webhooks.models import EVENT_TYPES
from tessera.webhooks.service import READ_SCOPE

SCAN_WINDOW = 10_000
"""Positions one page (or one read of a stream) looks at, at most."""
MAX_FILTER_VALUES = 50
_CURSOR = re.compile(r"^[0-9]{1,18}$")


@dataclass(frozen=True, slots=True)
class EventFilter:
    types: tuple[str, ...]
    """The event types to show: those asked for (all when none) that the key may read."""
    objects: tuple[str, ...] | None
    """Only events of these object or list slugs (None: any, including tasks and notes)."""


@dataclass(frozen=True, slots=True)
class EventPage:
    events: list[StoredEvent]
    next_cursor: int
    has_more: bool


def readable_types(scopes: frozenset[str]) -> tuple[str, ...]:
    """The event types a key with ``scopes`` may read: a group's events need the scope webhooks
    ask for it (``record.*`` and ``list_entry.*``: record.read; ``object.*`` and
    ``attribute.*``: object.read; ``task.*``: task.read; ``note.*``: note.read...)."""
    return tuple(t for t in EVENT_TYPES if READ_SCOPE[t.split(".", 1)[0]] in scopes)


def _values(raw: Sequence[str], name: str) -> list[str]:
    values = [v.strip() for item in raw for v in item.split(",") if v.strip()]
    if len(values) > MAX_FILTER_VALUES:
        raise BadRequest(f"At most {MAX_FILTER_VALUES} values of '{name}'",
                         errors=[FieldError(name, "too many values")])
    return values


def event_filter(objects: Sequence[str], types: Sequence[str], schema: WorkspaceSchema,
                 scopes: frozenset[str]) -> EventFilter:
    """The filter of a request's ``object`` and ``type`` parameters (each repeated or
    comma-separated): 400 for an unknown object or event type, 403 for a type the key may not read."""
    groups = {t.split(".", 1)[0] for t in EVENT_TYPES}
    wanted: set[str] = set()
    asked = _values(types, "type")
    for value in asked:
        if value == "*":
            wanted.update(EVENT_TYPES)
        elif value in EVENT_TYPES:
            wanted.add(value)
        elif value.endswith(".*") and value[:-2] in groups:
            wanted.update(t for t in EVENT_TYPES if t.startswith(value[:-1]))
        else:
            raise BadRequest(f"Unknown event type '{value[:60]}'", errors=[FieldError("type", "unknown event type")])
    readable = readable_types(scopes)
    if asked:
        missing = sorted({READ_SCOPE[t.split(".", 1)[0]] for t in wanted} - scopes)
        if missing:
            raise Forbidden("These event types need scopes this API key lacks: " + ", ".join(missing))
    chosen = tuple(t for t in readable if not asked or t in wanted)
    slugs = _values(objects, "object")
    for value in slugs:
        if schema.object(value) is None:
            raise BadRequest(f"Unknown object '{value[:60]}'", errors=[FieldError("object", "unknown object")])
    return EventFilter(chosen, tuple(sorted(set(slugs))) if slugs else None)


def parse_cursor(raw: str | None, name: str = "cursor") -> int | None:
    """The position a cursor names (None when there is none); 400 when it cannot be one."""
    if raw is None or raw == "":
        return None
    if not _CURSOR.match(raw):
        raise BadRequest("Invalid cursor: give an event id or a next_cursor", errors=[FieldError(name, "not a cursor")])
    return int(raw)


def check_cursor(cursor: int, head: Head, name: str = "cursor") -> None:
    """400 for a position this workspace has not reached (another workspace's, or made up);
    410 for one whose following events are past the retention."""
    if cursor > head.last:
        raise BadRequest("Unknown cursor: this workspace has no such event", errors=[FieldError(name, "unknown")])
    if cursor < head.purged_through:
        raise Gone("The events after this cursor are past the retention period; start again without a cursor")


async def current_head(tenant: Tenant) -> Head:
    """The workspace's head: every event at or below ``last`` is committed and numbered."""
    return await repository.head(tenant)


async def read_page(tenant: Tenant, flt: EventFilter, head: Head, *, after: int, limit: int) -> EventPage:
    """Up to ``limit`` events after position ``after`` (at most ``SCAN_WINDOW`` positions on)."""
    after = max(after, head.purged_through)
    until = min(after + SCAN_WINDOW, head.last)
    found = await repository.page(tenant, after=after, until=until, types=flt.types, objects=flt.objects,
                                  limit=limit) if flt.types and until > after else []
    next_cursor = found[-1].position if len(found) == limit else until
    return EventPage(found, next_cursor, next_cursor < head.last)


async def list_events(tenant: Tenant, flt: EventFilter, *, cursor: int | None, limit: int) -> EventPage:
    head = await current_head(tenant)
    if cursor is not None:
        check_cursor(cursor, head)
    return await read_page(tenant, flt, head, after=cursor if cursor is not None else head.purged_through,
                           limit=limit)
