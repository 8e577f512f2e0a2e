"""Integrations: the catalogue with its connections, the OAuth connect flow (authorization code
with PKCE S256 and a single-use state), disconnecting (revoke, then delete) and queueing syncs."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

import httpx
import structlog

from tessera.changes import Changes
from tessera.db.tenant import Tenant
from tessera.errors import BadRequest, FieldError, Gone, NotFound
from tessera.integrations import oauth, providers, repository
from tessera.integrations.providers import Integration
from tessera.integrations.repository import Connection, Sync
from tessera.settings import Settings
from tessera.webhooks.signing import seal, unseal

log = structlog.get_logger(__name__)
CONNECT_TTL = timedelta(minutes=10)
SYNC_JOB = "sync_integration"
_ERROR_CODE = re.compile(r"^[A-Za-z0-9_.\-]{1,60}$")


def sync_job_id(connection_id: int) -> str:
    return f"integration_sync:{connection_id}"


@dataclass(frozen=True, slots=True)
class Listed:
    integration: Integration
    missing: list[str]
    connections: list[tuple[Connection, Sync | None]]


@dataclass(frozen=True, slots=True)
class Started:
    auth_url: str
    connect_id: str


@dataclass(frozen=True, slots=True)
class ConnectState:
    status: str
    connection_id: int | None


@dataclass(frozen=True, slots=True)
class Outcome:
    """How a callback ended: ``connection_id`` when connected, else the reason (safe to show)."""

    connection_id: int | None
    problem: str | None
    unknown_state: bool = False
    """No pending flow had this state (forged, reused or expired)."""


def check_pair(type_: str, provider: str) -> Integration:
    """The integration of the path's type/provider, or 400 saying what is wrong."""
    errors = []
    if type_ not in providers.TYPES:
        errors.append(FieldError("type", "one of " + ", ".join(providers.TYPES)))
    if provider not in providers.PROVIDERS:
        errors.append(FieldError("provider", "one of " + ", ".join(providers.PROVIDERS)))
    found = providers.find_integration(type_, provider)
    if found is None:
        pairs = ", ".join(f"{i.type}/{i.provider}" for i in providers.INTEGRATIONS)
        raise BadRequest(f"Invalid integration type/provider combination '{type_[:30]}/{provider[:30]}'; "
                         f"valid: {pairs}", errors=errors)
    return found


def safe_error_code(raw: str | None) -> str:
    """A provider's ``error`` parameter if it looks like an OAuth error code, else a placeholder."""
    return raw if raw is not None and _ERROR_CODE.match(raw) else "unknown_error"


