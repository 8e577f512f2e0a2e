"""/health, /openapi.json and /docs."""

from __future__ import annotations

from typing import Any

import httpx
from openapi_spec_validator import validate

from tessera.app import create_app
from tessera.routes import API_PREFIX, ENDPOINTS
from tessera.settings import Settings


async def test_openapi_is_valid_31_and_covers_the_route_table(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    assert spec["openapi"].startswith("3.1")
    validate(spec)
    documented = {(m.upper(), p) for p, item in spec["paths"].items() for m in item}
    for endpoint in ENDPOINTS:
        assert (endpoint.method, API_PREFIX + endpoint.path) in documented


async def test_docs_are_served_without_a_cdn(client: httpx.AsyncClient) -> None:
    page = await client.get("/docs")
    assert page.status_code == 200
    assert "/openapi.json" in page.text and "http" not in page.text.split("<body>")[1].replace("/openapi", "")
    bundle = await client.get("/docs/assets/swagger-ui-bundle.js")
    assert bundle.status_code == 200 and len(bundle.content) > 100_000


async def test_health_reports_dependencies(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok", body
    assert {name: d["status"] for name, d in body["dependencies"].items()} == {
        "postgres": "up", "redis": "up", "meilisearch": "up"}


async def test_health_is_degraded_when_meilisearch_is_down(settings: Settings) -> None:
    broken = settings.model_copy(update={"meili_url": "http://127.0.0.1:1"})
    app: Any = create_app(broken)  # with the installed plugins: search among them
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            response = await http.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded" and body["dependencies"]["meilisearch"]["status"] == "down", body


async def test_health_is_503_when_postgres_is_down(settings: Settings) -> None:
    broken = settings.model_copy(update={"database_url": "postgresql://postgres@127.0.0.1:1/tessera"})
    app: Any = create_app(broken, plugins=[])
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            response = await http.get("/health")
            assert response.status_code == 503
            assert response.json()["dependencies"]["postgres"]["status"] == "down"
            listed = await http.get(API_PREFIX + "/v1/api-keys",
                                    headers={"Authorization": "Bearer sk-" + "a" * 44})
            assert listed.status_code == 503
            assert listed.json()["code"] == 503
