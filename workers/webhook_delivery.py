"""Webhook fan-out and delivery.

``dispatch_webhooks`` turns webhook outbox rows into one delivery row per matching subscription
(idempotently: a message id per event, unique per subscription). Due deliveries are sent signed
with the Standard Webhooks scheme (``webhook-id``, ``webhook-timestamp``, ``webhook-signature``),
at least once, in three steps:

- a short transaction claims the delivery: it counts the attempt and leases the row (moves
  ``next_attempt_at`` to the attempt's retry time, or past the send's deadline if that is later),
  so a worker killed mid-send leaves it to be sent again when the lease ends (receivers dedupe by
  ``webhook-id``), and the lost send costs an attempt like any failure;
- the send, outside any transaction, under one overall deadline (``WEBHOOK_SEND_TIMEOUT_SECONDS``:
  lookup, connect, request, answer), reading at most 64 KiB of the answer;
- a second short transaction records the outcome, if the row still holds this attempt.

Failures retry after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h, then the delivery is marked
failed; a subscription failing for 5 days is disabled. A worker process keeps its sends in one
``DeliverySender``: at most ``WEBHOOK_MAX_CONCURRENT_SENDS`` in flight and
``WEBHOOK_MAX_SENDS_PER_SUBSCRIPTION`` per subscription, refilled as each send ends, so a stuck
receiver holds a few slots for at most the deadline and never another subscription's sends.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections import Counter
from collections.abc import Callable, Mapping
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
import structlog
from cryptography.exceptions import InvalidTag
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from standardwebhooks.webhooks import Webhook

from schema_registry.evaluate import RecordState, evaluate
from schema_registry.query import QueryError, parse_filter
from schema_registry.workspace import WorkspaceSchema
from tessera.db.locks import WEBHOOK_FANOUT_LOCK
from tessera.db.tenant import Tenant
from tessera.registry.repository import bump_version, load_schema
from tessera.settings import Settings
from tessera.webhooks.address import UnsafeTarget, resolve_target
from tessera.webhooks.service import matches_event
from tessera.webhooks.signing import unseal
from workers.deps import deps

log = structlog.get_logger(__name__)

RETRY_DELAYS = (5, 300, 1800, 7200, 18_000, 36_000, 36_000)
"""Seconds to wait after failed attempt n before attempt n+1 (8 attempts in all)."""
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
DISABLE_AFTER = timedelta(days=5)
BATCH = 500
PARALLEL = 20  # deliveries one ``deliver_webhooks`` call claims and sends side by side
LEASE_GRACE_S = 5.0  # a claim outlives its send's deadline by this much (time to record the outcome)
MAX_RESPONSE_BYTES = 64 * 1024
EXCERPT = 500
SENDING = "sending: no answer recorded yet"
DEFAULT_DEADLINE_S: float = Settings.model_fields["webhook_send_timeout_seconds"].default


def _json(value: Any) -> Any:
    return orjson.loads(value) if isinstance(value, str) else value


def _event_object(event_type: str, payload: dict[str, Any]) -> str | None:
    """The object slug an event concerns (None for tasks, notes and insights)."""
    state = payload.get("state")
    if state is not None:
        return str(state.get("object_slug"))
    data = payload.get("data", {})
    if event_type.startswith("object."):
        return str(data.get("slug"))
    if event_type.startswith("attribute."):
        return str(data.get("object_slug"))
    return None


def _wants(hook: dict[str, Any], event_type: str, payload: dict[str, Any], schema: WorkspaceSchema | None) -> bool:
    """Whether a subscription receives an event: its event types, its objects, its filter."""
    if not matches_event(list(hook["events"]), event_type):
        return False
    slugs = list(hook["object_slugs"])
    if slugs and _event_object(event_type, payload) not in slugs:
        return False
    flt = _json(hook["filter"])
    state = payload.get("state")
    if flt is None or state is None:
        return True
    obj = schema.object(slugs[0]) if schema is not None and slugs else None
    if obj is None:
        return False
    try:
        node = parse_filter(obj, flt)
    except QueryError:  # the schema changed under the filter: deliver nothing rather than everything
        return False
    record = RecordState(id=int(state["id"]), created_at=datetime.fromisoformat(state["created_at"]),
                         updated_at=datetime.fromisoformat(state["updated_at"]), data=state["data"])
    return evaluate(node, record)


async def dispatch_webhooks(db: AsyncEngine) -> int:
    """Fan webhook outbox rows out into deliveries. Returns rows consumed."""
    async with db.connect() as conn, conn.begin():
        # Shared: fan-outs run side by side; an erasure takes it exclusively (``tessera.db.locks``).
        await conn.execute(text("SELECT pg_advisory_xact_lock_shared(:k)"), {"k": WEBHOOK_FANOUT_LOCK})
        rows = (await conn.execute(text(
            "SELECT id, workspace_id, event_type, payload, created_at FROM outbox WHERE topic = 'webhook' "
            "AND processed_at IS NULL ORDER BY id LIMIT :n FOR UPDATE SKIP LOCKED"), {"n": BATCH})).all()
        if not rows:
            return 0
        hooks: dict[int, list[dict[str, Any]]] = {}
        schemas: dict[int, WorkspaceSchema] = {}
        for row in rows:
            if row.workspace_id not in hooks:
                hooks[row.workspace_id] = [dict(h) for h in (await conn.execute(text(
                    "SELECT id, events, object_slugs, filter FROM webhooks WHERE workspace_id = :ws "
                    "AND status = 'active'"), {"ws": row.workspace_id})).mappings()]
                if any(h["filter"] is not None for h in hooks[row.workspace_id]):
                    schemas[row.workspace_id] = await load_schema(Tenant(conn, row.workspace_id))
            payload = _json(row.payload)
            body = {"type": row.event_type, "timestamp": row.created_at.astimezone(UTC).isoformat()
                    .replace("+00:00", "Z"), "data": payload["data"]}
            for hook in hooks[row.workspace_id]:
                if _wants(hook, row.event_type, payload, schemas.get(row.workspace_id)):
                    await conn.execute(text(
                        "INSERT INTO webhook_deliveries (workspace_id, webhook_id, message_id, event_type, payload, "
                        "next_attempt_at) VALUES (:ws, :hook, :msg, :type, CAST(:p AS jsonb), :at) "
                        "ON CONFLICT (workspace_id, webhook_id, message_id) DO NOTHING"),
                        {"ws": row.workspace_id, "hook": hook["id"], "msg": f"msg_{row.id}", "type": row.event_type,
                         "p": orjson.dumps(body).decode(), "at": row.created_at})
        await conn.execute(text("UPDATE outbox SET processed_at = now() WHERE id = ANY(CAST(:ids AS bigint[]))"),
                           {"ids": [r.id for r in rows]})
        return len(rows)


@dataclass(frozen=True, slots=True)
class Due:
    """A claimed delivery: the attempt being made (1-based) and what making it needs."""

    workspace_id: int
    id: int
    webhook_id: int
    message_id: str
    payload: Any
    attempt: int
    url: str
    secret: bytes

    @property
    def subscription(self) -> tuple[int, int]:
        return self.workspace_id, self.webhook_id


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one attempt got: the answer's status (None when there was none) and why not."""

    status: int | None
    latency_ms: float
    error: str | None = None
    excerpt: str | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def delivery_client(settings: Settings) -> httpx.AsyncClient:
    """The worker's client for webhook sends. ``trust_env=False``: no HTTP(S)_PROXY (a proxy would
    carry sends past the address check) and no ``.netrc`` credentials. No keep-alive: the pool
    keys connections by address, so a kept TLS connection, opened and verified for one host name,
    would carry the next subscription's payload for another name on the same address."""
    return httpx.AsyncClient(follow_redirects=False, trust_env=False,
                             timeout=httpx.Timeout(settings.webhook_send_timeout_seconds),
                             limits=httpx.Limits(max_connections=settings.webhook_max_concurrent_sends,
                                                 max_keepalive_connections=0),
                             headers={"accept-encoding": "identity"})


