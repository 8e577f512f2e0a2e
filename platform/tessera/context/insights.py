"""Reading insights: windows (``last``/``from``/``to``) and the names of the records they are about."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from schema_registry.workspace import WorkspaceSchema
from tessera.context import repository
from tessera.context.models import InsightsQuery
from tessera.context.repository import Insight
from tessera.db.tenant import Tenant
from tessera.errors import BadRequest, FieldError
from tessera.records.repository import get_records
from tessera.records.values import primary_value
from tessera.wire import parse_rfc3339

_WINDOW = re.compile(r"^(\d{1,6})(s|m|h|d|w)$")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}
MAX_WINDOW = timedelta(days=366)
INSIGHT_TYPES = ("buying_signal", "risk", "objection", "timeline", "budget", "sentiment", "next_step")


@dataclass(frozen=True, slots=True)
class EntityRef:
    """A record an insight names: its id, display name and object slug."""

    id: int
    name: str
    type: str


@dataclass(frozen=True, slots=True)
class NamedInsight:
    """An insight and the records it names that still exist, in its order."""

    insight: Insight
    entities: tuple[EntityRef, ...]


def window(query: InsightsQuery, now: datetime) -> tuple[datetime | None, datetime | None]:
    """The (from, to) bounds a listing asked for; 400 on malformed or contradictory values."""
    if query.last is not None and (query.from_ is not None or query.to is not None):
        raise BadRequest("Use either 'last' or 'from'/'to', not both", errors=[FieldError("last", "conflicts")])
    if query.last is not None:
        match = _WINDOW.match(query.last)
        if match is None:
            raise BadRequest("'last' must be a number and a unit (s, m, h, d, w), like 30m or 7d",
                             errors=[FieldError("last", "invalid duration")])
        span = timedelta(seconds=int(match.group(1)) * _UNIT[match.group(2)])
        if span > MAX_WINDOW or span.total_seconds() == 0:
            raise BadRequest("'last' must be between 1s and 366d", errors=[FieldError("last", "out of range")])
        return now - span, None
    bounds: list[datetime | None] = []
    for name, raw in (("from", query.from_), ("to", query.to)):
        if raw is None:
            bounds.append(None)
            continue
        try:
            bounds.append(parse_rfc3339(raw))
        except ValueError as err:
            raise BadRequest(f"'{name}' must be an RFC3339 date-time", errors=[FieldError(name, str(err))]) from err
    start, end = bounds
    if start is not None and end is not None and start > end:
        raise BadRequest("'from' must not be after 'to'", errors=[FieldError("from", "after 'to'")])
    return start, end


async def entity_refs(tenant: Tenant, schema: WorkspaceSchema, ids: Iterable[int]) -> dict[int, EntityRef]:
    """The records an insight names (deleted ones are left out)."""
    refs = {}
    for row in await get_records(tenant, sorted(set(ids))):
        obj = schema.object_by_id(row.object_id)
        if obj is not None:
            refs[row.id] = EntityRef(row.id, primary_value(obj, row.data), obj.slug)
    return refs


async def list_insights(tenant: Tenant, schema: WorkspaceSchema, *, start: datetime | None, end: datetime | None,
                        limit: int, after_id: int | None = None) -> list[NamedInsight]:
    """Newest first (or, with ``after_id``, the ones after it in creation order, oldest first)."""
    insights = await repository.list_insights(tenant, start=start, end=end, limit=limit, after_id=after_id)
    refs = await entity_refs(tenant, schema, (i for insight in insights for i in insight.entity_ids))
    return [NamedInsight(insight, tuple(refs[i] for i in insight.entity_ids if i in refs)) for insight in insights]
