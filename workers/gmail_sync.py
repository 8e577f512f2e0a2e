"""Gmail sync: a connection's messages into context artifacts.

One job row per connection (``integration_syncs``, the connection's id; ``workers.jobs``
``INTEGRATION_SYNC`` leases, claims and fails it like any job). A run lists the messages after
the account's watermark (``users.messages.list`` with ``q=after:...`` and ``pageToken``), fetches
each new one (``users.messages.get`` with ``format=full``) and turns it into an artifact through
the same service as ``POST /v1/context/text`` (memory, extraction queued). Each page is one
transaction that also checkpoints the next page token and the counts, so a crashed run goes on
from its last page, and a message id is imported once per account (``integration_messages``'
key), so a rerun never duplicates. Access tokens are refreshed before they expire and once on a
401; a refused refresh marks the connection ``error`` (the user connects again).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import structlog
from sqlalchemy import text

from tessera import quotas
from tessera.changes import Actor, Changes, Stamp
from tessera.context import artifacts
from tessera.db.tenant import Tenant
from tessera.integrations import gmail, oauth, providers, repository
from tessera.integrations.repository import Connection
from tessera.integrations.service import SYNC_JOB, sync_job_id
from tessera.settings import Settings
from tessera.uow import transaction
from tessera.webhooks.signing import seal, unseal
from workers.deps import WorkerDeps, deps
from workers.job_errors import JobFailure
from workers.jobs import INTEGRATION_SYNC, claim, fail, leased

log = structlog.get_logger(__name__)


class GrantRefused(JobFailure):
    """The provider refused the connection's refresh token: only a new connect can help."""


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Session:
    """A connection's tokens in clear for the length of one run (never logged: no repr)."""

    worker: WorkerDeps
    http: httpx.AsyncClient
    workspace_id: int
    connection: Connection
    access: str
    refresh: str | None
    expires_at: datetime | None

    def __repr__(self) -> str:
        return f"Session(connection={self.connection.id})"

    @property
    def settings(self) -> Settings:
        return self.worker.settings

    async def refresh_tokens(self) -> None:
        if self.refresh is None:
            raise GrantRefused("the Gmail grant expired and has no refresh token: connect the account again")
        client_id, secret = providers.client_credentials(self.settings, self.connection.provider)
        try:
            tokens = await oauth.refresh(self.http, providers.endpoints(self.settings, self.connection.provider),
                                         client_id=client_id, client_secret=secret, refresh_token=self.refresh,
                                         now=_now())
        except oauth.ProviderError as err:
            if err.rejected:
                raise GrantRefused(f"Google refused to refresh the grant ({err.code}): connect the account "
                                   "again") from err
            raise JobFailure(f"Google's token endpoint failed ({err.code}); the sync will retry") from err
        self.access, self.refresh, self.expires_at = tokens.access_token, tokens.refresh_token, tokens.expires_at
        pepper = self.settings.key_pepper.get_secret_value().encode()
        changes = _changes(self.worker, self.connection.id)
        async with transaction(self.worker.engine, self.workspace_id, changes) as tenant:
            await repository.store_tokens(tenant, self.connection.id, access_token=seal(pepper, self.access),
                                          refresh_token=seal(pepper, self.refresh) if self.refresh else None,
                                          expires_at=self.expires_at, now=changes.now)
        log.info("integration_token_refreshed", connection_id=self.connection.id)

    async def get(self, path: str, params: dict[str, str]) -> Any:
        """GET a Gmail API path as JSON: refreshing first when the token is about to expire, and
        once more on a 401. None for a 404 (a message deleted since it was listed)."""
        if self.expires_at is not None and self.expires_at - oauth.REFRESH_MARGIN <= _now():
            await self.refresh_tokens()
        url = providers.google_api_base(self.settings) + path
        for attempt in (1, 2):
            try:
                response = await self.http.get(url, params=params, headers={"Authorization": f"Bearer {self.access}"})
            except httpx.HTTPError as err:
                raise JobFailure("Gmail could not be reached; the sync will retry") from err
            if response.status_code == 401 and attempt == 1:
                await self.refresh_tokens()
                continue
            if response.status_code == 404:
                return None
            if response.status_code != 200:
                raise JobFailure(f"Gmail answered {response.status_code}; the sync will retry")
            try:
                return response.json()
            except ValueError as err:
                raise JobFailure("Gmail answered something that is not JSON; the sync will retry") from err
        raise GrantRefused("Gmail refused the refreshed token: connect the account again")


