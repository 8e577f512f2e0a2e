"""The integrations API and the OAuth connect flow, against the fake Google on loopback."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import parse_qs, urlparse

import asyncpg
import httpx
import pytest

from tests.conftest import FakeClock, Workspace, WorkspaceFactory
from tests.fake_google import CLIENT_ID, CLIENT_SECRET, FakeGoogle
from tests.integrations.helpers import authorize, callback, connect, connection, listed, start
from tests.spec import assert_matches

SPEC_PAIRS = {("email", "google"), ("calendar", "google"), ("email", "microsoft"), ("calendar", "microsoft"),
              ("messaging", "slack"), ("crm", "attio"), ("crm", "hubspot"), ("crm", "salesforce")}


def _error(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == status and isinstance(body["message"], str)
    message: str = body["message"]
    return message


async def test_lists_every_integration_with_and_without_trailing_slash(ws: Workspace) -> None:
    body = await listed(ws)
    assert {(i["type"], i["provider"]) for i in body} == SPEC_PAIRS
    by_pair = {(i["type"], i["provider"]): i for i in body}
    assert by_pair["email", "google"]["available"] is True and by_pair["email", "google"]["connections"] == []
    assert by_pair["email", "google"]["display_name"] == "Gmail"
    microsoft = by_pair["email", "microsoft"]
    assert microsoft["available"] is False
    assert microsoft["missing_settings"] == ["MICROSOFT_CLIENT_ID", "MICROSOFT_CLIENT_SECRET"]
    slashed = await ws.get("/v1/integrations/")  # how the vendor's client calls it
    assert slashed.status_code == 200 and slashed.json() == body


async def test_unconfigured_provider_answers_400_naming_the_settings(ws: Workspace, db: asyncpg.Connection) -> None:
    message = _error(await ws.post("/v1/integrations/email/microsoft/connect"), 400)
    assert "MICROSOFT_CLIENT_ID" in message and "MICROSOFT_CLIENT_SECRET" in message
    message = _error(await ws.post("/v1/integrations/crm/hubspot/connect"), 400)
    assert "HUBSPOT_CLIENT_ID" in message
    assert await db.fetchval("SELECT count(*) FROM integration_connects WHERE workspace_id = $1", int(ws.id)) == 0


@pytest.mark.parametrize("pair", ["messaging/google", "crm/slack", "email/attio", "calendar/hubspot",
                                  "email/yahoo", "fax/google", "EMAIL/google"])
async def test_invalid_type_provider_combinations_answer_400(ws: Workspace, pair: str) -> None:
    message = _error(await ws.post(f"/v1/integrations/{pair}/connect"), 400)
    assert "combination" in message


async def test_auth_url_carries_the_pkce_challenge_and_state(ws: Workspace) -> None:
    started = await start(ws)
    url = urlparse(started["auth_url"])
    assert started["auth_url"].startswith(f"{url.scheme}://{url.netloc}/authorize?")
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert query["response_type"] == "code" and query["client_id"] == CLIENT_ID
    assert query["redirect_uri"].endswith("/api/developers/v1/integrations/oauth/callback")
    assert "https://www.googleapis.com/auth/gmail.readonly" in query["scope"].split()
    assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) == 43
    assert query["state"].startswith(f"{ws.id}.") and query["access_type"] == "offline"
    assert CLIENT_SECRET not in started["auth_url"]
    second = await start(ws)
    assert second["connect_id"] != started["connect_id"]
    assert parse_qs(urlparse(second["auth_url"]).query)["state"][0] != query["state"]


async def test_connect_flow_pending_then_connected(ws: Workspace, fake_google: FakeGoogle,
                                                   db: asyncpg.Connection) -> None:
    started = await start(ws)
    pending = await ws.get(f"/v1/integrations/connect/{started['connect_id']}/status")
    assert pending.status_code == 200 and pending.json() == {"status": "pending"}
    assert_matches("developer.ConnectStatusResponse", pending.json())
    answer = await callback(ws, await authorize(started["auth_url"], "flow@mail.test"))
    assert answer.status_code == 200 and "connected" in answer.text
    assert answer.headers["cache-control"] == "no-store"
    status = (await ws.get(f"/v1/integrations/connect/{started['connect_id']}/status")).json()
    assert status["status"] == "connected"
    found = await connection(ws, status["connection_id"])
    assert found is not None and found["status"] == "active" and found["identifier"] == "flow@mail.test"
    # the tokens are sealed at rest
    row = await db.fetchrow("SELECT access_token, refresh_token FROM integration_connections "
                            "WHERE workspace_id = $1 AND id = $2", int(ws.id), status["connection_id"])
    plain = [t for t, g in fake_google.access_tokens.items() if g.account == "flow@mail.test"]
    refresh = [t for t, g in fake_google.grants.items() if g.account == "flow@mail.test"]
    assert plain and refresh
    assert plain[0].encode() not in row["access_token"] and refresh[0].encode() not in row["refresh_token"]
    # the same account connected again keeps its connection
    assert await connect(ws, fake_google, "flow@mail.test") == status["connection_id"]


async def test_expired_connect_id_answers_410_and_its_state_400(app: Any, ws: Workspace,
                                                                 fake_clock: FakeClock) -> None:
    started = await start(ws)
    redirect = await authorize(started["auth_url"], "late@mail.test")
    fake_clock.advance(601)
    message = _error(await ws.get(f"/v1/integrations/connect/{started['connect_id']}/status"), 410)
    assert "expired" in message
    # from an address of its own: the failure it counts is stamped 10 minutes ahead of the clock
    # the other tests see once this one rewinds it
    transport = httpx.ASGITransport(app=app, client=("203.0.113.30", 4000))
    async with httpx.AsyncClient(transport=transport, base_url="http://tessera.test") as browser:
        assert "state" in _error(await browser.get(redirect), 400)


async def test_bad_and_reused_states_answer_400(ws: Workspace, fake_google: FakeGoogle) -> None:
    path = "/api/developers/v1/integrations/oauth/callback"
    for query in ("", "?code=x", "?code=x&state=nonsense", f"?code=x&state={ws.id}.{'A' * 43}",
                  "?code=x&state=99999999999.abcdefghijklmnopqrstuvwxyz"):
        assert "state" in _error(await ws.http.get(path + query), 400)
    started = await start(ws)
    redirect = await authorize(started["auth_url"], "replay@mail.test")
    assert (await callback(ws, redirect)).status_code == 200
    assert "state" in _error(await callback(ws, redirect), 400)  # single use


async def test_a_refused_authorization_fails_the_flow(ws: Workspace) -> None:
    started = await start(ws)
    state = parse_qs(urlparse(started["auth_url"]).query)["state"][0]
    denied = await ws.http.get("/api/developers/v1/integrations/oauth/callback",
                               params={"error": "access_denied", "state": state})
    assert "access_denied" in _error(denied, 400)
    assert "access_denied" in _error(await ws.get(f"/v1/integrations/connect/{started['connect_id']}/status"), 400)
    # a code the provider does not accept (a forged one) fails the same way, and uses the state
    other = await start(ws)
    other_state = parse_qs(urlparse(other["auth_url"]).query)["state"][0]
    forged = await ws.http.get("/api/developers/v1/integrations/oauth/callback",
                               params={"code": "4/forged", "state": other_state})
    assert "invalid_grant" in _error(forged, 400)
    assert (await ws.get(f"/v1/integrations/connect/{other['connect_id']}/status")).status_code == 400


async def test_unknown_ids(ws: Workspace) -> None:
    assert _error(await ws.get("/v1/integrations/connect/cx_unknown/status"), 404)
    assert _error(await ws.get(f"/v1/integrations/connect/{'x' * 300}/status"), 400)
    assert _error(await ws.delete("/v1/integrations/connections/12345"), 404)
    assert _error(await ws.delete("/v1/integrations/connections/not-a-number"), 404)


async def test_workspace_isolation(ws: Workspace, make_workspace: WorkspaceFactory, fake_google: FakeGoogle) -> None:
    started = await start(ws)
    redirect = await authorize(started["auth_url"], "mine@mail.test")
    assert (await callback(ws, redirect)).status_code == 200
    connection_id = (await ws.get(f"/v1/integrations/connect/{started['connect_id']}/status")).json()[
        "connection_id"]
    other = await make_workspace()
    assert (await other.get(f"/v1/integrations/connect/{started['connect_id']}/status")).status_code == 404
    assert (await other.delete(f"/v1/integrations/connections/{connection_id}")).status_code == 404
    assert (await other.post(f"/v1/integrations/connections/{connection_id}/sync")).status_code == 404
    assert all(i["connections"] == [] for i in await listed(other))
    assert await connection(ws, connection_id) is not None


async def test_scopes(ws: Workspace) -> None:
    reader = await ws.new_key(["integration.read"])
    assert (await ws.get("/v1/integrations", key=reader)).status_code == 200
    assert (await ws.post("/v1/integrations/email/google/connect", key=reader)).status_code == 403
    neither = await ws.new_key(["record.read"])
    assert (await ws.get("/v1/integrations/", key=neither)).status_code == 403


async def test_connect_rate_limit(ws: Workspace) -> None:
    statuses = [(await ws.post("/v1/integrations/email/google/connect")).status_code for _ in range(11)]
    assert statuses[:10] == [200] * 10 and statuses[10] == 429


async def test_vendor_client_calls(ws: Workspace, fake_google: FakeGoogle) -> None:
    """The calls of the vendor's MCP tools (mcp/dist/tools/integrations.js), as it sends them."""
    listed_answer = await ws.get("/v1/integrations/")
    assert listed_answer.status_code == 200 and isinstance(listed_answer.json(), list)
    started = await ws.request("POST", "/v1/integrations/email/google/connect")  # no body, no content type
    assert started.status_code == 200
    redirect = await authorize(started.json()["auth_url"], "vendor@mail.test")
    assert (await callback(ws, redirect)).status_code == 200
    status = await ws.get(f"/v1/integrations/connect/{started.json()['connect_id']}/status")
    connection_id = str(status.json()["connection_id"])  # the tool passes it as a string
    gone = await ws.delete(f"/v1/integrations/connections/{connection_id}")
    assert gone.status_code == 200 and gone.content == b""


