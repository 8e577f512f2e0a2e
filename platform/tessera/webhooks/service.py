"""Webhook subscriptions: create, change, rotate secrets, test, read the delivery log."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import orjson

from schema_registry.query import Changed, Condition, Node, Not, QueryError, parse_filter
from schema_registry.workspace import WorkspaceSchema
from tessera.changes import WEBHOOK, Changes
from tessera.db.tenant import Tenant
from tessera.errors import BadRequest, FieldError, Forbidden, NotFound
from tessera.quotas import Quota, check_rows
from tessera.registry import repository
from tessera.registry.cache import SchemaCache
from tessera.webhooks import repository as store
from tessera.webhooks.address import UnsafeTarget, check_literal
from tessera.webhooks.models import EVENT_TYPES, CreateWebhookRequest, DeliveriesQuery, UpdateWebhookRequest
from tessera.webhooks.repository import Delivery, Webhook, WebhookChanges
from tessera.webhooks.signing import new_secret, seal
from tessera.wire import JsonObject, iso

GROUPS = frozenset(e.split(".", 1)[0] for e in EVENT_TYPES)
READ_SCOPE = {"record": "record.read", "list_entry": "record.read", "task": "task.read", "note": "note.read",
              "insight": "insight.stream", "notification": "notification.read",
              "object": "object.read", "attribute": "object.read"}
"""The scope a key needs to read what each group's events carry: a key may subscribe only to those."""
assert set(READ_SCOPE) == GROUPS


@dataclass(frozen=True, slots=True)
class DeliveryPage:
    deliveries: list[Delivery]
    has_more: bool


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


def check_readable(events: Sequence[str], scopes: frozenset[str]) -> None:
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

    def _check_scope(self, schema: WorkspaceSchema, slugs: Sequence[str], raw_filter: JsonObject | None) -> str | None:
        """The filter as JSON text to store (None for none), once the object slugs and the filter are valid."""
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

    async def get(self, webhook_id: int | None, *, lock: bool = False) -> Webhook:
        """The webhook, or 404 (also for an id that cannot be one of ours: ``webhook_id`` None)."""
        webhook = await store.get_webhook(self.tenant, webhook_id, lock=lock) if webhook_id is not None else None
        if webhook is None:
            raise NotFound("Webhook not found")
        return webhook

    async def all(self) -> list[Webhook]:
        return await store.list_webhooks(self.tenant)

    async def create(self, body: CreateWebhookRequest) -> tuple[Webhook, str]:
        """The new webhook and its signing secret (the only time the caller sees it)."""
        events = _check_events(body.events)
        check_readable(events, self.scopes)
        schema = await self.schemas.for_change(self.tenant)
        if self.quota is not None:
            await check_rows(self.tenant, "webhooks", "true", self.quota)
        flt = self._check_scope(schema, body.object_slugs, body.filter)
        secret = new_secret()
        (webhook_id,) = await self.ids.take(self.tenant.conn, 1)
        webhook = await store.insert_webhook(
            self.tenant, webhook_id, url=self._check_url(body.url), description=body.description, events=events,
            object_slugs=sorted(set(body.object_slugs)), filter_json=flt, sealed_secret=seal(self.pepper, secret),
            now=self.now)
        await self._changed()
        return webhook, secret

    async def update(self, webhook_id: int | None, body: UpdateWebhookRequest) -> Webhook:
        """Apply what the request sends. A field it leaves out or sends as null keeps its value, but
        for ``filter``, which null removes."""
        schema = await self.schemas.for_change(self.tenant)
        current = await self.get(webhook_id, lock=True)
        slugs = body.object_slugs if body.object_slugs is not None else current.object_slugs
        flt = body.filter if "filter" in body.model_fields_set else current.filter
        values: WebhookChanges = {"object_slugs": sorted(set(slugs)), "filter": self._check_scope(schema, slugs, flt)}
        if body.url is not None:
            values["url"] = self._check_url(body.url)
        if body.events is not None:
            values["events"] = _check_events(body.events)
        # Every change (a new URL above all) redirects what the subscription carries: the key making
        # it must be able to read all of it.
        check_readable(values.get("events", current.events), self.scopes)
        if body.description is not None:
            values["description"] = body.description
        if body.enabled is not None:
            values["status"] = "active" if body.enabled else "disabled"
            values["disabled_reason"] = None if body.enabled else "disabled by API"
            if body.enabled:
                values["failing_since"] = None
        webhook = await store.update_webhook(self.tenant, current.id, values, self.now)
        await self._changed()
        return webhook

    async def delete(self, webhook_id: int | None) -> None:
        await self.schemas.for_change(self.tenant)
        # Not locked here: the delete takes the deliveries' locks before the webhook's, in the
        # sender's order (``delete_webhook``); a FOR UPDATE first deadlocked with a send in flight.
        current = await self.get(webhook_id)
        await store.delete_webhook(self.tenant, current.id)
        await self._changed()

    async def rotate(self, webhook_id: int | None) -> tuple[Webhook, str]:
        """The webhook with a new signing secret, and that secret; the old one stops signing."""
        current = await self.get(webhook_id, lock=True)
        check_readable(current.events, self.scopes)  # the secret lets its holder sign as us
        secret = new_secret()
        return await store.set_secret(self.tenant, current.id, seal(self.pepper, secret), self.now), secret

    async def test(self, webhook_id: int | None) -> str:
        """Queue a ``webhook.test`` delivery; returns its message id."""
        current = await self.get(webhook_id)
        (delivery_id,) = await self.ids.take(self.tenant.conn, 1)
        message_id = f"msg_test_{delivery_id}"
        await store.insert_test_delivery(
            self.tenant, delivery_id, webhook_id=current.id, message_id=message_id, now=self.now,
            payload={"type": "webhook.test", "timestamp": iso(self.now),
                     "data": {"webhook_id": str(current.id), "message": "Test delivery from Tessera"}})
        self.changes.touch(WEBHOOK)  # the sender picks the delivery up when woken after commit
        return message_id

    async def deliveries(self, webhook_id: int | None, query: DeliveriesQuery) -> DeliveryPage:
        """The webhook's delivery log, newest first: one page of ``query.limit``."""
        current = await self.get(webhook_id)
        found = await store.deliveries(self.tenant, current.id, status=query.status, limit=query.limit + 1,
                                       offset=query.offset)
        return DeliveryPage(found[:query.limit], len(found) > query.limit)
