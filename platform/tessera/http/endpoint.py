"""Endpoints as data, and the one wrapper that runs every one of them.

An ``Endpoint`` declares its method, path, scope, input models and response model; the route
table (``tessera.routes``) is a list of them. ``build_routes`` groups them by path into Starlette
routes whose wrapper authenticates, checks the scope, applies the rate limit, parses and
validates the input, handles ``Idempotency-Key``, runs the handler inside the request's single
transaction and serializes the result. Handlers never see HTTP plumbing or write try/except.
"""

from __future__ import annotations

import asyncio
import hmac
import math
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta

from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tessera.app_state import AppState
from tessera.clock import utcnow
from tessera.errors import (
    BadRequest,
    Conflict,
    FieldError,
    Forbidden,
    TooManyRequests,
    Unauthorized,
    UnsupportedMediaType,
)
from tessera.http import idempotency
from tessera.http.context import RequestContext
from tessera.jsonio import dump_json, parse_json
from tessera.workspaces import find_erasure_receipt

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_URL_KEY_PARAMS = frozenset({"api_key", "apikey", "api-key", "key", "token", "access_token",
                             "authorization", "bearer"})


@dataclass(frozen=True, slots=True)
class RawJSON:
    """A handler result that is already serialized JSON (from a cache)."""

    body: bytes


Rendered = Mapping[str, object] | BaseModel | RawJSON | None
"""What ``_render`` serializes: a JSON object (a ``JsonObject``, or a TypedDict: mypy knows those
only as ``Mapping[str, object]``), a pydantic model, cached JSON, or nothing (an empty 200)."""
HandlerResult = Rendered | Response
"""What a handler may return: a rendered result, or a Starlette response it built itself (a stream,
a file, HTML)."""
Handler = Callable[[RequestContext], Awaitable[HandlerResult]]


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    handler: Handler
    scope: str
    operation_id: str
    summary: str
    tag: str
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    description: str = ""
    streaming: bool = False
    raw_body: bool = False
    """The handler reads the request body itself (uploads); no JSON parsing."""
    media: tuple[str, ...] = ()
    """Content types the 200 answer may have besides (or, when streaming, instead of) JSON."""
    upload_idempotency: bool = False
    """A raw-body upload whose Idempotency-Key the handler matches on the file it reads."""
    erases_workspace: bool = False
    """A replay with the same Idempotency-Key after success is answered from the erasure receipt."""


