"""Rate limits per key, exact, with an injected clock (no sleeping)."""

from __future__ import annotations

from tests.conftest import FakeClock, Workspace


async def test_limit_is_exact_and_recovers(ws: Workspace, fake_clock: FakeClock) -> None:
    key = await ws.new_key(["api_key.read"], rate_limit_per_minute=5)
    fake_clock.freeze()
    remaining = []
    for _ in range(5):
        response = await ws.get("/v1/api-keys", key=key)
        assert response.status_code == 200
        assert response.headers["x-ratelimit-limit"] == "5"
        remaining.append(int(response.headers["x-ratelimit-remaining"]))
    assert remaining == [4, 3, 2, 1, 0]
    denied = await ws.get("/v1/api-keys", key=key)
    assert denied.status_code == 429
    assert denied.json()["code"] == 429
    assert denied.headers["retry-after"] == "12"
    assert denied.headers["x-ratelimit-remaining"] == "0"
    fake_clock.advance(11.9)
    assert (await ws.get("/v1/api-keys", key=key)).status_code == 429
    fake_clock.advance(0.2)
    assert (await ws.get("/v1/api-keys", key=key)).status_code == 200
    assert (await ws.get("/v1/api-keys", key=key)).status_code == 429
    fake_clock.advance(60)
    for _ in range(5):
        assert (await ws.get("/v1/api-keys", key=key)).status_code == 200
    assert (await ws.get("/v1/api-keys", key=key)).status_code == 429


async def test_limits_are_per_key(ws: Workspace) -> None:
    first = await ws.new_key(["api_key.read"], rate_limit_per_minute=1)
    second = await ws.new_key(["api_key.read"], rate_limit_per_minute=1)
    assert (await ws.get("/v1/api-keys", key=first)).status_code == 200
    assert (await ws.get("/v1/api-keys", key=first)).status_code == 429
    assert (await ws.get("/v1/api-keys", key=second)).status_code == 200


async def test_default_limit_headers_on_every_response(ws: Workspace) -> None:
    response = await ws.get("/v1/api-keys")
    assert int(response.headers["x-ratelimit-limit"]) > 0
    assert "x-ratelimit-remaining" in response.headers
    missing = await ws.get("/v1/api-keys/1")
    assert missing.status_code == 404 and "x-ratelimit-remaining" in missing.headers