def _lease(now: datetime, attempt: int, deadline_s: float) -> datetime:
    retry = RETRY_DELAYS[attempt - 1] if attempt <= len(RETRY_DELAYS) else 0
    return now + timedelta(seconds=max(retry, deadline_s + LEASE_GRACE_S))


async def claim_due(db: AsyncEngine, now: datetime, *, limit: int, per_subscription: int, deadline_s: float,
                    busy: Mapping[tuple[int, int], int] | None = None) -> list[Due]:
    """Claim up to ``limit`` deliveries due at ``now``, oldest first, at most ``per_subscription``
    of one subscription counting its ``busy`` sends already in flight. Each claim counts its attempt
    and leases the row; a row whose last attempt was lost (the worker died) is marked failed."""
    busy = busy or {}
    full = [key for key, count in busy.items() if count >= per_subscription]
    async with db.connect() as conn, conn.begin():
        rows = (await conn.execute(text(
            "SELECT d.workspace_id, d.id, d.webhook_id, d.message_id, d.payload, d.attempt, w.url, w.secret "
            "FROM webhook_deliveries d JOIN webhooks w ON w.workspace_id = d.workspace_id AND w.id = d.webhook_id "
            "WHERE d.status IN ('pending', 'retrying') AND d.next_attempt_at <= :now AND w.status = 'active' "
            "AND (d.workspace_id, d.webhook_id) NOT IN "
            "(SELECT * FROM unnest(CAST(:full_ws AS bigint[]), CAST(:full_hooks AS bigint[]))) "
            "ORDER BY d.next_attempt_at LIMIT :scan FOR UPDATE OF d SKIP LOCKED"),
            {"now": now, "full_ws": [k[0] for k in full], "full_hooks": [k[1] for k in full],
             "scan": max(4 * limit, PARALLEL)})).mappings().all()
        counts = Counter(busy)
        claimed: list[Due] = []
        spent: list[Any] = []
        for row in rows:
            key = (row["workspace_id"], row["webhook_id"])
            if row["attempt"] >= MAX_ATTEMPTS:
                spent.append(row)
            elif len(claimed) < limit and counts[key] < per_subscription:
                counts[key] += 1
                claimed.append(Due(row["workspace_id"], row["id"], row["webhook_id"], row["message_id"],
                                   _json(row["payload"]), row["attempt"] + 1, row["url"], bytes(row["secret"])))
        if spent:
            await conn.execute(text(
                "UPDATE webhook_deliveries SET status = 'failed', last_error = 'the last attempt was lost "
                "(the worker stopped during the send)', updated_at = :now FROM unnest(CAST(:ws AS bigint[]), "
                "CAST(:ids AS bigint[])) AS c(ws, id) WHERE workspace_id = c.ws AND webhook_deliveries.id = c.id"),
                {"now": now, "ws": [r["workspace_id"] for r in spent], "ids": [r["id"] for r in spent]})
        if claimed:
            await conn.execute(text(
                "UPDATE webhook_deliveries d SET attempt = c.attempt, next_attempt_at = c.lease, "
                "last_error = :sending, updated_at = :now FROM unnest(CAST(:ws AS bigint[]), CAST(:ids AS bigint[]), "
                "CAST(:attempts AS int[]), CAST(:leases AS timestamptz[])) AS c(ws, id, attempt, lease) "
                "WHERE d.workspace_id = c.ws AND d.id = c.id"),
                {"now": now, "sending": SENDING, "ws": [d.workspace_id for d in claimed],
                 "ids": [d.id for d in claimed], "attempts": [d.attempt for d in claimed],
                 "leases": [_lease(now, d.attempt, deadline_s) for d in claimed]})
    return claimed


