"""Every error answers the contract's JSON shape; bad input is 400 and writes nothing."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from starlette.routing import Route

from tests.conftest import API, Workspace

KEYS = "/v1/api-keys"


def assert_error(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    assert body["code"] == status and isinstance(body["message"], str) and body["message"]
    assert "Traceback" not in response.text and "SELECT" not in response.text
    return body


async def test_unknown_route_is_json_404(client: httpx.AsyncClient) -> None:
    assert_error(await client.get(API + "/v1/nope"), 404)
    assert_error(await client.get("/nope"), 404)


async def test_wrong_method_is_json_405(ws: Workspace) -> None:
    body = assert_error(await ws.put(KEYS, {}), 405)
    assert "PUT" in body["message"]


async def test_oversize_body_is_413(ws: Workspace) -> None:
    big = b'{"name": "' + b"x" * (10 * 1024 * 1024) + b'"}'
    response = await ws.request("POST", KEYS, content=big, headers={"content-type": "application/json"})
    assert_error(response, 413)


async def test_oversize_chunked_body_is_413(ws: Workspace) -> None:
    async def chunks() -> Any:
        for _ in range(11):
            yield b"x" * (1024 * 1024)

    response = await ws.request("POST", KEYS, content=chunks(), headers={"content-type": "application/json"})
    assert_error(response, 413)


async def test_non_json_body_is_415(ws: Workspace) -> None:
    response = await ws.request("POST", KEYS, content=b"name=x",
                                headers={"content-type": "application/x-www-form-urlencoded"})
    assert_error(response, 415)


@pytest.mark.parametrize("raw", [
    b"{",
    b'{"name": "x", "scopes": ["object.read"],}',
    b'{"name": NaN, "scopes": ["object.read"]}',
    b'{"name": "x", "scopes": ["object.read"], "rate_limit_per_minute": Infinity}',
    b'{"name": "x\\u0000y", "scopes": ["object.read"]}',
    b'{"name": "\\ud800", "scopes": ["object.read"]}',
    b'{"name": "x", "scopes": ["object.read"], "rate_limit_per_minute": 1e400}',
    b'{"name": "x", "scopes": ["object.read"], "n": ' + b"[" * 200 + b"]" * 200 + b"}",
    b"[1, 2, 3]",
    b'"just a string"',
    b"\xff\xfe",
])
async def test_unstorable_json_is_400_and_writes_nothing(ws: Workspace, raw: bytes) -> None:
    before = len((await ws.get(KEYS)).json()["data"])
    response = await ws.request("POST", KEYS, content=raw, headers={"content-type": "application/json"})
    assert_error(response, 400)
    assert len((await ws.get(KEYS)).json()["data"]) == before


async def test_validation_errors_carry_paths(ws: Workspace) -> None:
    body = assert_error(await ws.post(KEYS, {"name": "x", "scopes": ["object.read", "bogus"]}), 400)
    assert any(e["path"] == "scopes[1]" for e in body["errors"])


async def test_unexpected_failure_is_json_500_without_trace(app: Any, ws: Workspace) -> None:
    async def boom(_request: Any) -> Any:
        raise RuntimeError("secret internals: SELECT * FROM api_keys")

    app.router.routes.append(Route("/boom", boom))
    try:
        response = await ws.http.get("/boom")
    finally:
        app.router.routes.pop()
    body = assert_error(response, 500)
    assert "secret internals" not in response.text
    assert body["message"] == "Internal server error"
    assert response.headers.get("x-request-id")


async def test_request_id_is_echoed(ws: Workspace) -> None:
    response = await ws.get(KEYS, headers={"X-Request-Id": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"
    response = await ws.get(KEYS, headers={"X-Request-Id": "bad id with spaces"})
    assert response.headers["x-request-id"] != "bad id with spaces"


async def test_a_query_past_the_time_limit_says_so(settings: Any) -> None:
    """A statement timeout is not an outage: the 503 says the query was too slow."""
    import asyncpg

    from tessera.db.engine import translate_error
    from tessera.errors import ServiceUnavailable

    conn = await asyncpg.connect(settings.asyncpg_dsn, server_settings={"statement_timeout": "10"})
    try:
        with pytest.raises(asyncpg.QueryCanceledError) as caught:
            await conn.execute("SELECT pg_sleep(1)")
    finally:
        await conn.close()
    error = translate_error(caught.value)
    assert isinstance(error, ServiceUnavailable) and "time limit" in error.message


# "³" and "²" pass str.isdigit() but int() refuses them; "١" (Arabic-Indic one) int() reads as 1.
@pytest.mark.parametrize("raw", ["³", "²⁵", "١", "٣٨٣"])
async def test_ids_in_other_digits_are_not_ids(ws: Workspace, raw: str) -> None:
    for method, path, body in (("GET", f"/v1/records/{raw}", None), ("PATCH", f"/v1/records/{raw}", {}),
                               ("GET", f"/v1/tasks/{raw}", None), ("GET", f"/v1/api-keys/{raw}", None),
                               ("DELETE", f"/v1/objects/person/attributes/{raw}", None),
                               ("GET", f"/v1/records/{raw}/timeline", None)):
        response = await ws.request(method, path, json=body)
        assert response.status_code == 404, (method, path, response.text)
        assert response.json()["code"] == 404
    upsert = await ws.put("/v1/objects/person", {"matching_attribute": raw, "attributes": {"name": "Ada"}})
    assert upsert.status_code == 400, upsert.text
