"""Outside the API base: /health, /openapi.json and /docs (Swagger UI from packaged assets)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from pathlib import Path

import swagger_ui
from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from tessera.app_state import AppState
from tessera.jsonio import dump_json
from tessera.wire import JsonObject

SWAGGER_ASSETS = Path(swagger_ui.__file__).parent / "static"

_DOCS_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Tessera API</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script>window.ui = SwaggerUIBundle({url: "/openapi.json", dom_id: "#swagger-ui",
  deepLinking: true, persistAuthorization: false});</script>
</body></html>"""


async def _timed(check: Awaitable[JsonObject | None]) -> JsonObject:
    """A dependency's state: up with its latency (and the facts its check returns), or down."""
    started = time.perf_counter()
    try:
        detail = await asyncio.wait_for(check, timeout=2.0)
        result: JsonObject = {"status": "up"}
        if isinstance(detail, dict):  # extra facts; "status" stays ours (Meilisearch says "available")
            result.update({k: v for k, v in detail.items() if k != "status"})
    except Exception as err:
        result = {"status": "down", "error": type(err).__name__}
    result["latency_ms"] = round((time.perf_counter() - started) * 1000, 2)
    return result


async def health(request: Request) -> Response:
    state: AppState = request.app.state.tessera

    async def postgres() -> None:
        async with state.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def redis() -> None:
        if not await state.redis.ping():
            raise ConnectionError("redis ping failed")

    checks: dict[str, Awaitable[JsonObject | None]] = {"postgres": postgres(), "redis": redis()}
    if state.search is not None:
        checks["meilisearch"] = state.search.health()
    results = dict(zip(checks, await asyncio.gather(*(_timed(c) for c in checks.values())), strict=True))
    if results["postgres"]["status"] != "up":
        status, code = "unavailable", 503
    elif any(r["status"] != "up" for r in results.values()):
        status, code = "degraded", 200
    else:
        status, code = "ok", 200
    return Response(dump_json({"status": status, "dependencies": results}), status_code=code,
                    media_type="application/json")


async def openapi_json(request: Request) -> Response:
    spec: bytes = request.app.state.openapi_bytes
    return Response(spec, media_type="application/json")


async def docs(_request: Request) -> Response:
    return HTMLResponse(_DOCS_HTML)


def discovery_routes() -> list[Route | Mount]:
    return [
        Route("/health", health, methods=["GET"]),
        Route("/openapi.json", openapi_json, methods=["GET"]),
        Route("/docs", docs, methods=["GET"]),
        Mount("/docs/assets", app=StaticFiles(directory=SWAGGER_ASSETS), name="docs-assets"),
    ]


HEALTH_OPENAPI: dict[str, JsonObject] = {
    "/health": {"get": {"operationId": "health", "summary": "Liveness and each dependency's state",
                        "tags": ["Operations"], "security": [],
                        "responses": {"200": {"description": "Up (maybe degraded)"},
                                      "503": {"description": "PostgreSQL unreachable"}}}},
    "/openapi.json": {"get": {"operationId": "openapi", "summary": "This document", "tags": ["Operations"],
                              "security": [], "responses": {"200": {"description": "OpenAPI 3.1"}}}},
    "/docs": {"get": {"operationId": "docs", "summary": "Interactive documentation", "tags": ["Operations"],
                      "security": [], "responses": {"200": {"description": "HTML"}}}},
}
