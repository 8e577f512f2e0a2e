"""Response models of the integration endpoints (documentation; handlers build the JSON)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, RootModel

from tessera.wire import ResponseModel


class SyncRunResponse(ResponseModel):
    messages_seen: int
    messages_imported: int


class SyncResponse(ResponseModel):
    status: Literal["pending", "processing", "completed", "failed"]
    messages_synced: int = Field(description="Messages imported into context over all runs")
    last_run: SyncRunResponse
    last_synced_at: str | None = None
    error: str | None = None


class ConnectionResponse(ResponseModel):
    id: int
    status: str = Field(description="active, or error (the grant stopped working: connect again)")
    identifier: str
    type: str
    provider: str
    created_at: str
    updated_at: str
    error: str | None = None
    sync: SyncResponse | None = Field(default=None, description="Connections that sync (Gmail)")


class IntegrationResponse(ResponseModel):
    type: Literal["email", "calendar", "messaging", "crm"]
    provider: Literal["google", "microsoft", "slack", "attio", "hubspot", "salesforce"]
    display_name: str
    description: str
    connections: list[ConnectionResponse]
    available: bool = Field(description="Whether the operator configured this provider (beyond the spec)")
    missing_settings: list[str] = Field(description="What the operator must set to enable it")
    syncs: bool = Field(description="Whether Tessera pulls data from it")


class IntegrationListResponse(RootModel[list[IntegrationResponse]]):
    pass


class ConnectResponse(ResponseModel):
    auth_url: str
    connect_id: str


class ConnectStatusResponse(ResponseModel):
    status: Literal["pending", "connected"]
    connection_id: int | None = None


class SyncStartedResponse(ResponseModel):
    connection: ConnectionResponse
