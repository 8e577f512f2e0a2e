"""Webhook subscriptions: create, change, rotate secrets, test, read the delivery log."""

from __future__ import annotations

from typing import Any

import orjson

from schema_registry.query import Changed, Condition, Node, Not, QueryError, parse_filter
from schema_registry.workspace import WorkspaceSchema
from tessera.changes import WEBHOOK, Changes
from tessera.db.id_order import creation_page, order_by
from tessera.db.tenant import Tenant
from tessera.errors import BadRequest, FieldError, Forbidden, NotFound
from tessera.quotas import Quota, check_rows
from tessera.registry import repository
from tessera.registry.cache import SchemaCache
from tessera.webhooks.address import UnsafeTarget, check_literal
from tessera.webhooks.models import EVENT_TYPES
from tessera.webhooks.signing import new_secret, seal
from tessera.wire import iso, parse_id

GROUPS = frozenset(e.split(".", 1)[0] for e in EVENT_TYPES)
READ_SCOPE = {"record": "record.read", "list_entry": "record.read", "task": "task.read", "note": "note.read",
              "insight": "insight.stream", "object": "object.read", "attribute": "object.read"}
"""The scope a key needs to read what each group's events carry: a key may subscribe only to those."""
assert set(READ_SCOPE) == GROUPS
_COLUMNS = ("id, url, description, events, object_slugs, filter, status, disabled_reason, failing_since, "
            "created_at, updated_at")


def webhook_to_json(row: Any, secret: str | None = None) -> dict[str, Any]:
    flt = row["filter"]
    out = {"id": str(row["id"]), "url": row["url"], "description": row["description"], "events": list(row["events"]),
           "object_slugs": list(row["object_slugs"]),
           "filter": orjson.loads(flt) if isinstance(flt, str) else flt, "status": row["status"],
           "disabled_reason": row["disabled_reason"], "failing_since": iso(row["failing_since"]),
           "created_at": iso(row["created_at"]), "updated_at": iso(row["updated_at"]), "secret": secret}
    return {k: v for k, v in out.items() if v is not None}


def matches_event(events: list[str], event_type: str) -> bool:
    group = event_type.split(".", 1)[0]
    return "*" in events or event_type in events or f"{group}.*" in events


def _check_events(events: list[str]) -> list[str]:
    for index, event in enumerate(events):
        if event == "*" or event in EVENT_TYPES or (event.endswith(".*") and event[:-2] in GROUPS):
            continue
        raise BadRequest(f"Unknown event type '{event[:60]}'",
                         errors=[FieldError(f"events[{index}]", "unknown event type")])
    return sorted(set(events))


def check_readable(events: list[str], scopes: frozenset[str]) -> None:
    """403 naming the scopes when the subscription covers events the key could not read itself."""
    groups = GROUPS if "*" in events else {e.split(".", 1)[0] for e in events}
    missing = sorted({READ_SCOPE[g] for g in groups} - scopes)
    if missing:
        raise Forbidden("A webhook can only cover events this API key can read; it lacks: " + ", ".join(missing))


def _uses_changed(node: Node) -> bool:
    if isinstance(node, Condition):
        return isinstance(node.operand, Changed)
    if isinstance(node, Not):
        return _uses_changed(node.child)
    return any(_uses_changed(child) for child in node.children)


