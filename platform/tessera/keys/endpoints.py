"""HTTP handlers of key management: parse, call the service, serialize."""

from __future__ import annotations

from typing import Any

from tessera import quotas
from tessera.clock import utcnow
from tessera.http.context import RequestContext
from tessera.keys import repository, service
from tessera.wire import parse_id


def _pepper(ctx: RequestContext) -> bytes:
    return ctx.state.settings.key_pepper.get_secret_value().encode()


def _granter(ctx: RequestContext) -> service.Granter:
    return service.Granter.of(ctx.principal, ctx.state.settings.rate_limit_default_per_minute)


def _forget_after_commit(ctx: RequestContext, prefix: str) -> None:
    async def forget() -> None:
        ctx.state.authenticator.invalidate(prefix)

    ctx.uow.after_commit(forget)


async def list_keys(ctx: RequestContext) -> dict[str, Any]:
    rows = await repository.list_keys(await ctx.tenant())
    return {"data": [service.public(r) for r in rows]}


async def create_key(ctx: RequestContext) -> dict[str, Any]:
    body = ctx.body
    await quotas.check_rows(await ctx.tenant(), "api_keys", "revoked_at IS NULL", quotas.Quota(
        ctx.state.settings.max_api_keys_per_workspace, "API keys", "MAX_API_KEYS_PER_WORKSPACE"))
    row, key = await service.create_key(
        await ctx.tenant(), _pepper(ctx), name=body.name, scopes=list(body.scopes),
        rate_limit_per_minute=body.rate_limit_per_minute, expires_at=body.expires_at,
        now=utcnow(ctx.state.clock), granter=_granter(ctx))
    return service.public(row, key)


async def get_key(ctx: RequestContext) -> dict[str, Any]:
    return service.public(await service.get_key(await ctx.tenant(), parse_id(ctx.path["id"])))


async def update_key(ctx: RequestContext) -> dict[str, Any]:
    changes = ctx.body.model_dump(exclude_unset=True)
    row = await service.update_key(await ctx.tenant(), parse_id(ctx.path["id"]), changes,
                                   now=utcnow(ctx.state.clock), granter=_granter(ctx))
    _forget_after_commit(ctx, row["prefix"])
    return service.public(row)


async def revoke_key(ctx: RequestContext) -> None:
    row = await service.revoke_key(await ctx.tenant(), parse_id(ctx.path["id"]),
                                   now=utcnow(ctx.state.clock), granter=_granter(ctx))
    _forget_after_commit(ctx, row["prefix"])


async def rotate_key(ctx: RequestContext) -> dict[str, Any]:
    row, key, old_prefix = await service.rotate_key(
        await ctx.tenant(), _pepper(ctx), parse_id(ctx.path["id"]), now=utcnow(ctx.state.clock),
        granter=_granter(ctx))
    _forget_after_commit(ctx, old_prefix)
    return service.public(row, key)