async def test_disconnect_revokes_and_deletes(ws: Workspace, fake_google: FakeGoogle) -> None:
    connection_id = await connect(ws, fake_google, "leaving@mail.test")
    gone = await ws.delete(f"/v1/integrations/connections/{connection_id}")
    assert gone.status_code == 200 and gone.content == b""
    assert "leaving@mail.test" in fake_google.revoked
    assert await connection(ws, connection_id) is None
    assert (await ws.delete(f"/v1/integrations/connections/{connection_id}")).status_code == 404


async def test_no_token_in_responses_or_logs(ws: Workspace, fake_google: FakeGoogle,
                                             caplog: pytest.LogCaptureFixture) -> None:
    texts: list[str] = []
    with caplog.at_level(logging.DEBUG):
        started = await start(ws)
        texts.append(str(started))
        answer = await callback(ws, await authorize(started["auth_url"], "secret@mail.test"))
        texts.append(answer.text)
        status = await ws.get(f"/v1/integrations/connect/{started['connect_id']}/status")
        texts.append(status.text)
        texts.append((await ws.get("/v1/integrations")).text)
        texts.append((await ws.delete(f"/v1/integrations/connections/{status.json()['connection_id']}")).text)
    mine = "secret@mail.test"
    secrets = [CLIENT_SECRET, *(g.refresh_token for g in fake_google.grants.values() if g.account == mine)]
    secrets += [c for c, v in fake_google.codes.items() if v["account"] == "secret@mail.test"]
    secrets += [token for account, token in fake_google.issued if account == "secret@mail.test"]
    verifiers = [f["code_verifier"] for f in fake_google.token_calls if f.get("code") in secrets]
    assert len(secrets) >= 4 and verifiers
    for secret in [*secrets, *verifiers]:
        assert secret not in caplog.text
        assert all(secret not in text for text in texts)


async def test_an_address_that_keeps_sending_bad_states_gets_429(app: Any, ws: Workspace,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    state = app.state.tessera
    monkeypatch.setattr(state, "settings", state.settings.model_copy(update={"auth_failures_per_ip_per_minute": 3}))
    transport = httpx.ASGITransport(app=app, client=("203.0.113.21", 4000))
    path = "/api/developers/v1/integrations/oauth/callback"
    async with httpx.AsyncClient(transport=transport, base_url="http://tessera.test") as attacker:
        statuses = [(await attacker.get(path, params={"code": "x", "state": f"{ws.id}.{'B' * 43}"})).status_code
                    for _ in range(5)]
    assert statuses[:3] == [400] * 3 and set(statuses[3:]) == {429}