class WebhookService:
    def __init__(self, tenant: Tenant, schemas: SchemaCache, changes: Changes, *, pepper: bytes,
                 allow_hosts: frozenset[str], scopes: frozenset[str],
                 quota: Quota | None = None) -> None:
        self.tenant = tenant
        self.quota = quota
        self.scopes = scopes
        """The calling key's scopes: what its subscriptions may cover."""
        self.schemas = schemas
        self.changes = changes
        self.ids = changes.ids
        self.pepper = pepper
        self.allow_hosts = allow_hosts
        self.now = changes.now

    def _check_url(self, url: str) -> str:
        try:
            check_literal(url, self.allow_hosts)
        except UnsafeTarget as err:
            raise BadRequest(f"Webhook URL refused: {err}", errors=[FieldError("url", str(err))]) from err
        return url

    def _check_scope(self, schema: WorkspaceSchema, slugs: list[str], raw_filter: Any) -> str | None:
        for index, slug in enumerate(slugs):
            if schema.object(slug) is None:
                raise BadRequest(f"Unknown object '{slug[:60]}'",
                                 errors=[FieldError(f"object_slugs[{index}]", "unknown object")])
        if raw_filter is None:
            return None
        if len(slugs) != 1:
            raise BadRequest("A filter needs exactly one entry in object_slugs",
                             errors=[FieldError("object_slugs", "give exactly one object with a filter")])
        obj = schema.object(slugs[0])
        assert obj is not None
        try:
            node = parse_filter(obj, raw_filter)
        except QueryError as err:
            raise BadRequest(f"Invalid filter: {err.message}", errors=[FieldError(err.path, err.message)]) from err
        if node is not None and _uses_changed(node):
            raise BadRequest("$changed cannot be used in webhook filters", errors=[FieldError("filter", "$changed")])
        return orjson.dumps(raw_filter).decode()

    async def _changed(self) -> None:
        """Writers learn whether the workspace has active webhooks from its schema."""
        await repository.bump_version(self.tenant)
        workspace_id = self.tenant.workspace_id
        self.schemas.forget(workspace_id)
        # Again after commit: a reader may have cached the old version meanwhile.
        self.changes.after_commit(lambda: self.schemas.forget(workspace_id))

    async def get(self, raw_id: str, *, lock: bool = False) -> dict[str, Any]:
        webhook_id = parse_id(raw_id)
        row = await self.tenant.fetchrow(
            f"SELECT {_COLUMNS} FROM webhooks WHERE workspace_id = $1 AND id = $2" + (" FOR UPDATE" if lock else ""),
            webhook_id) if webhook_id is not None else None
        if row is None:
            raise NotFound("Webhook not found")
        return dict(row)

    async def all(self) -> list[dict[str, Any]]:
        return [dict(r) for r in await self.tenant.fetch(
            f"SELECT {_COLUMNS} FROM webhooks WHERE workspace_id = $1 "
            f"ORDER BY {order_by(self.tenant.workspace_id, 'id')}")]

    async def create(self, body: Any) -> tuple[dict[str, Any], str]:
        events = _check_events(body.events)
        check_readable(events, self.scopes)
        schema = await self.schemas.for_change(self.tenant)
        if self.quota is not None:
            await check_rows(self.tenant, "webhooks", "true", self.quota)
        flt = self._check_scope(schema, body.object_slugs, body.filter)
        secret = new_secret()
        (webhook_id,) = await self.ids.take(self.tenant.conn, 1)
        row = await self.tenant.fetchrow(
            f"INSERT INTO webhooks (workspace_id, id, url, description, events, object_slugs, filter, secret, "
            f"created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9, $9) RETURNING {_COLUMNS}",
            webhook_id, self._check_url(body.url), body.description, events,
            sorted(set(body.object_slugs)), flt, seal(self.pepper, secret), self.now)
        await self._changed()
        return dict(row), secret

    async def update(self, raw_id: str, body: Any) -> dict[str, Any]:
        schema = await self.schemas.for_change(self.tenant)
        current = await self.get(raw_id, lock=True)
        changes = body.model_dump(exclude_unset=True)
        slugs = changes.get("object_slugs") if changes.get("object_slugs") is not None else current["object_slugs"]
        flt = changes["filter"] if "filter" in changes else (
            orjson.loads(current["filter"]) if isinstance(current["filter"], str) else current["filter"])
        values: dict[str, Any] = {"object_slugs": sorted(set(slugs)), "filter": self._check_scope(schema, slugs, flt)}
        if changes.get("url") is not None:
            values["url"] = self._check_url(changes["url"])
        if changes.get("events") is not None:
            values["events"] = _check_events(changes["events"])
        # Any change (a new URL above all) redirects what the subscription carries: the key making
        # it must be able to read all of it.
        check_readable(values.get("events", list(current["events"])), self.scopes)
        if changes.get("description") is not None:
            values["description"] = changes["description"]
        if changes.get("enabled") is not None:
            values["status"] = "active" if changes["enabled"] else "disabled"
            values["disabled_reason"] = None if changes["enabled"] else "disabled by API"
            if changes["enabled"]:
                values["failing_since"] = None
        assignments = ", ".join(f"{k} = ${i + 3}" + ("::jsonb" if k == "filter" else "")
                                for i, k in enumerate(values))
        row = await self.tenant.fetchrow(
            f"UPDATE webhooks SET {assignments}, updated_at = ${len(values) + 3} WHERE workspace_id = $1 AND id = $2 "
            f"RETURNING {_COLUMNS}", current["id"], *values.values(), self.now)
        await self._changed()
        return dict(row)

    async def delete(self, raw_id: str) -> None:
        await self.schemas.for_change(self.tenant)
        current = await self.get(raw_id, lock=True)
        await self.tenant.fetch("DELETE FROM webhooks WHERE workspace_id = $1 AND id = $2", current["id"])
        await self._changed()

    async def rotate(self, raw_id: str) -> tuple[dict[str, Any], str]:
        current = await self.get(raw_id, lock=True)
        check_readable(list(current["events"]), self.scopes)  # the secret lets its holder sign as us
        secret = new_secret()
        row = await self.tenant.fetchrow(
            f"UPDATE webhooks SET secret = $3, updated_at = $4 WHERE workspace_id = $1 AND id = $2 "
            f"RETURNING {_COLUMNS}",
            current["id"], seal(self.pepper, secret), self.now)
        return dict(row), secret

    async def test(self, raw_id: str) -> dict[str, str]:
        current = await self.get(raw_id)
        (delivery_id,) = await self.ids.take(self.tenant.conn, 1)
        message_id = f"msg_test_{delivery_id}"
        payload = {"type": "webhook.test", "timestamp": iso(self.now),
                   "data": {"webhook_id": str(current["id"]), "message": "Test delivery from Tessera"}}
        await self.tenant.fetch(
            "INSERT INTO webhook_deliveries (workspace_id, id, webhook_id, message_id, event_type, payload, "
            "next_attempt_at, created_at, updated_at) VALUES ($1, $2, $3, $4, 'webhook.test', $5::jsonb, $6, $6, $6)",
            delivery_id, current["id"], message_id, orjson.dumps(payload).decode(), self.now)
        self.changes.touch(WEBHOOK)  # the sender picks the delivery up when woken after commit
        return {"message_id": message_id, "status": "pending"}

    async def deliveries(self, raw_id: str, query: Any) -> tuple[list[dict[str, Any]], bool]:
        current = await self.get(raw_id)
        where = "workspace_id = $1 AND webhook_id = $2"
        args: list[Any] = [current["id"]]
        if query.status is not None:
            args.append(query.status)
            where += " AND status = $3"
        rows = await creation_page(
            self.tenant, "SELECT id, message_id, event_type, status, attempt, next_attempt_at, last_status_code, "
            f"last_latency_ms, last_error, response_excerpt, created_at, delivered_at FROM webhook_deliveries "
            f"WHERE {where}", args, newest_first=True, limit=query.limit + 1, offset=query.offset)
        out = []
        for row in rows[:query.limit]:
            item = {"id": str(row["id"]), "message_id": row["message_id"], "event_type": row["event_type"],
                    "status": row["status"], "attempt": row["attempt"],
                    "next_attempt_at": iso(row["next_attempt_at"]) if row["status"] in ("pending", "retrying")
                    else None, "last_status_code": row["last_status_code"], "last_latency_ms": row["last_latency_ms"],
                    "last_error": row["last_error"], "response_excerpt": row["response_excerpt"],
                    "created_at": iso(row["created_at"]), "delivered_at": iso(row["delivered_at"])}
            out.append({k: v for k, v in item.items() if v is not None})
        return out, len(rows) > query.limit