def format_loc(loc: Iterable[int | str]) -> str:
    """``("attributes", "emails", 0)`` -> ``attributes.emails[0]``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def validation_errors(err: ValidationError, prefix: str = "") -> list[FieldError]:
    errors = []
    for item in err.errors(include_url=False, include_input=False):
        loc = [p for p in item["loc"] if p not in ("function-after", "function-before")]
        path = format_loc([prefix, *loc] if prefix else loc)
        errors.append(FieldError(path or prefix or "body", item["msg"]))
    return errors


def _reject_keys_in_url(request: Request) -> None:
    for name, value in request.query_params.multi_items():
        if name.lower() in _URL_KEY_PARAMS or value.startswith("sk-"):
            raise BadRequest("API keys are never accepted in the URL; send 'Authorization: Bearer sk-...'")


_DEFAULT_QUERIES: dict[type[BaseModel], BaseModel] = {}


def _parse_query(model: type[BaseModel] | None, request: Request) -> BaseModel | None:
    if not request.scope.get("query_string") and model is not None:
        default = _DEFAULT_QUERIES.get(model)
        if default is None:
            default = _DEFAULT_QUERIES[model] = model.model_validate({})
        return default
    params = dict(request.query_params)
    if model is None:
        if params:
            names = ", ".join(sorted(params)[:5])
            raise BadRequest(f"Unknown query parameters: {names}",
                             errors=[FieldError(name, "unknown parameter") for name in sorted(params)[:20]])
        return None
    try:
        return model.model_validate(params)
    except ValidationError as err:
        raise BadRequest("Invalid query parameters", errors=validation_errors(err)) from err


def _parse_body(model: type[BaseModel], raw: bytes, request: Request, max_depth: int) -> BaseModel:
    content_type = request.headers.get("content-type", "")
    media = content_type.split(";", 1)[0].strip().lower()
    if raw.strip() and media and media != "application/json" and not media.endswith("+json"):
        raise UnsupportedMediaType()
    data = parse_json(raw, max_depth=max_depth) if raw.strip() else {}
    if not isinstance(data, dict):
        raise BadRequest("Request body must be a JSON object")
    try:
        return model.model_validate(data)
    except ValidationError as err:
        raise BadRequest("Invalid request body", errors=validation_errors(err)) from err


def _render(result: Rendered) -> tuple[int, bytes, dict[str, str]]:
    if isinstance(result, RawJSON):
        return 200, result.body, {}
    if result is None:
        return 200, b"", {}
    if isinstance(result, BaseModel):
        return 200, dump_json(result.model_dump(mode="json")), {}
    return 200, dump_json(result), {}


def _response(status: int, body: bytes, headers: dict[str, str]) -> Response:
    media = "application/json" if body else None
    return Response(content=body, status_code=status, headers=headers, media_type=media)


async def _rate_limit(request: Request, ctx: RequestContext) -> None:
    """The key's own bucket and its workspace's (all its keys together), checked in one round trip."""
    state = ctx.state
    principal = ctx.principal
    limit = principal.rate_limit_per_minute or state.settings.rate_limit_default_per_minute
    workspace_limit = state.settings.rate_limit_workspace_per_minute
    now = state.clock()
    decision, workspace = await asyncio.gather(
        state.redis.rate_limit(str(principal.api_key_id), limit=limit, period_s=60.0, now_s=now),
        state.redis.rate_limit(f"ws:{principal.workspace_id}", limit=workspace_limit, period_s=60.0, now_s=now))
    if decision is None:
        return
    request.scope["tessera.rate_headers"] = {
        "X-RateLimit-Limit": str(decision.limit),
        "X-RateLimit-Remaining": str(max(decision.remaining, 0)),
    }
    if not decision.allowed:
        retry_after = max(1, math.ceil(decision.retry_after_ms / 1000))
        raise TooManyRequests(f"Rate limit of {decision.limit} requests per minute exceeded; "
                              f"retry in {retry_after} s", retry_after=retry_after)
    if workspace is not None and not workspace.allowed:
        retry_after = max(1, math.ceil(workspace.retry_after_ms / 1000))
        raise TooManyRequests(f"This workspace's rate limit of {workspace.limit} requests per minute (all its keys "
                              f"together) is exceeded; retry in {retry_after} s", retry_after=retry_after)


async def _refuse_failed_authentication(request: Request, state: AppState, err: Unauthorized) -> None:
    """Count a failed authentication against the caller's address; past the limit the answer is
    429 instead of 401 (valid keys from that address are never refused by it)."""
    client = request.client.host if request.client is not None else "unknown"
    decision = await state.redis.rate_limit(f"authfail:{client}", limit=state.settings.auth_failures_per_ip_per_minute,
                                            period_s=60.0, now_s=state.clock())
    if decision is not None and not decision.allowed:
        retry_after = max(1, math.ceil(decision.retry_after_ms / 1000))
        raise TooManyRequests(f"Too many failed authentications from this address; retry in {retry_after} s",
                              retry_after=retry_after) from err


async def _replay_erasure(request: Request, state: AppState) -> Response | None:
    """A replayed workspace erasure: its key was erased with the workspace, so authentication
    fails; the receipt the erasure kept (found through that key and the Idempotency-Key) answers
    the first success, or 409 for a different request. None when there is no receipt."""
    raw_key = request.headers.get(idempotency.HEADER)
    token = request.headers.get("authorization", "").partition(" ")[2].strip()
    if raw_key is None or not token:
        return None
    receipt = idempotency.erasure_receipt_hash(state.settings.key_pepper.get_secret_value().encode(), token,
                                               idempotency.check_key(raw_key))
    stored = await find_erasure_receipt(state.engine, receipt)
    if stored is None:
        return None
    raw = await request.body()
    if not hmac.compare_digest(stored, idempotency.request_fingerprint(
            request.method, request.url.path, request.url.query, raw)):
        raise Conflict("This Idempotency-Key was already used with a different request")
    return Response(status_code=200, headers={"Idempotent-Replayed": "true"})


async def _run(endpoint: Endpoint, request: Request) -> Response:
    state: AppState = request.app.state.tessera
    _reject_keys_in_url(request)
    try:
        principal = await state.authenticator.authenticate(request.headers.get("authorization"))
    except Unauthorized as err:
        if endpoint.erases_workspace:
            replayed = await _replay_erasure(request, state)
            if replayed is not None:
                return replayed
        await _refuse_failed_authentication(request, state, err)
        raise
    request.scope["tessera.principal"] = principal
    if endpoint.scope not in principal.scopes:
        raise Forbidden(f"This API key lacks the required scope '{endpoint.scope}'")
    ctx = RequestContext(request, state, principal)
    await _rate_limit(request, ctx)
    ctx.query = _parse_query(endpoint.query, request)
    raw = await request.body() if request.method != "GET" and not endpoint.raw_body else b""
    ctx.raw_body = raw
    if endpoint.body is not None and not endpoint.raw_body:
        ctx.body = _parse_body(endpoint.body, raw, request, state.settings.max_json_depth)

    record = None
    idem_key = request.headers.get(idempotency.HEADER)
    if idem_key is not None and request.method in WRITE_METHODS and not endpoint.streaming \
            and not endpoint.raw_body:
        fingerprint = idempotency.request_fingerprint(
            request.method, request.url.path, request.url.query, raw)
        record = idempotency.IdempotencyRecord(
            state.settings.key_pepper.get_secret_value().encode(), principal.api_key_id,
            idempotency.check_key(idem_key), fingerprint)
    elif idem_key is not None and endpoint.upload_idempotency:
        ctx.pending_upload = idempotency.PendingUpload(
            state.settings.key_pepper.get_secret_value().encode(), principal.api_key_id,
            idempotency.check_key(idem_key))
    try:
        if record is not None:
            replay = await record.begin(await ctx.tenant())
            if replay is not None:
                await ctx.uow.rollback()
                return _response(replay.status_code, replay.body,
                                 {**request.scope.get("tessera.rate_headers", {}),
                                  "Idempotent-Replayed": "true"})
        result = await endpoint.handler(ctx)
        if isinstance(result, Response):
            await ctx.uow.commit()
            result.headers.update(request.scope.get("tessera.rate_headers", {}))
            return result
        status, body, headers = _render(result)
        if record is None and ctx.pending_upload is not None:
            record = ctx.pending_upload.record
        if record is not None and 200 <= status < 300:
            await record.store(await ctx.tenant(), status, body, utcnow(state.clock),
                               timedelta(hours=state.settings.idempotency_ttl_hours))
        await ctx.uow.commit()
    except BaseException:
        await ctx.uow.rollback()
        raise
    return _response(status, body, {**request.scope.get("tessera.rate_headers", {}), **headers})


def build_routes(endpoints: Iterable[Endpoint], prefix: str) -> list[Route]:
    """One Starlette route per path; its methods dispatch to the declared endpoints."""
    by_path: dict[str, dict[str, Endpoint]] = defaultdict(dict)
    for endpoint in endpoints:
        methods = by_path[endpoint.path]
        if endpoint.method in methods:
            raise ValueError(f"duplicate endpoint {endpoint.method} {endpoint.path}")
        methods[endpoint.method] = endpoint
    routes = []
    for path, methods in by_path.items():
        routes.append(Route(prefix + path, _dispatcher(methods), methods=sorted(methods),
                            name=next(iter(methods.values())).operation_id))
    return routes


def _dispatcher(methods: dict[str, Endpoint]) -> Callable[[Request], Awaitable[Response]]:
    async def dispatch(request: Request) -> Response:
        method = "GET" if request.method == "HEAD" else request.method
        return await _run(methods[method], request)

    return dispatch
