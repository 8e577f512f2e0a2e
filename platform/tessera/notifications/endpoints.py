"""HTTP handlers of notifications: the feed, preferences and custom rules."""

from __future__ import annotations

from typing import TypedDict

from tessera.errors import BadRequest
from tessera.http.context import RequestContext
from tessera.notifications.models import (
    CreateCustomNotificationRuleRequest,
    FeedQuery,
    UpdateNotificationPreferencesRequest,
)
from tessera.notifications.serialize import PreferencesJson, RuleJson, item_to_json, preferences_to_json, rule_to_json
from tessera.notifications.service import NotificationService
from tessera.quotas import Quota
from tessera.wire import JsonObject, parse_id


class FeedJson(TypedDict):
    items: list[JsonObject]


class RulesJson(TypedDict):
    rules: list[RuleJson]


async def _service(ctx: RequestContext) -> NotificationService:
    settings = ctx.state.settings
    return NotificationService(await ctx.tenant(), ctx.changes.now, interpreter=ctx.state.rules,
                               rule_quota=Quota(settings.max_notification_rules_per_workspace,
                                                "custom notification rules", "MAX_NOTIFICATION_RULES_PER_WORKSPACE"))


async def get_feed(ctx: RequestContext[None, FeedQuery]) -> FeedJson:
    return {"items": [item_to_json(i) for i in await (await _service(ctx)).feed(ctx.query)]}


async def get_preferences(ctx: RequestContext[None, None]) -> PreferencesJson:
    return preferences_to_json(await (await _service(ctx)).preferences())


async def update_preferences(ctx: RequestContext[UpdateNotificationPreferencesRequest, None]) -> PreferencesJson:
    if not ctx.raw_body.strip():  # the spec requires a body ({} is one: it changes nothing)
        raise BadRequest("Request body must be a JSON object")
    return preferences_to_json(await (await _service(ctx)).update_preferences(ctx.body))


async def list_rules(ctx: RequestContext[None, None]) -> RulesJson:
    return {"rules": [rule_to_json(r) for r in await (await _service(ctx)).rules()]}


async def create_rule(ctx: RequestContext[CreateCustomNotificationRuleRequest, None]) -> RuleJson:
    service = await _service(ctx)
    (rule_id,) = await ctx.changes.ids.take(service.tenant.conn, 1)
    return rule_to_json(await service.create_rule(rule_id, ctx.body))


async def get_rule(ctx: RequestContext[None, None]) -> RuleJson:
    return rule_to_json(await (await _service(ctx)).rule(parse_id(ctx.path["id"])))


async def delete_rule(ctx: RequestContext[None, None]) -> None:
    await (await _service(ctx)).delete_rule(parse_id(ctx.path["id"]))