async def _send(http: httpx.AsyncClient, due: Due, secret: str, allow_hosts: frozenset[str], now: datetime, *,
                deadline_s: float, resolver: Executor | None) -> Outcome:
    """POST one delivery. Everything up to the answer's status must happen within ``deadline_s``;
    the answer's body is then read in what is left of it, at most MAX_RESPONSE_BYTES (the status
    stands if the body is cut short: the receiver has answered)."""
    started = time.perf_counter()
    status: int | None = None
    latency = 0.0
    raw = bytearray()
    encoding = "utf-8"
    try:
        async with asyncio.timeout(deadline_s):
            target, address = await resolve_target(due.url, allow_hosts, resolver=resolver)
            body = orjson.dumps(due.payload)
            signature = Webhook(secret).sign(due.message_id, now, body.decode())
            default_port = 443 if target.scheme == "https" else 80
            host_header = target.host if target.port == default_port else f"{target.host}:{target.port}"
            headers = {"content-type": "application/json", "user-agent": "Tessera-Webhooks/1",
                       "webhook-id": due.message_id, "webhook-timestamp": str(int(now.timestamp())),
                       "webhook-signature": signature, "host": host_header}
            extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
            async with http.stream("POST", f"{target.scheme}://{address}:{target.port}{target.path}", content=body,
                                   headers=headers, extensions=extensions) as response:
                status, latency = response.status_code, (time.perf_counter() - started) * 1000
                encoding = response.encoding or encoding
                async for chunk in response.aiter_raw():
                    raw += chunk[:MAX_RESPONSE_BYTES - len(raw)]
                    if len(raw) >= MAX_RESPONSE_BYTES:
                        break  # leaving the block closes the connection: the rest is never read
    except UnsafeTarget as err:
        return Outcome(None, 0.0, f"refused: {err}")
    except TimeoutError:
        if status is None:
            return Outcome(None, (time.perf_counter() - started) * 1000, f"timed out after {deadline_s:g} s")
    except httpx.HTTPError as err:
        if status is None:
            return Outcome(None, (time.perf_counter() - started) * 1000, type(err).__name__)
    return Outcome(status, latency, None, raw.decode(encoding, errors="replace")[:EXCERPT])