def _changes(worker: WorkerDeps, connection_id: int) -> Changes:
    return Changes(worker.ids, Stamp(Actor("integration_sync", str(connection_id)), _now()))


async def _load(worker: WorkerDeps, workspace_id: int, connection_id: int) -> tuple[Connection | None, Any]:
    async with transaction(worker.engine, workspace_id, _changes(worker, connection_id)) as tenant:
        return (await repository.get_connection(tenant, connection_id),
                await repository.sync_position(tenant, connection_id))


async def _pending_full(tenant: Tenant, settings: Settings) -> bool:
    limit = settings.max_pending_artifacts_per_workspace
    return await quotas.count_rows(tenant, "artifacts", "status IN ('pending', 'processing')", limit) >= limit


async def _import_page(session: Session, source: str, mails: list[gmail.Email], *, next_token: str | None,
                       seen: int, history_id: str | None) -> int:
    """One page in one transaction: the new messages' artifacts and the checkpoint."""
    worker = session.worker
    changes = _changes(worker, session.connection.id)
    imported = 0
    async with transaction(worker.engine, session.workspace_id, changes, wake=worker.redis_client.nudge,
                           enqueue=worker.redis_client.enqueue) as tenant:
        for mail in mails:
            if not await repository.claim_message(tenant, source, mail.message_id, 0, mail.internal_date_ms,
                                                  changes.now):
                continue
            artifact_id = await artifacts.create_artifact(
                tenant, changes, content=gmail.artifact_text(mail),
                context=gmail.artifact_context(mail, session.connection.identifier))
            await repository.set_message_artifact(tenant, source, mail.message_id, artifact_id)
            imported += 1
        dates = [m.internal_date_ms for m in mails if m.internal_date_ms is not None]
        await repository.checkpoint(tenant, session.connection.id, page_token=next_token, seen=seen,
                                    imported=imported, max_ms=max(dates) if dates else None, history_id=history_id,
                                    now=changes.now)
    return imported


async def _run(worker: WorkerDeps, http: httpx.AsyncClient, workspace_id: int, connection_id: int) -> str:
    connection, position = await _load(worker, workspace_id, connection_id)
    if connection is None or position is None:
        return "skipped"  # disconnected meanwhile
    settings = worker.settings
    pepper = settings.key_pepper.get_secret_value().encode()
    session = Session(worker, http, workspace_id, connection, unseal(pepper, connection.access_token),
                      unseal(pepper, connection.refresh_token) if connection.refresh_token else None,
                      connection.token_expires_at)
    source = f"{connection.provider}:{connection.identifier}"
    after_ms = position.run_after_ms
    seen = position.run_seen
    if after_ms is None:  # a new run (else: go on from the checkpoint a crash or the budget left)
        after_ms = position.watermark_ms if position.watermark_ms is not None \
            else gmail.initial_after_ms(_now(), settings.gmail_sync_initial_days)
        async with transaction(worker.engine, workspace_id, _changes(worker, connection_id)) as tenant:
            await repository.start_run(tenant, connection_id, after_ms=after_ms, now=_now())
        seen = 0
    page_token = position.page_token
    query = gmail.list_query(after_ms=after_ms, extra=settings.gmail_sync_query)
    budget = settings.gmail_sync_max_messages_per_run
    while True:
        async with transaction(worker.engine, workspace_id, _changes(worker, connection_id)) as tenant:
            if await _pending_full(tenant, settings):
                await repository.finish_run(tenant, connection_id, complete=False, now=_now(),
                                            note="paused: the workspace has too many artifacts waiting for "
                                                 "extraction; the next sync goes on")
                return "paused"
        if seen >= budget:
            break
        params = {"q": query, "maxResults": str(min(settings.gmail_sync_page_size, budget - seen))}
        if page_token:
            params["pageToken"] = page_token
        listing = await session.get("/gmail/v1/users/me/messages", params) or {}
        ids = [m["id"] for m in listing.get("messages") or [] if isinstance(m, dict) and isinstance(m.get("id"), str)]
        async with transaction(worker.engine, workspace_id, _changes(worker, connection_id)) as tenant:
            known = await repository.known_messages(tenant, source, ids) if ids else set()
        mails: list[gmail.Email] = []
        history_id = None
        for message_id in ids:
            if message_id in known:
                continue
            message = await session.get(f"/gmail/v1/users/me/messages/{message_id}", {"format": "full"})
            try:
                mail = gmail.parse_message(message) if isinstance(message, dict) else None
            except (ValueError, TypeError, LookupError, AttributeError):  # one unreadable message
                log.warning("gmail_message_unreadable", connection_id=connection_id, message_id=message_id[:64])
                mail = None
            if mail is not None:
                mails.append(mail)
                if isinstance(message, dict) and isinstance(message.get("historyId"), str):
                    history_id = max(history_id or "", message["historyId"], key=lambda h: (len(h), h))
        next_token = listing.get("nextPageToken")
        next_token = next_token if isinstance(next_token, str) and next_token else None
        imported = await _import_page(session, source, mails, next_token=next_token, seen=len(ids),
                                      history_id=history_id)
        seen += len(ids)
        log.info("gmail_page_synced", connection_id=connection_id, listed=len(ids), imported=imported)
        page_token = next_token
        if page_token is None:
            break
    async with transaction(worker.engine, workspace_id, _changes(worker, connection_id)) as tenant:
        await repository.finish_run(tenant, connection_id, complete=page_token is None, note=None, now=_now())
    return "completed"


