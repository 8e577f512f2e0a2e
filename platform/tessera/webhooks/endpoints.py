"""HTTP handlers of webhooks."""

from __future__ import annotations

from typing import Any

from tessera.http.context import RequestContext
from tessera.quotas import Quota
from tessera.webhooks.service import WebhookService, webhook_to_json


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


async def list_webhooks(ctx: RequestContext) -> dict[str, Any]:
    return {"data": [webhook_to_json(r) for r in await (await _service(ctx)).all()]}


async def create_webhook(ctx: RequestContext) -> dict[str, Any]:
    row, secret = await (await _service(ctx)).create(ctx.body)
    return webhook_to_json(row, secret)


async def get_webhook(ctx: RequestContext) -> dict[str, Any]:
    return webhook_to_json(await (await _service(ctx)).get(ctx.path["id"]))


async def update_webhook(ctx: RequestContext) -> dict[str, Any]:
    return webhook_to_json(await (await _service(ctx)).update(ctx.path["id"], ctx.body))


async def delete_webhook(ctx: RequestContext) -> None:
    await (await _service(ctx)).delete(ctx.path["id"])


async def rotate_secret(ctx: RequestContext) -> dict[str, Any]:
    row, secret = await (await _service(ctx)).rotate(ctx.path["id"])
    return webhook_to_json(row, secret)


async def test_webhook(ctx: RequestContext) -> dict[str, str]:
    return await (await _service(ctx)).test(ctx.path["id"])


async def list_deliveries(ctx: RequestContext) -> dict[str, Any]:
    data, has_more = await (await _service(ctx)).deliveries(ctx.path["id"], ctx.query)
    return {"data": data, "has_more": has_more}