async def record_outcome(db: AsyncEngine, due: Due, outcome: Outcome, now: datetime) -> None:
    """Store an attempt's outcome (``now``: when the attempt ended; the retry delay counts from it),
    unless the row no longer holds this attempt (its lease ended and it was claimed again)."""
    params: dict[str, Any] = {
        "ws": due.workspace_id, "id": due.id, "attempt": due.attempt, "code": outcome.status,
        "latency": round(outcome.latency_ms, 2), "excerpt": outcome.excerpt, "now": now}
    hook = {"ws": due.workspace_id, "hook": due.webhook_id, "now": now}
    mine = "WHERE workspace_id = :ws AND id = :id AND attempt = :attempt AND status IN ('pending', 'retrying')"
    async with db.connect() as conn, conn.begin():
        if outcome.ok:
            done = await conn.execute(text(
                "UPDATE webhook_deliveries SET status = 'succeeded', last_status_code = :code, "
                "last_latency_ms = :latency, last_error = NULL, response_excerpt = :excerpt, delivered_at = :now, "
                f"updated_at = :now {mine}"), params)
            if done.rowcount:
                await conn.execute(text(
                    "UPDATE webhooks SET failing_since = NULL WHERE workspace_id = :ws AND id = :hook "
                    "AND failing_since IS NOT NULL"), hook)
            return
        final = due.attempt >= MAX_ATTEMPTS
        params["status"] = "failed" if final else "retrying"
        params["next"] = now if final else now + timedelta(seconds=RETRY_DELAYS[due.attempt - 1])
        params["error"] = outcome.error or f"HTTP {outcome.status}"
        done = await conn.execute(text(
            "UPDATE webhook_deliveries SET status = :status, next_attempt_at = :next, last_status_code = :code, "
            "last_latency_ms = :latency, last_error = :error, response_excerpt = :excerpt, "
            f"updated_at = :now {mine}"), params)
        if not done.rowcount:
            return
        webhook = (await conn.execute(text(
            "SELECT status, failing_since FROM webhooks WHERE workspace_id = :ws AND id = :hook FOR UPDATE"),
            hook)).first()
        if webhook is None or webhook.status != "active":
            return
        if webhook.failing_since is None:
            await conn.execute(text(
                "UPDATE webhooks SET failing_since = :now WHERE workspace_id = :ws AND id = :hook"), hook)
        elif now - webhook.failing_since >= DISABLE_AFTER:
            await conn.execute(text(
                "UPDATE webhooks SET status = 'disabled', disabled_reason = 'failing for 5 days', "
                "updated_at = :now WHERE workspace_id = :ws AND id = :hook"), hook)
            await bump_version(Tenant(conn, due.workspace_id))
            log.warning("webhook_disabled", webhook_id=due.webhook_id)


async def deliver_one(db: AsyncEngine, http: httpx.AsyncClient, due: Due, *, pepper: bytes,
                      allow_hosts: frozenset[str], now: datetime, deadline_s: float,
                      resolver: Executor | None = None, clock: Callable[[], float] | None = None) -> bool:
    """Make one claimed attempt (signed at ``now``) and record it, as of ``clock`` when given (else
    ``now``); True when the receiver accepted the delivery."""

    def ended() -> datetime:
        return now if clock is None else datetime.fromtimestamp(clock(), tz=UTC)

    try:
        secret = unseal(pepper, due.secret)
    except InvalidTag:
        outcome = Outcome(None, 0.0, "the signing secret cannot be read (KEY_PEPPER changed?)")
    else:
        try:
            outcome = await _send(http, due, secret, allow_hosts, now, deadline_s=deadline_s, resolver=resolver)
        except asyncio.CancelledError:
            # The worker is stopping: the attempt counts, and the retry schedule applies to it.
            await record_outcome(db, due, Outcome(None, 0.0, "cancelled: the worker stopped during the send"),
                                 ended())
            raise
    await record_outcome(db, due, outcome, ended())
    return outcome.ok


async def deliver_webhooks(db: AsyncEngine, http: httpx.AsyncClient, *, pepper: bytes, allow_hosts: frozenset[str],
                           now: datetime, deadline_s: float = DEFAULT_DEADLINE_S) -> int:
    """Claim up to PARALLEL deliveries due at ``now`` and send them side by side, each recorded as
    soon as it ends. Returns how many were attempted."""
    claimed = await claim_due(db, now, limit=PARALLEL, per_subscription=PARALLEL, deadline_s=deadline_s)
    await asyncio.gather(*(deliver_one(db, http, due, pepper=pepper, allow_hosts=allow_hosts, now=now,
                                       deadline_s=deadline_s) for due in claimed))
    return len(claimed)


