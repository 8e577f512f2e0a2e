"""The integrations Tessera knows: each type/provider pair of the spec, its OAuth 2.0 endpoints
and scopes, and the settings that enable it. Pure data and pure functions (PKCE, the authorize
URL): no I/O here."""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from typing import cast
from urllib.parse import urlencode

from pydantic import SecretStr

from tessera.settings import Settings

TYPES = ("email", "calendar", "messaging", "crm")
PROVIDERS = ("google", "microsoft", "slack", "attio", "hubspot", "salesforce")
CALLBACK_PATH = "/api/developers/v1/integrations/oauth/callback"


@dataclass(frozen=True, slots=True)
class Endpoints:
    authorize: str
    token: str
    revoke: str
    """RFC 7009 revocation endpoint; empty when the provider has none (tokens then only expire)."""


@dataclass(frozen=True, slots=True)
class Integration:
    type: str
    provider: str
    display_name: str
    description: str
    scope: str
    """What the authorize URL asks for (space-separated, or comma-separated for Slack)."""
    extra: tuple[tuple[str, str], ...] = ()
    """More authorize URL parameters (Google: offline access so a refresh token is issued)."""
    syncs: bool = False
    """Whether Tessera pulls data from it (Gmail only, so far)."""


DEFAULT_ENDPOINTS: dict[str, Endpoints] = {
    "google": Endpoints("https://accounts.google.com/o/oauth2/v2/auth", "https://oauth2.googleapis.com/token",
                        "https://oauth2.googleapis.com/revoke"),
    "microsoft": Endpoints("https://login.microsoftonline.com/common/oauth2/v2.0/authorize",
                           "https://login.microsoftonline.com/common/oauth2/v2.0/token", ""),
    "slack": Endpoints("https://slack.com/oauth/v2/authorize", "https://slack.com/api/oauth.v2.access",
                       "https://slack.com/api/auth.revoke"),
    "attio": Endpoints("https://app.attio.com/authorize", "https://app.attio.com/oauth/token", ""),
    "hubspot": Endpoints("https://app.hubspot.com/oauth/authorize", "https://api.hubapi.com/oauth/v1/token", ""),
    "salesforce": Endpoints("https://login.salesforce.com/services/oauth2/authorize",
                            "https://login.salesforce.com/services/oauth2/token",
                            "https://login.salesforce.com/services/oauth2/revoke"),
}
GOOGLE_API = "https://gmail.googleapis.com"
_GOOGLE_OFFLINE = (("access_type", "offline"), ("prompt", "consent"), ("include_granted_scopes", "true"))

INTEGRATIONS: tuple[Integration, ...] = (
    Integration("email", "google", "Gmail",
                "Connect a Gmail account: its messages are synced into context, where people, companies "
                "and insights are extracted from them.",
                "openid email https://www.googleapis.com/auth/gmail.readonly", _GOOGLE_OFFLINE, syncs=True),
    Integration("calendar", "google", "Google Calendar", "Connect a Google Calendar account.",
                "openid email https://www.googleapis.com/auth/calendar.readonly", _GOOGLE_OFFLINE),
    Integration("email", "microsoft", "Outlook", "Connect an Outlook / Microsoft 365 mailbox.",
                "openid email offline_access https://graph.microsoft.com/Mail.Read"),
    Integration("calendar", "microsoft", "Outlook Calendar", "Connect an Outlook / Microsoft 365 calendar.",
                "openid email offline_access https://graph.microsoft.com/Calendars.Read"),
    Integration("messaging", "slack", "Slack", "Connect a Slack workspace.",
                "channels:history,channels:read,users:read,users:read.email"),
    Integration("crm", "attio", "Attio", "Connect an Attio workspace.",
                "record_permission:read object_configuration:read"),
    Integration("crm", "hubspot", "HubSpot", "Connect a HubSpot account.",
                "oauth crm.objects.contacts.read crm.objects.companies.read crm.objects.deals.read"),
    Integration("crm", "salesforce", "Salesforce", "Connect a Salesforce org.", "api refresh_token"),
)
_BY_KEY = {(i.type, i.provider): i for i in INTEGRATIONS}


