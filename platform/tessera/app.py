"""The application factory: settings in, a configured Starlette app out (no import-time effects)."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware

from tessera import plugins as plugin_registry
from tessera.app_state import AppState
from tessera.clock import Clock, system_clock
from tessera.context.stream import close_hub
from tessera.db.engine import create_engine, enforce_tenant_scope
from tessera.db.notify import InvalidationListener
from tessera.db.tables import tenant_table_names
from tessera.http.discovery import HEALTH_OPENAPI, discovery_routes
from tessera.http.endpoint import build_routes
from tessera.http.errors import EXCEPTION_HANDLERS
from tessera.http.middleware import RequestMiddleware
from tessera.http.openapi import build_openapi
from tessera.integrations.endpoints import callback_routes
from tessera.jsonio import dump_json
from tessera.keys.authentication import Authenticator
from tessera.logs import configure_logging
from tessera.plugins import Plugin
from tessera.records.admission import QueryGate
from tessera.redis_client import RedisClient
from tessera.registry.cache import SchemaCache
from tessera.routes import API_PREFIX, ENDPOINTS, SLASH_ALIASES
from tessera.settings import Settings

VERSION = "0.1.0"
UPLOAD_PATHS = re.compile(r"^/api/developers/v1/objects/[^/]+/imports$")
DESCRIPTION = ("Tessera: an open-source flexible-schema records platform. The API under "
               "/api/developers is compatible with the Nex Developer API.")


def create_app(settings: Settings | None = None, *, clock: Clock = system_clock,
               plugins: Sequence[Plugin] | None = None, strict_tenant_scope: bool = False) -> Starlette:
    """Build the ASGI app. ``plugins`` defaults to the installed ``tessera.plugins`` entry points;
    ``strict_tenant_scope`` makes any SQL on tenant tables without ``workspace_id`` fail (tests)."""
    settings = settings or Settings()
    configure_logging(settings.log_level, settings.log_format)
    active_plugins = list(plugins) if plugins is not None else plugin_registry.discover()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        engine = create_engine(settings)
        if strict_tenant_scope:
            enforce_tenant_scope(engine, tenant_table_names())
        redis = RedisClient(settings.redis_url)
        authenticator = Authenticator(
            engine, settings.key_pepper.get_secret_value().encode(),
            cache_seconds=settings.auth_cache_seconds, clock=clock)
        schemas = SchemaCache(ttl_seconds=settings.schema_cache_seconds, clock=clock)
        gate = QueryGate(settings.query_concurrency_per_workspace, settings.query_queue_seconds)
        state = AppState(settings=settings, engine=engine, redis=redis,
                         authenticator=authenticator, clock=clock, schemas=schemas, query_gate=gate,
                         ask_gate=QueryGate(settings.ask_concurrency_per_workspace, settings.query_queue_seconds,
                                            "questions (ask)"))
        state.caches.append(schemas.invalidate)
        listener = InvalidationListener(settings.asyncpg_dsn)
        listener.subscribe(lambda payload: _invalidate(state, payload))
        await listener.start()
        app.state.tessera = state
        app.state.listener = listener
        for plugin in active_plugins:
            await plugin.startup(state)
        try:
            yield
        finally:
            for plugin in reversed(active_plugins):
                await plugin.shutdown(state)
            await listener.stop()
            await authenticator.drain()
            await close_hub(state)  # its Redis subscription, before the client it runs on
            await redis.close()
            await engine.dispose()

    app = Starlette(
        routes=[*discovery_routes(), *callback_routes(API_PREFIX), *build_routes(ENDPOINTS, API_PREFIX),
                *build_routes([dataclasses.replace(e, path=e.path + "/") for e in ENDPOINTS
                               if e.path in SLASH_ALIASES], API_PREFIX)],
        middleware=[Middleware(RequestMiddleware, max_body_bytes=settings.max_body_bytes,
                               upload_max_bytes=settings.import_max_bytes, upload_paths=UPLOAD_PATHS)],
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        lifespan=lifespan,
    )
    app.state.openapi_bytes = dump_json(build_openapi(
        ENDPOINTS, prefix=API_PREFIX, title="Tessera API", version=VERSION,
        description=DESCRIPTION, extra_paths=HEALTH_OPENAPI))
    return app


def _invalidate(state: AppState, payload: str | None) -> None:
    if payload is None:
        state.authenticator.invalidate()
    elif payload.startswith("api_key:"):
        state.authenticator.invalidate(payload.removeprefix("api_key:"))
    for cache in state.caches:
        cache(payload)
