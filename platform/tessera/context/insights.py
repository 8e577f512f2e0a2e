"""Reading insights: windows (``last``/``from``/``to``), entity names, the SSE payload shape."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import orjson

from schema_registry.workspace import WorkspaceSchema
from tessera.db.id_order import creation_page
from tessera.db.sql import Params
from tessera.db.tenant import Tenant
from tessera.errors import BadRequest, FieldError
from tessera.records.repository import get_records
from tessera.records.values import primary_value
from tessera.wire import iso, parse_rfc3339

_WINDOW = re.compile(r"^(\d{1,6})(s|m|h|d|w)$")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}
MAX_WINDOW = timedelta(days=366)
INSIGHT_TYPES = ("buying_signal", "risk", "objection", "timeline", "budget", "sentiment", "next_step")


def window(query: Any, now: datetime) -> tuple[datetime | None, datetime | None]:
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


async def entity_refs(tenant: Tenant, schema: WorkspaceSchema, ids: set[int]) -> dict[int, dict[str, str]]:
    """``{id, name, type}`` of the records an insight names (deleted ones are left out)."""
    refs = {}
    for row in await get_records(tenant, sorted(ids)):
        obj = schema.object_by_id(row.object_id)
        if obj is not None:
            refs[row.id] = {"id": str(row.id), "name": primary_value(obj, row.data), "type": obj.slug}
    return refs


def insight_to_json(row: Any, workspace_id: int, refs: dict[int, dict[str, str]]) -> dict[str, Any]:
    return {"id": str(row["id"]), "workspace_id": str(workspace_id), "content": row["content"], "type": row["type"],
            "entities": [refs[i] for i in row["entity_ids"] if i in refs], "created_at": iso(row["created_at"])}


async def list_insights(tenant: Tenant, schema: WorkspaceSchema, *, start: datetime | None, end: datetime | None,
                        limit: int, after_id: int | None = None) -> list[dict[str, Any]]:
    """Newest first (or, with ``after_id``, the ones after it in creation order, oldest first)."""
    params = Params()
    where = ["workspace_id = $1"]
    if start is not None:
        where.append(f"created_at >= {params.add(start)}")
    if end is not None:
        where.append(f"created_at <= {params.add(end)}")
    select = f"SELECT id, type, content, entity_ids, created_at FROM insights WHERE {' AND '.join(where)}"
    if after_id is not None:
        rows = await creation_page(tenant, select, params, newest_first=False, limit=limit, after=after_id)
    else:
        rows = await tenant.fetch(f"{select} ORDER BY created_at DESC, id DESC LIMIT {params.add(limit)}",
                                  *params.values)
    refs = await entity_refs(tenant, schema, {i for r in rows for i in r["entity_ids"]})
    return [insight_to_json(r, tenant.workspace_id, refs) for r in rows]


def stream_payload(workspace_id: int, workspace_name: str, insights: list[dict[str, Any]], now: datetime) -> bytes:
    """The ``data`` of an ``insight.replay`` / ``insight.batch.created`` event."""
    return orjson.dumps({"workspace": {"id": str(workspace_id), "name": workspace_name}, "insights": insights,
                         "insight_count": len(insights), "emitted_at": iso(now)})
