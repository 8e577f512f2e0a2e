"""The pure parts of integrations: PKCE, states, authorize URLs, token answers, Gmail parsing."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlparse

import pytest

from tessera.errors import BadRequest
from tessera.integrations import gmail, oauth, providers
from tessera.integrations.service import check_pair, safe_error_code
from tessera.settings import Settings


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode()


def test_pkce_challenge_matches_rfc7636_appendix_b() -> None:
    assert providers.pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk") == \
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_tokens_are_random_and_long_enough() -> None:
    tokens = {providers.new_token() for _ in range(50)}
    assert len(tokens) == 50 and all(43 <= len(t) <= 128 for t in tokens)  # RFC 7636 verifier length


def test_state_round_trip_and_refusals() -> None:
    state = providers.make_state(123)
    assert providers.parse_state(state) == (123, state)
    for bad in ("", "123", "abc.defghijklmnopqrstuvwxyz", "123.short", "1" * 20 + "." + "a" * 43, "-1." + "a" * 43):
        assert providers.parse_state(bad) is None


def test_authorize_url() -> None:
    integration = providers.find_integration("email", "google")
    assert integration is not None
    url = providers.authorize_url(integration, "https://accounts.example/auth?hd=x", client_id="cid",
                                  redirect="https://t.example/cb", state="s", verifier="v" * 43)
    query = parse_qs(urlparse(url).query)
    assert query["hd"] == ["x"] and query["client_id"] == ["cid"] and query["state"] == ["s"]
    assert query["code_challenge"] == [providers.pkce_challenge("v" * 43)] and query["prompt"] == ["consent"]


def test_settings_enable_providers_and_override_urls() -> None:
    settings = Settings(slack_client_id="id", slack_client_secret="secret", slack_token_url="http://127.0.0.1:9/t")
    assert providers.missing_settings(settings, "slack") == []
    assert providers.missing_settings(settings, "attio") == ["ATTIO_CLIENT_ID", "ATTIO_CLIENT_SECRET"]
    assert providers.missing_settings(Settings(attio_client_id="x"), "attio") == ["ATTIO_CLIENT_SECRET"]
    ends = providers.endpoints(settings, "slack")
    assert ends.token == "http://127.0.0.1:9/t" and ends.authorize == providers.DEFAULT_ENDPOINTS["slack"].authorize
    assert providers.redirect_uri(Settings(public_base_url="https://crm.example/")) == \
        "https://crm.example/api/developers/v1/integrations/oauth/callback"


def test_every_spec_pair_and_nothing_else() -> None:
    for integration in providers.INTEGRATIONS:
        assert check_pair(integration.type, integration.provider) is integration
    with pytest.raises(BadRequest) as caught:
        check_pair("email", "slack")
    assert "combination" in caught.value.message
    assert safe_error_code("access_denied") == "access_denied"
    assert safe_error_code("<script>") == "unknown_error" and safe_error_code(None) == "unknown_error"


def test_token_answers() -> None:
    now = datetime(2026, 12, 1, tzinfo=UTC)
    claims = _b64('{"email": "a@b.test"}')
    tokens = oauth.parse_token_answer({"access_token": "tok-access", "expires_in": 3599, "refresh_token": "tok-refresh",
                                       "scope": "s", "id_token": f"e30.{claims}.sig"}, now)
    assert tokens.expires_at == now + timedelta(seconds=3599) and tokens.email == "a@b.test"
    assert "tok-" not in repr(tokens)
    refreshed = oauth.parse_token_answer({"access_token": "at2"}, now, previous_refresh="tok-refresh")
    assert refreshed.refresh_token == "tok-refresh" and refreshed.expires_at is None and refreshed.email is None
    with pytest.raises(oauth.ProviderError):
        oauth.parse_token_answer({"token_type": "Bearer"}, now)


def test_gmail_full_message() -> None:
    message = {"id": "m1", "internalDate": "1764583200000", "snippet": "snip",
               "payload": {"mimeType": "multipart/mixed", "headers": [
                   {"name": "subject", "value": "Hello"}, {"name": "From", "value": "A <a@x.test>"},
                   {"name": "To", "value": "b@y.test"}, {"name": "X-Other", "value": "no"}],
                   "parts": [{"mimeType": "multipart/alternative", "parts": [
                       {"mimeType": "text/html", "body": {"data": _b64("<p>html</p>")}},
                       {"mimeType": "text/plain", "body": {"data": _b64("Plain\r\n\r\n\r\n\r\nbody")}}]},
                       {"mimeType": "application/pdf", "filename": "x.pdf", "body": {"attachmentId": "a"}}]}}
    mail = gmail.parse_message(message)
    assert mail is not None and mail.internal_date_ms == 1764583200000
    assert gmail.artifact_text(mail) == "Subject: Hello\nFrom: A <a@x.test>\nTo: b@y.test\n\nPlain\n\nbody"


def test_gmail_html_only_raw_and_empty_messages() -> None:
    html_only = {"id": "h", "payload": {"mimeType": "text/html", "headers": [],
                                        "body": {"data": _b64("<style>x{}</style><p>Hi &amp; bye</p>")}}}
    mail = gmail.parse_message(html_only)
    assert mail is not None and mail.body == "Hi & bye"
    raw = _b64("Subject: Raw one\r\nFrom: c@z.test\r\nContent-Type: text/plain\r\n\r\nRaw body\r\n")
    raw_mail = gmail.parse_message({"id": "r", "raw": raw})
    assert raw_mail is not None and raw_mail.headers["Subject"] == "Raw one" and raw_mail.body == "Raw body"
    snippet = gmail.parse_message({"id": "s", "snippet": "only &lt;this&gt;", "payload": {}})
    assert snippet is not None and snippet.body == "only <this>"
    assert gmail.parse_message({"payload": {}}) is None
    empty = gmail.parse_message({"id": "e"})
    assert empty is not None and gmail.artifact_text(empty) == "(empty message e)"
    long_body = gmail.parse_message({"id": "l", "payload": {"mimeType": "text/plain",
                                                            "body": {"data": _b64("x" * 50_000)}}})
    assert long_body is not None and len(long_body.body) == gmail.MAX_BODY_CHARS


def test_list_query() -> None:
    assert gmail.list_query(after_ms=1_000_000_000, extra="") == "after:999940"
    assert gmail.list_query(after_ms=0, extra=" -category:promotions ") == "after:0 -category:promotions"


def test_gmail_limits_and_unreadable_bodies() -> None:
    many = ", ".join(f"p{n}@x.test" for n in range(1000))
    mail = gmail.parse_message({"id": "w", "payload": {"mimeType": "text/plain", "headers": [
        {"name": "To", "value": many}], "body": {"data": _b64("hi")}}})
    assert mail is not None and len(mail.headers["To"]) == gmail.MAX_HEADER_CHARS
    with pytest.raises(ValueError):
        gmail.parse_message({"id": "bad", "payload": {"mimeType": "text/plain", "body": {"data": "a"}}})