def find_integration(type_: str, provider: str) -> Integration | None:
    """The integration of a type/provider pair, or None for a pair that is not one."""
    return _BY_KEY.get((type_, provider))


def setting_names(provider: str) -> tuple[str, str]:
    """The environment variables of a provider's client id and secret."""
    return f"{provider.upper()}_CLIENT_ID", f"{provider.upper()}_CLIENT_SECRET"


def client_credentials(settings: Settings, provider: str) -> tuple[str, str]:
    """The configured client id and secret ("" when unset)."""
    client_id = cast(str, getattr(settings, f"{provider}_client_id"))
    secret = cast(SecretStr, getattr(settings, f"{provider}_client_secret"))
    return client_id.strip(), secret.get_secret_value().strip()


def missing_settings(settings: Settings, provider: str) -> list[str]:
    """The settings an operator must still set to enable ``provider`` (none: it is available)."""
    client_id, secret = client_credentials(settings, provider)
    id_name, secret_name = setting_names(provider)
    return [name for name, value in ((id_name, client_id), (secret_name, secret)) if not value]


def endpoints(settings: Settings, provider: str) -> Endpoints:
    """The provider's endpoints, each overridable by ``<PROVIDER>_AUTHORIZE_URL`` / ``_TOKEN_URL``
    / ``_REVOKE_URL``."""
    default = DEFAULT_ENDPOINTS[provider]

    def pick(name: str, fallback: str) -> str:
        return cast(str, getattr(settings, f"{provider}_{name}_url")).strip() or fallback

    return Endpoints(pick("authorize", default.authorize), pick("token", default.token),
                     pick("revoke", default.revoke))


def google_api_base(settings: Settings) -> str:
    return (settings.google_api_base_url.strip() or GOOGLE_API).rstrip("/")


def redirect_uri(settings: Settings) -> str:
    """The callback URL the providers send the user back to."""
    if settings.integrations_redirect_uri.strip():
        return settings.integrations_redirect_uri.strip()
    base = settings.public_base_url.strip().rstrip("/") or f"http://{settings.host}:{settings.port}"
    return base + CALLBACK_PATH


def new_token() -> str:
    """A random URL-safe token (connect ids, states, PKCE verifiers): 256 bits."""
    return secrets.token_urlsafe(32)


def pkce_challenge(verifier: str) -> str:
    """RFC 7636 S256: BASE64URL(SHA256(ASCII(verifier))) without padding."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def token_hash(token: str) -> bytes:
    """What the database keeps of a connect id or a state (they are bearer secrets)."""
    return hashlib.sha256(token.encode()).digest()


def authorize_url(integration: Integration, authorize: str, *, client_id: str, redirect: str, state: str,
                  verifier: str) -> str:
    """The URL the user opens to grant access (authorization-code flow with PKCE S256 and state)."""
    params = [("response_type", "code"), ("client_id", client_id), ("redirect_uri", redirect),
              ("scope", integration.scope), ("state", state), ("code_challenge", pkce_challenge(verifier)),
              ("code_challenge_method", "S256"), *integration.extra]
    separator = "&" if "?" in authorize else "?"
    return authorize + separator + urlencode(params)


def make_state(workspace_id: int) -> str:
    """A single-use state: the workspace it belongs to (to find its row, which every query scopes
    by workspace) and 256 random bits."""
    return f"{workspace_id}.{new_token()}"


def parse_state(state: str) -> tuple[int, str] | None:
    """The workspace id and the state itself, or None for a value that cannot be one of ours."""
    head, sep, tail = state.partition(".")
    if not sep or not head.isdigit() or len(head) > 17 or not 20 <= len(tail) <= 100:
        return None
    return int(head), state
