"""SQL for webhook subscriptions and their delivery log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TypedDict

import asyncpg
import orjson

from tessera.db.id_order import creation_page, order_by
from tessera.db.sql import WORKSPACE, Params
from tessera.db.tenant import Tenant
from tessera.wire import JsonObject


@dataclass(frozen=True, slots=True)
class Webhook:
    """A subscription (its sealed secret stays in the database)."""

    id: int
    url: str
    description: str
    events: tuple[str, ...]
    object_slugs: tuple[str, ...]
    filter: JsonObject | None
    status: str
    disabled_reason: str | None
    failing_since: datetime | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Delivery:
    """One message to one webhook, and how its attempts went so far."""

    id: int
    message_id: str
    event_type: str
    status: str
    attempt: int
    next_attempt_at: datetime
    last_status_code: int | None
    last_latency_ms: float | None
    last_error: str | None
    response_excerpt: str | None
    created_at: datetime
    delivered_at: datetime | None


class WebhookChanges(TypedDict, total=False):
    """The columns an update sets; a column left out keeps its value."""

    object_slugs: list[str]
    filter: str | None
    """The filter as JSON text (stored as jsonb), or None for none."""
    url: str
    events: list[str]
    description: str
    status: str
    disabled_reason: str | None
    failing_since: None


_COLUMNS = ("id, url, description, events, object_slugs, filter, status, disabled_reason, failing_since, "
            "created_at, updated_at")


def _webhook(row: asyncpg.Record) -> Webhook:
    flt = row["filter"]
    return Webhook(
        id=row["id"], url=row["url"], description=row["description"], events=tuple(row["events"]),
        object_slugs=tuple(row["object_slugs"]), filter=orjson.loads(flt) if isinstance(flt, str) else flt,
        status=row["status"], disabled_reason=row["disabled_reason"], failing_since=row["failing_since"],
        created_at=row["created_at"], updated_at=row["updated_at"])


def _delivery(row: asyncpg.Record) -> Delivery:
    return Delivery(
        id=row["id"], message_id=row["message_id"], event_type=row["event_type"], status=row["status"],
        attempt=row["attempt"], next_attempt_at=row["next_attempt_at"], last_status_code=row["last_status_code"],
        last_latency_ms=row["last_latency_ms"], last_error=row["last_error"],
        response_excerpt=row["response_excerpt"], created_at=row["created_at"], delivered_at=row["delivered_at"])


async def get_webhook(tenant: Tenant, webhook_id: int, *, lock: bool = False) -> Webhook | None:
    params = Params()
    row = await tenant.fetchrow(
        f"SELECT {_COLUMNS} FROM webhooks WHERE workspace_id = $1 AND id = {params.add(webhook_id)}"
        + (" FOR UPDATE" if lock else ""), *params.values)
    return _webhook(row) if row is not None else None


async def list_webhooks(tenant: Tenant) -> list[Webhook]:
    return [_webhook(r) for r in await tenant.fetch(
        f"SELECT {_COLUMNS} FROM webhooks WHERE workspace_id = $1 ORDER BY {order_by(tenant.workspace_id, 'id')}")]


async def insert_webhook(tenant: Tenant, webhook_id: int, *, url: str, description: str, events: list[str],
                         object_slugs: list[str], filter_json: str | None, sealed_secret: bytes,
                         now: datetime) -> Webhook:
    params = Params()
    values = ", ".join([*(params.add(v) for v in (webhook_id, url, description, events, object_slugs)),
                        params.add(filter_json, "jsonb"), params.add(sealed_secret)])
    at = params.add(now)
    row = await tenant.fetchrow(
        f"INSERT INTO webhooks (workspace_id, id, url, description, events, object_slugs, filter, secret, "
        f"created_at, updated_at) VALUES ({WORKSPACE}, {values}, {at}, {at}) RETURNING {_COLUMNS}", *params.values)
    return _webhook(row)


async def update_webhook(tenant: Tenant, webhook_id: int, changes: WebhookChanges, now: datetime) -> Webhook:
    """Set ``changes`` and ``updated_at``; the webhook must exist."""
    params = Params()
    where = f"workspace_id = $1 AND id = {params.add(webhook_id)}"
    assignments = [f"{k} = {params.add(v, 'jsonb' if k == 'filter' else None)}" for k, v in changes.items()]
    assignments.append(f"updated_at = {params.add(now)}")
    row = await tenant.fetchrow(f"UPDATE webhooks SET {', '.join(assignments)} WHERE {where} RETURNING {_COLUMNS}",
                                *params.values)
    return _webhook(row)


async def delete_webhook(tenant: Tenant, webhook_id: int) -> None:
    """Delete a subscription and its delivery log. The deliveries go first, in their own statement:
    the sender locks a delivery, then its webhook (``failing_since``), and a cascade from the
    webhook would take the two in the other order and deadlock with a send in flight (seen as a
    503 on DELETE while a receiver was timing out)."""
    params = Params()
    webhook = params.add(webhook_id)
    await tenant.fetch(f"DELETE FROM webhook_deliveries WHERE workspace_id = $1 AND webhook_id = {webhook}",
                       *params.values)
    await tenant.fetch(f"DELETE FROM webhooks WHERE workspace_id = $1 AND id = {webhook}", *params.values)


async def set_secret(tenant: Tenant, webhook_id: int, sealed_secret: bytes, now: datetime) -> Webhook:
    params = Params()
    webhook = params.add(webhook_id)
    row = await tenant.fetchrow(
        f"UPDATE webhooks SET secret = {params.add(sealed_secret)}, updated_at = {params.add(now)} "
        f"WHERE workspace_id = $1 AND id = {webhook} RETURNING {_COLUMNS}", *params.values)
    return _webhook(row)


async def insert_test_delivery(tenant: Tenant, delivery_id: int, *, webhook_id: int, message_id: str,
                               payload: JsonObject, now: datetime) -> None:
    """A ``webhook.test`` delivery, due at once."""
    params = Params()
    values = ", ".join(params.add(v) for v in (delivery_id, webhook_id, message_id))
    body, at = params.add(orjson.dumps(payload).decode(), "jsonb"), params.add(now)
    await tenant.fetch(
        "INSERT INTO webhook_deliveries (workspace_id, id, webhook_id, message_id, event_type, payload, "
        f"next_attempt_at, created_at, updated_at) VALUES ({WORKSPACE}, {values}, 'webhook.test', {body}, {at}, {at}, "
        f"{at})", *params.values)


async def deliveries(tenant: Tenant, webhook_id: int, *, status: str | None, limit: int,
                     offset: int) -> list[Delivery]:
    """The webhook's deliveries (of ``status`` when given), newest first."""
    params = Params()
    where = f"workspace_id = $1 AND webhook_id = {params.add(webhook_id)}"
    if status is not None:
        where += f" AND status = {params.add(status)}"
    rows = await creation_page(
        tenant, "SELECT id, message_id, event_type, status, attempt, next_attempt_at, last_status_code, "
        f"last_latency_ms, last_error, response_excerpt, created_at, delivered_at FROM webhook_deliveries "
        f"WHERE {where}", params, newest_first=True, limit=limit, offset=offset)
    return [_delivery(r) for r in rows]