@leased(INTEGRATION_SYNC)
async def sync_integration(ctx: dict[str, Any], workspace_id: int, connection_id: int) -> str:
    """arq job: one sync run of a connection (idempotent: a finished run is left alone)."""
    worker = deps(ctx)
    row = await claim(worker.engine, INTEGRATION_SYNC, workspace_id, connection_id)
    if row is None:
        return "skipped"
    try:
        async with httpx.AsyncClient(timeout=worker.settings.integrations_http_timeout_seconds) as http:
            return await _run(worker, http, workspace_id, connection_id)
    except Exception as err:  # report any failure on the job row (and a refused grant on the connection)
        log.warning("integration_sync_failed", connection_id=connection_id, error_type=type(err).__name__)
        if isinstance(err, GrantRefused):
            async with transaction(worker.engine, workspace_id, _changes(worker, connection_id)) as tenant:
                await repository.mark_error(tenant, connection_id, str(err), _now())
        await fail(worker.engine, INTEGRATION_SYNC, workspace_id, connection_id, row["attempts"], err,
                   final=isinstance(err, GrantRefused))
        return "failed"


async def schedule_syncs(ctx: dict[str, Any]) -> int:
    """Cron: queue a sync of every active Gmail connection last synced ``GMAIL_SYNC_INTERVAL_MINUTES``
    ago or more (a run that is queued or running is left alone). Returns how many were queued."""
    worker = deps(ctx)
    minutes = worker.settings.gmail_sync_interval_minutes
    async with worker.engine.begin() as conn:
        rows = (await conn.execute(text(
            "UPDATE integration_syncs AS s SET status = 'pending', attempts = 0, error = NULL, run_seen = 0, "
            "run_imported = 0, updated_at = now() "
            "FROM integration_connections AS c WHERE c.workspace_id = s.workspace_id AND c.id = s.id "
            "AND s.workspace_id IS NOT NULL AND c.status = 'active' AND c.type = 'email' AND c.provider = 'google' "
            "AND s.status IN ('completed', 'failed') "
            "AND (s.last_synced_at IS NULL OR s.last_synced_at < now() - make_interval(mins => :m)) "
            "RETURNING s.workspace_id, s.id"), {"m": minutes})).all()
    for row in rows:
        await worker.redis_client.enqueue(SYNC_JOB, row.workspace_id, row.id, job_id=sync_job_id(row.id))
    return len(rows)
