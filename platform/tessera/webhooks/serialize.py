"""Webhooks and deliveries as the API shows them (``WebhookResponse``, ``DeliveryResponse``):
fields without a value are left out. Built as ordered JSON objects, not TypedDicts, because a
field that may be left out sits between fields that never are, and the responses keep their order."""

from __future__ import annotations

from typing import TypedDict

from tessera.webhooks.repository import Delivery, Webhook
from tessera.wire import JsonObject, JsonValue, iso


class TestDeliveryJson(TypedDict):
    message_id: str
    status: str


def test_delivery_to_json(message_id: str) -> TestDeliveryJson:
    """A test delivery just queued: pending."""
    return {"message_id": message_id, "status": "pending"}


def _present(fields: JsonObject) -> JsonObject:
    return {k: v for k, v in fields.items() if v is not None}


def webhook_to_json(webhook: Webhook, secret: str | None = None) -> JsonObject:
    """``secret`` only in the answers that just made it (create, rotate)."""
    return _present({
        "id": str(webhook.id), "url": webhook.url, "description": webhook.description,
        "events": list[JsonValue](webhook.events), "object_slugs": list[JsonValue](webhook.object_slugs),
        "filter": webhook.filter, "status": webhook.status, "disabled_reason": webhook.disabled_reason,
        "failing_since": iso(webhook.failing_since), "created_at": iso(webhook.created_at),
        "updated_at": iso(webhook.updated_at), "secret": secret})


def delivery_to_json(delivery: Delivery) -> JsonObject:
    """``next_attempt_at`` only while another attempt is to come."""
    waiting = delivery.status in ("pending", "retrying")
    return _present({
        "id": str(delivery.id), "message_id": delivery.message_id, "event_type": delivery.event_type,
        "status": delivery.status, "attempt": delivery.attempt,
        "next_attempt_at": iso(delivery.next_attempt_at) if waiting else None,
        "last_status_code": delivery.last_status_code, "last_latency_ms": delivery.last_latency_ms,
        "last_error": delivery.last_error, "response_excerpt": delivery.response_excerpt,
        "created_at": iso(delivery.created_at), "delivered_at": iso(delivery.delivered_at)})
