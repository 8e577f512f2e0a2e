"""HTTP handlers of integrations, and the OAuth callback: the one route here that no API key
authenticates. The provider sends the user's browser there; its single-use ``state`` (256 random
bits, kept only as a hash, bound to one workspace and one connect flow, valid 10 minutes) is what
authorizes it. It answers an HTML page with no token or code in it, or a 400."""

from __future__ import annotations

import math

import httpx
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from tessera.app_state import AppState
from tessera.changes import Actor, Changes, Stamp
from tessera.clock import utcnow
from tessera.errors import BadRequest, TooManyRequests
from tessera.http.context import RequestContext
from tessera.integrations import providers
from tessera.integrations.serialize import (
    connect_state_to_json,
    connection_to_json,
    integration_to_json,
    started_to_json,
)
from tessera.integrations.service import IntegrationService
from tessera.jsonio import dump_json
from tessera.uow import transaction
from tessera.wire import JsonObject, parse_id

CONNECTS_PER_MINUTE = 10
"""Connect flows one workspace may start per minute (the spec's limit)."""
_CONNECTED_PAGE = ("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Connected</title></head>"
                   "<body><p>The account is connected to Tessera. You can close this window.</p></body></html>")


def _http(state: AppState) -> httpx.AsyncClient:
    return httpx.AsyncClient(timeout=state.settings.integrations_http_timeout_seconds, follow_redirects=False)


async def _service(ctx: RequestContext) -> IntegrationService:
    return IntegrationService(await ctx.tenant(), ctx.changes, ctx.state.settings)


async def list_integrations(ctx: RequestContext[None, None]) -> Response:
    """A JSON array, as the spec has it."""
    listed = await (await _service(ctx)).catalogue()
    return Response(dump_json([integration_to_json(i) for i in listed]), media_type="application/json")


async def start_connect(ctx: RequestContext[None, None]) -> JsonObject:
    service = await _service(ctx)
    decision = await ctx.state.redis.rate_limit(f"integration-connect:{ctx.workspace_id}", limit=CONNECTS_PER_MINUTE,
                                                period_s=60.0, now_s=ctx.state.clock())
    if decision is not None and not decision.allowed:
        retry_after = max(1, math.ceil(decision.retry_after_ms / 1000))
        raise TooManyRequests(f"At most {CONNECTS_PER_MINUTE} connects per minute; retry in {retry_after} s",
                              retry_after=retry_after)
    return started_to_json(await service.start(ctx.path["type"], ctx.path["provider"]))


async def connect_status(ctx: RequestContext[None, None]) -> JsonObject:
    return connect_state_to_json(await (await _service(ctx)).status(ctx.path["connect_id"]))


async def disconnect(ctx: RequestContext[None, None]) -> None:
    service = await _service(ctx)
    async with _http(ctx.state) as http:
        await service.disconnect(http, parse_id(ctx.path["connection_id"]))


async def sync_connection(ctx: RequestContext[None, None]) -> JsonObject:
    connection, sync = await (await _service(ctx)).sync(parse_id(ctx.path["connection_id"]))
    return {"connection": connection_to_json(connection, sync)}


async def oauth_callback(request: Request) -> Response:
    """``GET .../oauth/callback?code=...&state=...`` (or ``?error=...&state=...``)."""
    state: AppState = request.app.state.tessera
    params = request.query_params
    parsed = providers.parse_state(params.get("state", ""))
    if parsed is None:
        await _count_failure(request, state)
        raise BadRequest("The connection failed: unknown, already used or expired state")
    workspace_id, value = parsed
    changes = Changes(state.ids, Stamp(Actor("integration_connect", ""), utcnow(state.clock)))
    async with transaction(state.engine, workspace_id, changes, wake=state.redis.nudge,
                           enqueue=state.redis.enqueue) as tenant, _http(state) as http:
        outcome = await IntegrationService(tenant, changes, state.settings).complete(
            http, state=value, code=params.get("code"), error=params.get("error"))
    if outcome.problem is not None:  # the flow is marked failed (committed): its state is used
        if outcome.unknown_state:
            await _count_failure(request, state)
        raise BadRequest(f"The connection failed: {outcome.problem}")
    return HTMLResponse(_CONNECTED_PAGE, headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})


async def _count_failure(request: Request, state: AppState) -> None:
    """A callback with a state that is none of ours counts against the caller's address like a
    failed authentication (the same bucket and limit); past it the answer is 429."""
    client = request.client.host if request.client is not None else "unknown"
    decision = await state.redis.rate_limit(f"authfail:{client}", limit=state.settings.auth_failures_per_ip_per_minute,
                                            period_s=60.0, now_s=state.clock())
    if decision is not None and not decision.allowed:
        retry_after = max(1, math.ceil(decision.retry_after_ms / 1000))
        raise TooManyRequests(f"Too many failed attempts from this address; retry in {retry_after} s",
                              retry_after=retry_after)


def callback_routes(prefix: str) -> list[Route]:
    """The public route (outside the route table, which authenticates every entry by API key)."""
    return [Route(prefix + "/v1/integrations/oauth/callback", oauth_callback, methods=["GET"],
                  name="integrationOAuthCallback")]
