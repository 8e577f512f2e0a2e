"""API keys as the API shows them (``ApiKeyResponse`` / ``NewApiKeyResponse``)."""

from __future__ import annotations

from typing import NotRequired, TypedDict

from tessera.keys.repository import ApiKey
from tessera.wire import iso


class ApiKeyJson(TypedDict):
    id: str
    name: str
    prefix: str
    scopes: list[str]
    rate_limit_per_minute: int | None
    expires_at: str | None
    revoked_at: str | None
    last_used_at: str | None
    created_at: str | None
    workspace_id: str
    key: NotRequired[str]
    """The full key: only when it was just made (create, rotate)."""


def key_to_json(key: ApiKey, secret: str | None = None) -> ApiKeyJson:
    out: ApiKeyJson = {
        "id": str(key.id),
        "name": key.name,
        "prefix": key.prefix,
        "scopes": list(key.scopes),
        "rate_limit_per_minute": key.rate_limit_per_minute,
        "expires_at": iso(key.expires_at),
        "revoked_at": iso(key.revoked_at),
        "last_used_at": iso(key.last_used_at),
        "created_at": iso(key.created_at),
        "workspace_id": str(key.workspace_id),
    }
    if secret is not None:
        out["key"] = secret
    return out
