"""Integrations as the API shows them (``IntegrationResponse``, ``ConnectionResponse``,
``ConnectResponse``, ``ConnectStatusResponse``), plus what the spec leaves out: whether a provider
is available here and what it needs, and a connection's sync progress. Never a token."""

from __future__ import annotations

from tessera.integrations.repository import Connection, Sync
from tessera.integrations.service import ConnectState, Listed, Started
from tessera.wire import JsonObject, JsonValue, iso


def sync_to_json(sync: Sync) -> JsonObject:
    out: JsonObject = {"status": sync.status, "messages_synced": sync.messages_synced,
                       "last_run": {"messages_seen": sync.run_seen, "messages_imported": sync.run_imported}}
    if sync.last_synced_at is not None:
        out["last_synced_at"] = iso(sync.last_synced_at)
    if sync.error:
        out["error"] = sync.error
    return out


def connection_to_json(connection: Connection, sync: Sync | None) -> JsonObject:
    out: JsonObject = {"id": connection.id, "status": connection.status, "identifier": connection.identifier,
                       "type": connection.type, "provider": connection.provider,
                       "created_at": iso(connection.created_at), "updated_at": iso(connection.updated_at)}
    if connection.error:
        out["error"] = connection.error
    if sync is not None:
        out["sync"] = sync_to_json(sync)
    return out


def integration_to_json(listed: Listed) -> JsonObject:
    i = listed.integration
    return {"type": i.type, "provider": i.provider, "display_name": i.display_name, "description": i.description,
            "connections": [connection_to_json(c, s) for c, s in listed.connections],
            "available": not listed.missing, "missing_settings": list[JsonValue](listed.missing),
            "syncs": i.syncs}


def started_to_json(started: Started) -> JsonObject:
    return {"auth_url": started.auth_url, "connect_id": started.connect_id}


def connect_state_to_json(state: ConnectState) -> JsonObject:
    out: JsonObject = {"status": state.status}
    if state.connection_id is not None:
        out["connection_id"] = state.connection_id
    return out
