"""SQL of integrations: connections, connect flows, sync rows. Every statement is tenant-scoped
(``$1`` the workspace) and numbers its other parameters with ``Params``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg

from tessera.db.id_order import order_by
from tessera.db.sql import Params
from tessera.db.tenant import Tenant


@dataclass(frozen=True, slots=True)
class Connection:
    """A connected account; its tokens stay sealed (``access_token``/``refresh_token`` bytes)."""

    id: int
    type: str
    provider: str
    identifier: str
    status: str
    access_token: bytes
    refresh_token: bytes | None
    token_expires_at: datetime | None
    scope: str
    error: str | None
    created_at: datetime
    updated_at: datetime

    def __repr__(self) -> str:
        return f"Connection(id={self.id}, {self.type}/{self.provider}, status={self.status})"


@dataclass(frozen=True, slots=True)
class Sync:
    """The sync job row of a connection: where its run stands and what it imported."""

    status: str
    error: str | None
    messages_synced: int
    run_seen: int
    run_imported: int
    last_synced_at: datetime | None


@dataclass(frozen=True, slots=True)
class Connect:
    """A connect flow (its connect id and state are kept only as hashes)."""

    id: int
    type: str
    provider: str
    status: str
    error: str | None
    connection_id: int | None
    code_verifier: bytes
    redirect_uri: str
    expires_at: datetime


_CONNECTION = ("id, type, provider, identifier, status, access_token, refresh_token, token_expires_at, scope, "
               "error, created_at, updated_at")
_CONNECT = "id, type, provider, status, error, connection_id, code_verifier, redirect_uri, expires_at"


def _connection(row: asyncpg.Record) -> Connection:
    return Connection(**{k: row[k] for k in Connection.__slots__})


def _connect(row: asyncpg.Record) -> Connect:
    return Connect(**{k: row[k] for k in Connect.__slots__})


async def insert_connect(tenant: Tenant, connect_id: int, *, connect_hash: bytes, state_hash: bytes,
                         sealed_verifier: bytes, type_: str, provider: str, redirect: str, expires_at: datetime,
                         now: datetime) -> None:
    params = Params()
    values = ", ".join(params.add(v) for v in (connect_id, connect_hash, state_hash, sealed_verifier, type_,
                                                provider, redirect, expires_at, now))
    await tenant.fetch(
        "INSERT INTO integration_connects (workspace_id, id, connect_hash, state_hash, code_verifier, type, "
        f"provider, redirect_uri, expires_at, created_at) VALUES ($1, {values})", *params.values)


async def connect_by_hash(tenant: Tenant, connect_hash: bytes) -> Connect | None:
    params = Params()
    row = await tenant.fetchrow(f"SELECT {_CONNECT} FROM integration_connects WHERE workspace_id = $1 AND "
                                f"connect_hash = {params.add(connect_hash)}", *params.values)
    return _connect(row) if row is not None else None


async def take_state(tenant: Tenant, state_hash: bytes, now: datetime) -> Connect | None:
    """The pending, unexpired flow of ``state``, locked; None when there is none (unknown, used,
    expired). Its state is used from here on: a second callback with it finds nothing."""
    params = Params()
    row = await tenant.fetchrow(
        f"SELECT {_CONNECT} FROM integration_connects WHERE workspace_id = $1 AND "
        f"state_hash = {params.add(state_hash)} AND status = 'pending' AND expires_at > {params.add(now)} "
        "FOR UPDATE", *params.values)
    return _connect(row) if row is not None else None


async def finish_connect(tenant: Tenant, connect_id: int, *, status: str, connection_id: int | None,
                         error: str | None, now: datetime) -> None:
    params = Params()
    await tenant.fetch(
        f"UPDATE integration_connects SET status = {params.add(status)}, connection_id = "
        f"{params.add(connection_id)}, error = {params.add(error)}, completed_at = {params.add(now)} "
        f"WHERE workspace_id = $1 AND id = {params.add(connect_id)}", *params.values)


async def upsert_connection(tenant: Tenant, new_id: int, *, type_: str, provider: str, identifier: str,
                            access_token: bytes, refresh_token: bytes | None, expires_at: datetime | None,
                            scope: str, now: datetime) -> Connection:
    """Connect an account; the same account connected again keeps its connection (and its sync
    position) with the new tokens."""
    params = Params()
    values = ", ".join(params.add(v) for v in (new_id, type_, provider, identifier, access_token, refresh_token,
                                                expires_at, scope, now))
    row = await tenant.fetchrow(
        "INSERT INTO integration_connections (workspace_id, id, type, provider, identifier, access_token, "
        f"refresh_token, token_expires_at, scope, created_at, updated_at) VALUES ($1, {values}, "
        f"{params.add(now)}) ON CONFLICT (workspace_id, type, provider, identifier) DO UPDATE SET "
        "access_token = EXCLUDED.access_token, refresh_token = COALESCE(EXCLUDED.refresh_token, "
        "integration_connections.refresh_token), token_expires_at = EXCLUDED.token_expires_at, "
        "scope = EXCLUDED.scope, status = 'active', error = NULL, updated_at = EXCLUDED.updated_at "
        f"RETURNING {_CONNECTION}", *params.values)
    assert row is not None
    return _connection(row)


async def get_connection(tenant: Tenant, connection_id: int, *, lock: bool = False) -> Connection | None:
    params = Params()
    row = await tenant.fetchrow(
        f"SELECT {_CONNECTION} FROM integration_connections WHERE workspace_id = $1 AND "
        f"id = {params.add(connection_id)}" + (" FOR UPDATE" if lock else ""), *params.values)
    return _connection(row) if row is not None else None


async def list_connections(tenant: Tenant) -> list[Connection]:
    return [_connection(r) for r in await tenant.fetch(
        f"SELECT {_CONNECTION} FROM integration_connections WHERE workspace_id = $1 "
        f"ORDER BY {order_by(tenant.workspace_id, 'id')} LIMIT 1000")]


async def delete_connection(tenant: Tenant, connection_id: int) -> None:
    """The connection and its sync row go; the imported artifacts and the message ids stay (a
    reconnect of the same account does not import them again)."""
    params = Params()
    await tenant.fetch(f"DELETE FROM integration_connections WHERE workspace_id = $1 AND "
                       f"id = {params.add(connection_id)}", *params.values)


async def store_tokens(tenant: Tenant, connection_id: int, *, access_token: bytes, refresh_token: bytes | None,
                       expires_at: datetime | None, now: datetime) -> None:
    params = Params()
    await tenant.fetch(
        f"UPDATE integration_connections SET access_token = {params.add(access_token)}, refresh_token = "
        f"{params.add(refresh_token)}, token_expires_at = {params.add(expires_at)}, status = 'active', "
        f"error = NULL, updated_at = {params.add(now)} WHERE workspace_id = $1 AND id = {params.add(connection_id)}",
        *params.values)


async def mark_error(tenant: Tenant, connection_id: int, error: str, now: datetime) -> None:
    params = Params()
    await tenant.fetch(
        f"UPDATE integration_connections SET status = 'error', error = {params.add(error[:300])}, updated_at = "
        f"{params.add(now)} WHERE workspace_id = $1 AND id = {params.add(connection_id)}", *params.values)


async def request_sync(tenant: Tenant, connection_id: int, now: datetime) -> bool:
    """Queue a sync of the connection (a row, the job's state; a new run counts from zero, and goes
    on from the page the last one stopped at, if it stopped early). False when one is already
    queued or running (it will see the new mail anyway)."""
    params = Params()
    rows = await tenant.fetch(
        f"INSERT INTO integration_syncs (workspace_id, id, status, created_at, updated_at) VALUES "
        f"($1, {params.add(connection_id)}, 'pending', {params.add(now)}, {params.add(now)}) "
        "ON CONFLICT (workspace_id, id) DO UPDATE SET status = 'pending', attempts = 0, error = NULL, "
        "run_seen = 0, run_imported = 0, "
        "updated_at = EXCLUDED.updated_at WHERE integration_syncs.status IN ('completed', 'failed') "
        "RETURNING id", *params.values)
    return bool(rows)


async def syncs(tenant: Tenant, connection_ids: list[int]) -> dict[int, Sync]:
    params = Params()
    rows = await tenant.fetch(
        "SELECT id, status, error, messages_synced, run_seen, run_imported, last_synced_at FROM integration_syncs "
        f"WHERE workspace_id = $1 AND id = ANY({params.add(connection_ids, 'bigint[]')})", *params.values)
    return {r["id"]: Sync(**{k: r[k] for k in Sync.__slots__}) for r in rows}


@dataclass(frozen=True, slots=True)
class SyncPosition:
    """Where a sync run stands: the moment its listing starts after, the page it goes on with."""

    page_token: str | None
    run_after_ms: int | None
    run_max_ms: int | None
    watermark_ms: int | None
    run_seen: int


async def sync_position(tenant: Tenant, connection_id: int) -> SyncPosition | None:
    params = Params()
    row = await tenant.fetchrow(
        "SELECT page_token, run_after_ms, run_max_ms, watermark_ms, run_seen FROM integration_syncs "
        f"WHERE workspace_id = $1 AND id = {params.add(connection_id)}", *params.values)
    return SyncPosition(**{k: row[k] for k in SyncPosition.__slots__}) if row is not None else None


async def start_run(tenant: Tenant, connection_id: int, *, after_ms: int, now: datetime) -> None:
    """A new run: list from ``after_ms``, counts of the run back to zero."""
    params = Params()
    await tenant.fetch(
        f"UPDATE integration_syncs SET run_after_ms = {params.add(after_ms)}, run_max_ms = watermark_ms, "
        f"page_token = NULL, run_seen = 0, run_imported = 0, started_at = {params.add(now)}, updated_at = "
        f"{params.add(now)} WHERE workspace_id = $1 AND id = {params.add(connection_id)}", *params.values)


async def known_messages(tenant: Tenant, source: str, message_ids: list[str]) -> set[str]:
    params = Params()
    rows = await tenant.fetch(
        f"SELECT message_id FROM integration_messages WHERE workspace_id = $1 AND source = {params.add(source)} "
        f"AND message_id = ANY({params.add(message_ids, 'text[]')})", *params.values)
    return {r["message_id"] for r in rows}


async def claim_message(tenant: Tenant, source: str, message_id: str, artifact_id: int,
                        internal_date_ms: int | None, now: datetime) -> bool:
    """Record that ``message_id`` becomes ``artifact_id``; False when it was imported already."""
    params = Params()
    rows = await tenant.fetch(
        "INSERT INTO integration_messages (workspace_id, source, message_id, artifact_id, internal_date_ms, "
        f"created_at) VALUES ($1, {params.add(source)}, {params.add(message_id)}, {params.add(artifact_id)}, "
        f"{params.add(internal_date_ms)}, {params.add(now)}) ON CONFLICT DO NOTHING RETURNING message_id",
        *params.values)
    return bool(rows)


async def set_message_artifact(tenant: Tenant, source: str, message_id: str, artifact_id: int) -> None:
    params = Params()
    await tenant.fetch(
        f"UPDATE integration_messages SET artifact_id = {params.add(artifact_id)} WHERE workspace_id = $1 AND "
        f"source = {params.add(source)} AND message_id = {params.add(message_id)}", *params.values)


async def checkpoint(tenant: Tenant, connection_id: int, *, page_token: str | None, seen: int, imported: int,
                     max_ms: int | None, history_id: str | None, now: datetime) -> None:
    """After a page: its counts, the next page to read, the newest message seen."""
    params = Params()
    await tenant.fetch(
        f"UPDATE integration_syncs SET page_token = {params.add(page_token)}, run_seen = run_seen + "
        f"{params.add(seen)}, run_imported = run_imported + {params.add(imported)}, messages_synced = "
        f"messages_synced + {params.add(imported)}, run_max_ms = GREATEST(run_max_ms, {params.add(max_ms)}), "
        f"history_id = COALESCE({params.add(history_id)}, history_id), updated_at = {params.add(now)} "
        f"WHERE workspace_id = $1 AND id = {params.add(connection_id)}", *params.values)


async def finish_run(tenant: Tenant, connection_id: int, *, complete: bool, note: str | None,
                     now: datetime) -> None:
    """Mark the job row completed. ``complete``: the listing reached its end, so its newest message
    becomes the watermark the next run lists after; otherwise (the run's budget ran out) the next
    run goes on from the saved page."""
    params = Params()
    moved = ("watermark_ms = GREATEST(watermark_ms, run_max_ms), run_after_ms = NULL, page_token = NULL, "
             if complete else "")
    await tenant.fetch(
        f"UPDATE integration_syncs SET {moved}status = 'completed', error = {params.add(note)}, "
        f"last_synced_at = {params.add(now)}, updated_at = {params.add(now)} "
        f"WHERE workspace_id = $1 AND id = {params.add(connection_id)}", *params.values)
