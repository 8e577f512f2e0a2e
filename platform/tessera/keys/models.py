"""Request and response models of the key-management endpoints."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from tessera.scopes import SCOPES
from tessera.wire import Name, RequestModel, ResponseModel, Rfc3339

Scope = Literal[SCOPES]  # type: ignore[valid-type]


class CreateApiKeyRequest(RequestModel):
    name: Name
    scopes: list[Scope] = Field(min_length=1, max_length=len(SCOPES))
    rate_limit_per_minute: int | None = Field(default=None, ge=1, le=1_000_000)
    expires_at: Rfc3339 | None = None


class UpdateApiKeyRequest(RequestModel):
    """Only the fields sent change; null clears the rate limit (back to the default) or the expiry."""

    name: Name | None = None
    scopes: list[Scope] | None = Field(default=None, min_length=1, max_length=len(SCOPES))
    rate_limit_per_minute: int | None = Field(default=None, ge=1, le=1_000_000)
    expires_at: Rfc3339 | None = None

    @field_validator("name", "scopes", mode="before")
    @classmethod
    def _not_null(cls, value: object) -> object:
        # None is only the default ("unchanged"): a key always has a name and scopes.
        if value is None:
            raise ValueError("may not be null")
        return value


class ApiKeyResponse(ResponseModel):
    id: str
    name: str
    prefix: str = Field(description="Non-secret start of the key, for recognising it")
    scopes: list[str]
    rate_limit_per_minute: int | None
    expires_at: str | None
    revoked_at: str | None
    last_used_at: str | None
    created_at: str
    workspace_id: str


class NewApiKeyResponse(ApiKeyResponse):
    key: str = Field(description="The full key. Shown only in this response; store it now.")


class ApiKeyListResponse(ResponseModel):
    data: list[ApiKeyResponse]
