"""The one boundary where errors become HTTP: every failure answers
``{"code": <status>, "message": "..."[, "errors": [...]]}``; nothing else ever leaks."""

from __future__ import annotations

import asyncpg
import structlog
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from schema_registry.query import QueryError
from tessera.db.engine import translate_error
from tessera.errors import BadRequest, FieldError, ServiceUnavailable, TesseraError, TooManyRequests
from tessera.jsonio import dump_json
from tessera.wire import JsonObject, JsonValue

log = structlog.get_logger(__name__)

_HTTP_MESSAGES = {
    404: "Not found",
    405: "Method not allowed",
    413: "Request body too large",
    415: "Unsupported media type",
}


def error_response(status: int, message: str, *, errors: list[JsonValue] | None = None,
                   headers: dict[str, str] | None = None) -> Response:
    """The error body (``ErrorResponse``); ``errors`` are ``FieldError.as_json`` objects."""
    payload: JsonObject = {"code": status, "message": message}
    if errors:
        payload["errors"] = errors
    return Response(dump_json(payload), status_code=status, headers=headers,
                    media_type="application/json")


async def handle_tessera_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, TesseraError)
    headers = dict(request.scope.get("tessera.rate_headers", {}))
    if isinstance(exc, (TooManyRequests, ServiceUnavailable)):
        headers["Retry-After"] = str(exc.retry_after)
    if exc.status >= 500:
        log.error("request_failed", status=exc.status, error_type=type(exc).__name__,
                  cause=type(exc.__cause__).__name__ if exc.__cause__ else None)
    return error_response(exc.status, exc.message, errors=[e.as_json() for e in exc.errors],
                          headers=headers)


async def handle_http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    message = _HTTP_MESSAGES.get(exc.status_code, exc.detail if isinstance(exc.detail, str) else "Error")
    if exc.status_code == 404:
        message = f"No route {request.url.path}"
    elif exc.status_code == 405:
        message = f"Method {request.method} not allowed on {request.url.path}"
    return error_response(exc.status_code, message, headers=dict(exc.headers or {}))


async def handle_query_error(request: Request, exc: Exception) -> Response:
    """The query language refused a filter or sort: 400 naming where."""
    assert isinstance(exc, QueryError)
    what = "sort" if exc.path.startswith("sort") else "filter"
    return await handle_tessera_error(
        request, BadRequest(f"Invalid {what}: {exc.message}", errors=[FieldError(exc.path, exc.message)]))


async def handle_infrastructure_error(request: Request, exc: Exception) -> Response:
    """A database or network failure that escaped translation (e.g. while connecting)."""
    return await handle_tessera_error(request, translate_error(exc))


EXCEPTION_HANDLERS = {
    TesseraError: handle_tessera_error,
    HTTPException: handle_http_exception,
    QueryError: handle_query_error,
    DBAPIError: handle_infrastructure_error,
    asyncpg.PostgresError: handle_infrastructure_error,
    asyncpg.exceptions.InterfaceError: handle_infrastructure_error,
    OSError: handle_infrastructure_error,
}
