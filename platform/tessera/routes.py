"""The route table: every API endpoint, as data. Paths hang below ``API_PREFIX``."""

from __future__ import annotations

from tessera.http.endpoint import Endpoint
from tessera.keys import endpoints as keys
from tessera.keys import models as key_models

API_PREFIX = "/api/developers"

ENDPOINTS: list[Endpoint] = [
    # Key management (beyond the seed)
    Endpoint("GET", "/v1/api-keys", keys.list_keys, "api_key.read", "listApiKeys",
             "List API keys", "API keys", response=key_models.ApiKeyListResponse),
    Endpoint("POST", "/v1/api-keys", keys.create_key, "api_key.write", "createApiKey",
             "Create an API key (the full key is shown once)", "API keys",
             body=key_models.CreateApiKeyRequest, response=key_models.NewApiKeyResponse),
    Endpoint("GET", "/v1/api-keys/{id}", keys.get_key, "api_key.read", "getApiKey",
             "Get an API key", "API keys", response=key_models.ApiKeyResponse),
    Endpoint("PATCH", "/v1/api-keys/{id}", keys.update_key, "api_key.write", "updateApiKey",
             "Update an API key", "API keys", body=key_models.UpdateApiKeyRequest,
             response=key_models.ApiKeyResponse),
    Endpoint("DELETE", "/v1/api-keys/{id}", keys.revoke_key, "api_key.write", "revokeApiKey",
             "Revoke an API key", "API keys"),
    Endpoint("POST", "/v1/api-keys/{id}/rotate", keys.rotate_key, "api_key.write", "rotateApiKey",
             "Issue a new key with the same settings and revoke this one", "API keys",
             response=key_models.NewApiKeyResponse),
]
