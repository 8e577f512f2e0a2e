"""HTTP handlers of key management: parse, call the service, serialize."""

from __future__ import annotations

from typing import TypedDict

from tessera.clock import utcnow
from tessera.http.context import RequestContext
from tessera.keys import repository, service
from tessera.keys.models import CreateApiKeyRequest, UpdateApiKeyRequest
from tessera.keys.serialize import ApiKeyJson, key_to_json
from tessera.quotas import Quota
from tessera.wire import parse_id


class ApiKeyListJson(TypedDict):
    data: list[ApiKeyJson]


def _pepper(ctx: RequestContext) -> bytes:
    return ctx.state.settings.key_pepper.get_secret_value().encode()


def _granter(ctx: RequestContext) -> service.Granter:
    return service.Granter.of(ctx.principal, ctx.state.settings.rate_limit_default_per_minute)


def _forget_after_commit(ctx: RequestContext, prefix: str) -> None:
    async def forget() -> None:
        ctx.state.authenticator.invalidate(prefix)

    ctx.uow.after_commit(forget)


async def list_keys(ctx: RequestContext[None, None]) -> ApiKeyListJson:
    return {"data": [key_to_json(k) for k in await repository.list_keys(await ctx.tenant())]}


async def create_key(ctx: RequestContext[CreateApiKeyRequest, None]) -> ApiKeyJson:
    body = ctx.body
    row, key = await service.create_key(
        await ctx.tenant(), _pepper(ctx), name=body.name, scopes=body.scopes,
        rate_limit_per_minute=body.rate_limit_per_minute, expires_at=body.expires_at,
        now=utcnow(ctx.state.clock), granter=_granter(ctx),
        quota=Quota(ctx.state.settings.max_api_keys_per_workspace, "API keys", "MAX_API_KEYS_PER_WORKSPACE"))
    return key_to_json(row, key)


async def get_key(ctx: RequestContext[None, None]) -> ApiKeyJson:
    return key_to_json(await service.get_key(await ctx.tenant(), parse_id(ctx.path["id"])))


async def update_key(ctx: RequestContext[UpdateApiKeyRequest, None]) -> ApiKeyJson:
    row = await service.update_key(await ctx.tenant(), parse_id(ctx.path["id"]), ctx.body,
                                   now=utcnow(ctx.state.clock), granter=_granter(ctx))
    _forget_after_commit(ctx, row.prefix)
    return key_to_json(row)


async def revoke_key(ctx: RequestContext[None, None]) -> None:
    row = await service.revoke_key(await ctx.tenant(), parse_id(ctx.path["id"]),
                                   now=utcnow(ctx.state.clock), granter=_granter(ctx))
    _forget_after_commit(ctx, row.prefix)


async def rotate_key(ctx: RequestContext[None, None]) -> ApiKeyJson:
    row, key, old_prefix = await service.rotate_key(
        await ctx.tenant(), _pepper(ctx), parse_id(ctx.path["id"]), now=utcnow(ctx.state.clock),
        granter=_granter(ctx))
    _forget_after_commit(ctx, old_prefix)
    return key_to_json(row, key)
