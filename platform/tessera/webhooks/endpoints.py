"""HTTP handlers of webhooks."""

from __future__ import annotations

from typing import TypedDict

from tessera.http.context import RequestContext
from tessera.quotas import Quota
from tessera.webhooks.models import CreateWebhookRequest, DeliveriesQuery, UpdateWebhookRequest
from tessera.webhooks.serialize import TestDeliveryJson, delivery_to_json, test_delivery_to_json, webhook_to_json
from tessera.webhooks.service import WebhookService
from tessera.wire import JsonObject, parse_id


class WebhookListJson(TypedDict):
    data: list[JsonObject]


class DeliveriesJson(TypedDict):
    data: list[JsonObject]
    has_more: bool


def _allow_hosts(ctx: RequestContext) -> frozenset[str]:
    raw = ctx.state.settings.webhook_allow_hosts
    return frozenset(h.strip().lower() for h in raw.split(",") if h.strip())


async def _service(ctx: RequestContext) -> WebhookService:
    return WebhookService(await ctx.tenant(), ctx.state.schemas, ctx.changes,
                          pepper=ctx.state.settings.key_pepper.get_secret_value().encode(),
                          allow_hosts=_allow_hosts(ctx),
                          scopes=ctx.principal.scopes,
                          quota=Quota(ctx.state.settings.max_webhooks_per_workspace, "webhooks",
                                      "MAX_WEBHOOKS_PER_WORKSPACE"))


async def list_webhooks(ctx: RequestContext[None, None]) -> WebhookListJson:
    return {"data": [webhook_to_json(w) for w in await (await _service(ctx)).all()]}


async def create_webhook(ctx: RequestContext[CreateWebhookRequest, None]) -> JsonObject:
    webhook, secret = await (await _service(ctx)).create(ctx.body)
    return webhook_to_json(webhook, secret)


async def get_webhook(ctx: RequestContext[None, None]) -> JsonObject:
    return webhook_to_json(await (await _service(ctx)).get(parse_id(ctx.path["id"])))


async def update_webhook(ctx: RequestContext[UpdateWebhookRequest, None]) -> JsonObject:
    return webhook_to_json(await (await _service(ctx)).update(parse_id(ctx.path["id"]), ctx.body))


async def delete_webhook(ctx: RequestContext[None, None]) -> None:
    await (await _service(ctx)).delete(parse_id(ctx.path["id"]))


async def rotate_secret(ctx: RequestContext[None, None]) -> JsonObject:
    webhook, secret = await (await _service(ctx)).rotate(parse_id(ctx.path["id"]))
    return webhook_to_json(webhook, secret)


async def test_webhook(ctx: RequestContext[None, None]) -> TestDeliveryJson:
    return test_delivery_to_json(await (await _service(ctx)).test(parse_id(ctx.path["id"])))


async def list_deliveries(ctx: RequestContext[None, DeliveriesQuery]) -> DeliveriesJson:
    page = await (await _service(ctx)).deliveries(parse_id(ctx.path["id"]), ctx.query)
    return {"data": [delivery_to_json(d) for d in page.deliveries], "has_more": page.has_more}