def _allow_hosts(settings: Settings) -> frozenset[str]:
    return frozenset(h.strip().lower() for h in settings.webhook_allow_hosts.split(",") if h.strip())


class DeliverySender:
    """One worker process's webhook sends. ``fill`` claims due deliveries into the free slots and
    starts them without waiting for them; every send that ends fills again, so the next due
    delivery waits neither for the slowest send in flight nor for the next sweep."""

    def __init__(self, db: AsyncEngine, http: httpx.AsyncClient, settings: Settings, *,
                 clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.http = http
        self.clock = clock
        self.pepper = settings.key_pepper.get_secret_value().encode()
        self.allow_hosts = _allow_hosts(settings)
        self.deadline_s = settings.webhook_send_timeout_seconds
        self.max_sends = settings.webhook_max_concurrent_sends
        self.per_subscription = settings.webhook_max_sends_per_subscription
        # Lookups get threads of their own: a receiver whose DNS answers slowly keeps a thread
        # past its send's deadline, and must not take those other subscriptions' lookups (or the
        # worker's other jobs) need.
        self.resolver = ThreadPoolExecutor(max_workers=2 * self.max_sends, thread_name_prefix="webhook-dns")
        self.sends: set[asyncio.Task[bool]] = set()
        self.busy: Counter[tuple[int, int]] = Counter()
        self.closed = False
        self._filling = False
        self._again = False
        self._fills: set[asyncio.Task[int]] = set()

    async def fill(self) -> int:
        """Claim and start due deliveries until the slots are full or nothing is due; returns how
        many it started (0 at once when another fill is running: that one goes round again)."""
        if self._filling:
            self._again = True
            return 0
        self._filling = True
        started = 0
        try:
            while not self.closed and len(self.sends) < self.max_sends:
                self._again = False
                now = datetime.fromtimestamp(self.clock(), tz=UTC)
                claimed = await claim_due(self.db, now, limit=self.max_sends - len(self.sends),
                                          per_subscription=self.per_subscription, deadline_s=self.deadline_s,
                                          busy=self.busy)
                for due in claimed:
                    self._start(due, now)
                started += len(claimed)
                if not claimed and not self._again:
                    break
        finally:
            self._filling = False
        return started

    def _start(self, due: Due, now: datetime) -> None:
        self.busy[due.subscription] += 1
        task = asyncio.create_task(deliver_one(self.db, self.http, due, pepper=self.pepper,
                                               allow_hosts=self.allow_hosts, now=now, deadline_s=self.deadline_s,
                                               resolver=self.resolver, clock=self.clock))
        self.sends.add(task)
        task.add_done_callback(functools.partial(self._ended, due.subscription))

    def _ended(self, subscription: tuple[int, int], task: asyncio.Task[bool]) -> None:
        self.sends.discard(task)
        self.busy[subscription] -= 1
        if self.busy[subscription] <= 0:
            del self.busy[subscription]
        if not task.cancelled() and task.exception() is not None:
            # e.g. the database went away before the outcome was stored: the lease brings it back.
            log.warning("webhook_send_unrecorded", error=repr(task.exception())[:200])
        if self.closed:
            return
        if self._filling:
            self._again = True
            return
        refill = asyncio.create_task(self.fill())
        self._fills.add(refill)
        refill.add_done_callback(self._fill_ended)

    def _fill_ended(self, task: asyncio.Task[int]) -> None:
        self._fills.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("webhook_fill_failed", error=repr(task.exception())[:200])

    async def close(self) -> None:
        """Stop claiming; cancel the sends in flight (each records its attempt) and wait for them a
        little (a send not recorded by then comes back when its lease ends)."""
        self.closed = True
        pending = [*self.sends, *self._fills]
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending, timeout=5)
        self.resolver.shutdown(wait=False, cancel_futures=True)


async def webhook_job(ctx: dict[str, Any]) -> int:
    """arq job (and per-second sweep): fan out new events, then start the sends that are due (the
    job does not wait for them). Returns outbox rows consumed plus sends started."""
    worker = deps(ctx)
    moved = 0
    for _ in range(50):
        batch = await dispatch_webhooks(worker.engine)
        moved += batch
        if batch < BATCH:
            break
    return moved + await worker.webhook_sender.fill()