class IntegrationService:
    def __init__(self, tenant: Tenant, changes: Changes, settings: Settings) -> None:
        self.tenant = tenant
        self.changes = changes
        self.settings = settings
        self.pepper = settings.key_pepper.get_secret_value().encode()
        self.now = changes.now

    async def catalogue(self) -> list[Listed]:
        connections = await repository.list_connections(self.tenant)
        syncs = await repository.syncs(self.tenant, [c.id for c in connections]) if connections else {}
        return [Listed(i, providers.missing_settings(self.settings, i.provider),
                       [(c, syncs.get(c.id)) for c in connections if (c.type, c.provider) == (i.type, i.provider)])
                for i in providers.INTEGRATIONS]

    async def start(self, type_: str, provider: str) -> Started:
        integration = check_pair(type_, provider)
        missing = providers.missing_settings(self.settings, provider)
        if missing:
            raise BadRequest(f"The {integration.display_name} integration is not configured on this server: the "
                             f"operator must set {' and '.join(missing)}")
        client_id, _ = providers.client_credentials(self.settings, provider)
        connect_id, verifier = "cx_" + providers.new_token(), providers.new_token()
        state = providers.make_state(self.tenant.workspace_id)
        redirect = providers.redirect_uri(self.settings)
        (row_id,) = await self.changes.ids.take(self.tenant.conn, 1)
        await repository.insert_connect(
            self.tenant, row_id, connect_hash=providers.token_hash(connect_id), state_hash=providers.token_hash(state),
            sealed_verifier=seal(self.pepper, verifier), type_=type_, provider=provider, redirect=redirect,
            expires_at=self.now + CONNECT_TTL, now=self.now)
        url = providers.authorize_url(integration, providers.endpoints(self.settings, provider).authorize,
                                      client_id=client_id, redirect=redirect, state=state, verifier=verifier)
        return Started(url, connect_id)

    async def status(self, connect_id: str) -> ConnectState:
        if not 1 <= len(connect_id) <= 200:
            raise BadRequest("Invalid connect_id")
        found = await repository.connect_by_hash(self.tenant, providers.token_hash(connect_id))
        if found is None:
            raise NotFound("Connect ID not found")
        if found.status == "connected" and found.connection_id is not None:
            if await repository.get_connection(self.tenant, found.connection_id) is None:
                raise Gone("This connection was disconnected since; start a new connect")
            return ConnectState("connected", found.connection_id)
        if found.status == "failed":
            raise BadRequest(f"The connection did not complete: {found.error or 'refused'}; start a new connect")
        if found.expires_at <= self.now:
            raise Gone("Connect ID has expired (10 minute TTL); start a new connect")
        return ConnectState("pending", None)

    async def complete(self, http: httpx.AsyncClient, *, state: str, code: str | None,
                       error: str | None) -> Outcome:
        """The callback: use the state (once), exchange the code with its verifier, store the
        tokens sealed. Every outcome is written (a refused flow is marked failed, its state used)."""
        flow = await repository.take_state(self.tenant, providers.token_hash(state), self.now)
        if flow is None:
            return Outcome(None, "unknown, already used or expired state", unknown_state=True)
        integration = providers.find_integration(flow.type, flow.provider)
        assert integration is not None
        problem: str | None = None
        tokens = None
        if error is not None or not code:
            problem = f"the provider refused the authorization ({safe_error_code(error)})"
        else:
            client_id, secret = providers.client_credentials(self.settings, flow.provider)
            try:
                tokens = await oauth.exchange_code(
                    http, providers.endpoints(self.settings, flow.provider), client_id=client_id,
                    client_secret=secret, code=code[:4096], verifier=unseal(self.pepper, flow.code_verifier),
                    redirect=flow.redirect_uri, now=self.now)
            except oauth.ProviderError as err:
                problem = f"the provider refused the authorization code ({err.code})"
        if tokens is None:
            log.info("integration_connect_failed", provider=flow.provider, type=flow.type, reason=problem)
            await repository.finish_connect(self.tenant, flow.id, status="failed", connection_id=None,
                                            error=problem, now=self.now)
            return Outcome(None, problem)
        identifier = tokens.email
        if flow.provider == "google" and flow.type == "email":
            identifier = await oauth.gmail_address(
                http, providers.google_api_base(self.settings), tokens.access_token) or identifier
        (new_id,) = await self.changes.ids.take(self.tenant.conn, 1)
        connection = await repository.upsert_connection(
            self.tenant, new_id, type_=flow.type, provider=flow.provider,
            identifier=(identifier or f"{flow.provider}-account-{flow.id}")[:320],
            access_token=seal(self.pepper, tokens.access_token),
            refresh_token=seal(self.pepper, tokens.refresh_token) if tokens.refresh_token else None,
            expires_at=tokens.expires_at, scope=tokens.scope[:2000], now=self.now)
        await repository.finish_connect(self.tenant, flow.id, status="connected", connection_id=connection.id,
                                        error=None, now=self.now)
        if integration.syncs:
            await self._queue_sync(connection.id)
        log.info("integration_connected", provider=flow.provider, type=flow.type, connection_id=connection.id)
        return Outcome(connection.id, None)

    async def _queue_sync(self, connection_id: int) -> None:
        await repository.request_sync(self.tenant, connection_id, self.now)
        self.changes.enqueue(SYNC_JOB, self.tenant.workspace_id, connection_id, job_id=sync_job_id(connection_id))

    async def connection(self, connection_id: int | None, *, lock: bool = False) -> Connection:
        found = await repository.get_connection(self.tenant, connection_id, lock=lock) \
            if connection_id is not None else None
        if found is None:
            raise NotFound("Connection not found")
        return found

    async def disconnect(self, http: httpx.AsyncClient, connection_id: int | None) -> None:
        """Revoke the grant at the provider (the refresh token, which revokes its access tokens
        too, else the access token), then delete the connection and its sync state."""
        connection = await self.connection(connection_id, lock=True)
        sealed = connection.refresh_token or connection.access_token
        revoked = await oauth.revoke(http, providers.endpoints(self.settings, connection.provider),
                                     unseal(self.pepper, sealed))
        await repository.delete_connection(self.tenant, connection.id)
        log.info("integration_disconnected", provider=connection.provider, connection_id=connection.id,
                 revoked=revoked)

    async def sync(self, connection_id: int | None) -> tuple[Connection, Sync | None]:
        connection = await self.connection(connection_id)
        integration = providers.find_integration(connection.type, connection.provider)
        if integration is None or not integration.syncs:
            raise BadRequest("Only Gmail connections sync so far")
        await self._queue_sync(connection.id)
        return connection, (await repository.syncs(self.tenant, [connection.id])).get(connection.id)
