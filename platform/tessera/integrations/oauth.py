"""The OAuth 2.0 token endpoint, spoken over httpx (RFC 6749 section 4.1.3 and 6, RFC 7636, RFC
7009): exchange an authorization code with its PKCE verifier, refresh, revoke. Used by the API
(the callback) and by the worker (refresh before a sync, revoke on disconnect). Nothing here logs
or raises a token: errors carry the provider's ``error`` code, never its text."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import orjson

from tessera.integrations.providers import Endpoints

REFRESH_MARGIN = timedelta(seconds=60)
"""An access token this close to its expiry is refreshed before use."""


class ProviderError(Exception):
    """The provider refused or could not answer. ``code`` is its OAuth ``error`` (``invalid_grant``)
    or ``http_<status>`` / ``unreachable``: safe to show and log."""

    def __init__(self, code: str, *, rejected: bool = False) -> None:
        super().__init__(code)
        self.code = code
        self.rejected = rejected
        """The grant itself is refused (revoked, expired, wrong verifier): retrying cannot help."""


@dataclass(frozen=True, slots=True)
class TokenSet:
    access_token: str
    refresh_token: str | None
    expires_at: datetime | None
    scope: str
    email: str | None
    """The account's email from an OpenID ``id_token``, when the answer had one."""

    def __repr__(self) -> str:  # never print a token
        return f"TokenSet(expires_at={self.expires_at!r}, scope={self.scope!r})"


def _id_token_email(id_token: object) -> str | None:
    """The ``email`` claim of an id_token received straight from the token endpoint over TLS (OpenID
    Connect Core 3.1.3.7 lets such a token be used without checking its signature)."""
    if not isinstance(id_token, str) or id_token.count(".") != 2:
        return None
    payload = id_token.split(".")[1]
    try:
        claims = orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (ValueError, orjson.JSONDecodeError):
        return None
    email = claims.get("email") if isinstance(claims, dict) else None
    return email if isinstance(email, str) and 0 < len(email) <= 320 else None


def parse_token_answer(data: Any, now: datetime, *, previous_refresh: str | None = None) -> TokenSet:
    """A successful token endpoint answer as a ``TokenSet`` (a refresh that issues no new refresh
    token keeps the previous one)."""
    if not isinstance(data, dict) or not isinstance(data.get("access_token"), str) or not data["access_token"]:
        raise ProviderError("invalid_token_response")
    expires_in = data.get("expires_in")
    expires_at = now + timedelta(seconds=int(expires_in)) if isinstance(expires_in, (int, float, str)) \
        and str(expires_in).isdigit() else None
    refresh = data.get("refresh_token")
    scope = data.get("scope")
    return TokenSet(access_token=data["access_token"],
                    refresh_token=refresh if isinstance(refresh, str) and refresh else previous_refresh,
                    expires_at=expires_at, scope=scope if isinstance(scope, str) else "",
                    email=_id_token_email(data.get("id_token")))


async def _post_token(http: httpx.AsyncClient, url: str, form: dict[str, str]) -> Any:
    try:
        response = await http.post(url, data=form, headers={"Accept": "application/json"})
    except httpx.HTTPError as err:
        raise ProviderError("unreachable") from err
    try:
        data = response.json()
    except ValueError:
        data = None
    if response.status_code != 200:
        code = data.get("error") if isinstance(data, dict) and isinstance(data.get("error"), str) else None
        safe = (code or f"http_{response.status_code}")[:60]
        raise ProviderError(safe, rejected=code in ("invalid_grant", "invalid_client", "unauthorized_client"))
    return data


async def exchange_code(http: httpx.AsyncClient, endpoints: Endpoints, *, client_id: str, client_secret: str,
                        code: str, verifier: str, redirect: str, now: datetime) -> TokenSet:
    data = await _post_token(http, endpoints.token, {
        "grant_type": "authorization_code", "code": code, "redirect_uri": redirect, "client_id": client_id,
        "client_secret": client_secret, "code_verifier": verifier})
    return parse_token_answer(data, now)


async def refresh(http: httpx.AsyncClient, endpoints: Endpoints, *, client_id: str, client_secret: str,
                  refresh_token: str, now: datetime) -> TokenSet:
    data = await _post_token(http, endpoints.token, {
        "grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": client_id,
        "client_secret": client_secret})
    return parse_token_answer(data, now, previous_refresh=refresh_token)


async def revoke(http: httpx.AsyncClient, endpoints: Endpoints, token: str) -> bool:
    """Revoke ``token`` at the provider (RFC 7009). False when the provider has no revocation
    endpoint or did not answer 200 (the token then lapses on its own; the connection goes anyway)."""
    if not endpoints.revoke:
        return False
    try:
        response = await http.post(endpoints.revoke, data={"token": token})
    except httpx.HTTPError:
        return False
    return response.status_code == 200


async def gmail_address(http: httpx.AsyncClient, api_base: str, access_token: str) -> str | None:
    """The mailbox's address (``GET /gmail/v1/users/me/profile``), or None if it cannot be read."""
    try:
        response = await http.get(f"{api_base}/gmail/v1/users/me/profile",
                                  headers={"Authorization": f"Bearer {access_token}"})
        data = response.json() if response.status_code == 200 else None
    except (httpx.HTTPError, ValueError):
        return None
    address = data.get("emailAddress") if isinstance(data, dict) else None
    return address if isinstance(address, str) and address else None
