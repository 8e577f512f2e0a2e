"""Audit item 1, beyond scopes: a key's rate limit and lifetime are powers too. A key that manages
keys cannot lift its own (or another key's) rate limit above its own, cannot outlive itself by
minting, extending or rotating a key, and a key it creates without saying inherits its limits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.conftest import Workspace

KEY_ADMIN = ["api_key.read", "api_key.write"]


def _rfc3339(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


async def _key(ws: Workspace, key: str) -> dict[str, object]:
    listed = (await ws.get("/v1/api-keys")).json()["data"]
    found: dict[str, object] = next(k for k in listed if key.startswith(k["prefix"]))
    return found


async def test_a_rate_limited_key_cannot_lift_its_own_or_a_new_keys_limit(ws: Workspace) -> None:
    limited = await ws.new_key(KEY_ADMIN, rate_limit_per_minute=10)
    own = await _key(ws, limited)

    lifted = await ws.patch(f"/v1/api-keys/{own['id']}", {"rate_limit_per_minute": 1_000_000}, key=limited)
    unlimited = await ws.patch(f"/v1/api-keys/{own['id']}", {"rate_limit_per_minute": None}, key=limited)
    minted = await ws.post("/v1/api-keys", {"name": "fast", "scopes": ["api_key.read"],
                                            "rate_limit_per_minute": 11}, key=limited)

    for response in (lifted, unlimited, minted):
        assert response.status_code == 403, response.text
        assert "rate limit" in response.json()["message"] and "10" in response.json()["message"]
    assert (await _key(ws, limited))["rate_limit_per_minute"] == 10
    assert len((await ws.get("/v1/api-keys")).json()["data"]) == 2, "no key was minted"


async def test_a_new_key_inherits_its_creators_limits_and_may_narrow_them(ws: Workspace) -> None:
    expiry = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
    limited = await ws.new_key(KEY_ADMIN, rate_limit_per_minute=10, expires_at=_rfc3339(expiry))

    inherited = await ws.post("/v1/api-keys", {"name": "child", "scopes": ["api_key.read"]}, key=limited)
    narrower = await ws.post("/v1/api-keys", {"name": "slow", "scopes": ["api_key.read"], "rate_limit_per_minute": 5,
                                              "expires_at": _rfc3339(expiry - timedelta(hours=1))}, key=limited)

    assert inherited.status_code == 200, inherited.text
    assert inherited.json()["rate_limit_per_minute"] == 10
    assert inherited.json()["expires_at"] == _rfc3339(expiry)
    assert narrower.status_code == 200, narrower.text
    assert narrower.json()["rate_limit_per_minute"] == 5
    own = await _key(ws, limited)
    lowered = await ws.patch(f"/v1/api-keys/{own['id']}", {"rate_limit_per_minute": 3}, key=limited)
    assert lowered.status_code == 200 and lowered.json()["rate_limit_per_minute"] == 3


async def test_an_expiring_key_cannot_outlive_itself(ws: Workspace) -> None:
    expiry = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
    temporary = await ws.new_key(KEY_ADMIN, expires_at=_rfc3339(expiry))
    own = await _key(ws, temporary)
    forever = await ws.new_key(["api_key.read"])
    forever_id = (await _key(ws, forever))["id"]

    immortal = await ws.patch(f"/v1/api-keys/{own['id']}", {"expires_at": None}, key=temporary)
    extended = await ws.patch(f"/v1/api-keys/{own['id']}", {"expires_at": _rfc3339(expiry + timedelta(days=30))},
                              key=temporary)
    minted = await ws.post("/v1/api-keys", {"name": "later", "scopes": ["api_key.read"],
                                            "expires_at": _rfc3339(expiry + timedelta(days=1))}, key=temporary)
    rotated = await ws.post(f"/v1/api-keys/{forever_id}/rotate", key=temporary)

    for response in (immortal, extended, minted, rotated):
        assert response.status_code == 403, response.text
        assert "expires" in response.json()["message"]
    assert (await _key(ws, temporary))["expires_at"] == _rfc3339(expiry)
    assert (await ws.get("/v1/api-keys", key=forever)).status_code == 200, "the rotation did not happen"


async def test_a_key_cannot_rotate_a_key_with_a_higher_rate_limit(ws: Workspace) -> None:
    limited = await ws.new_key(KEY_ADMIN, rate_limit_per_minute=10)
    fast = await ws.new_key(["api_key.read"], rate_limit_per_minute=5000)
    default = await ws.new_key(["api_key.read"])
    slow = await ws.new_key(["api_key.read"], rate_limit_per_minute=10)

    for target in (fast, default):
        response = await ws.post(f"/v1/api-keys/{(await _key(ws, target))['id']}/rotate", key=limited)
        assert response.status_code == 403, response.text
        assert "rate limit" in response.json()["message"]
        assert (await ws.get("/v1/api-keys", key=target)).status_code == 200
    rotated = await ws.post(f"/v1/api-keys/{(await _key(ws, slow))['id']}/rotate", key=limited)
    assert rotated.status_code == 200 and rotated.json()["rate_limit_per_minute"] == 10
