"""Webhook fan-out and delivery.

``dispatch_webhooks`` turns webhook outbox rows into one delivery row per matching subscription
(idempotently: a message id per event, unique per subscription). ``deliver_webhooks`` sends due
deliveries, signed with the Standard Webhooks scheme (``webhook-id``, ``webhook-timestamp``,
``webhook-signature``), at least once: a delivery is marked done only in the transaction that
holds its row lock after the receiver answered 2xx, so a worker killed mid-flight leaves it to
be sent again (receivers dedupe by ``webhook-id``). Failures retry after 5 s, 5 min, 30 min,
2 h, 5 h, 10 h and 10 h, then the delivery is marked failed; a subscription failing for 5 days
is disabled.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
import structlog
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from standardwebhooks.webhooks import Webhook

from schema_registry.evaluate import RecordState, evaluate
from schema_registry.query import QueryError, parse_filter
from schema_registry.workspace import WorkspaceSchema
from tessera.db.tenant import Tenant
from tessera.registry.repository import bump_version, load_schema
from tessera.webhooks.address import UnsafeTarget, resolve_target
from tessera.webhooks.service import matches_event
from tessera.webhooks.signing import unseal

log = structlog.get_logger(__name__)

RETRY_DELAYS = (5, 300, 1800, 7200, 18_000, 36_000, 36_000)
"""Seconds to wait after failed attempt n before attempt n+1 (8 attempts in all)."""
DISABLE_AFTER = timedelta(days=5)
TIMEOUT_S = 10.0
BATCH = 500
PARALLEL = 20  # deliveries sent at once by one transaction
LANES = 4  # such transactions at once
EXCERPT = 500


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


async def _send(http: httpx.AsyncClient, url: str, secret: str, message_id: str, body: bytes,
                allow_hosts: frozenset[str], now: datetime) -> tuple[int | None, float, str | None, str | None]:
    """POST one delivery. Returns (status, latency ms, error, response excerpt)."""
    started = time.perf_counter()
    try:
        target, address = await resolve_target(url, allow_hosts)
    except UnsafeTarget as err:
        return None, 0.0, f"refused: {err}", None
    signature = Webhook(secret).sign(message_id, now, body.decode())
    default_port = 443 if target.scheme == "https" else 80
    host_header = target.host if target.port == default_port else f"{target.host}:{target.port}"
    headers = {"content-type": "application/json", "user-agent": "Tessera-Webhooks/1",
               "webhook-id": message_id, "webhook-timestamp": str(int(now.timestamp())),
               "webhook-signature": signature, "host": host_header}
    extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
    try:
        response = await http.post(f"{target.scheme}://{address}:{target.port}{target.path}", content=body,
                                   headers=headers, extensions=extensions)
    except httpx.HTTPError as err:
        return None, (time.perf_counter() - started) * 1000, f"{type(err).__name__}", None
    latency = (time.perf_counter() - started) * 1000
    return response.status_code, latency, None, response.text[:EXCERPT]


async def deliver_webhooks(db: AsyncEngine, http: httpx.AsyncClient, *, pepper: bytes, allow_hosts: frozenset[str],
                           now: datetime) -> int:
    """Send the deliveries due at ``now``. Returns how many were attempted."""
    async with db.connect() as conn, conn.begin():
        due = (await conn.execute(text(
            "SELECT d.workspace_id, d.id, d.webhook_id, d.message_id, d.payload, d.attempt, w.url, w.secret, "
            "w.failing_since FROM webhook_deliveries d JOIN webhooks w ON w.workspace_id = d.workspace_id "
            "AND w.id = d.webhook_id WHERE d.status IN ('pending', 'retrying') AND d.next_attempt_at <= :now "
            "AND w.status = 'active' ORDER BY d.next_attempt_at LIMIT :n FOR UPDATE OF d SKIP LOCKED"),
            {"now": now, "n": PARALLEL})).mappings().all()
        if not due:
            return 0
        results = await asyncio.gather(*(
            _send(http, d["url"], unseal(pepper, bytes(d["secret"])), d["message_id"],
                  orjson.dumps(_json(d["payload"])), allow_hosts, now) for d in due))
        for delivery, (status, latency, error, excerpt) in zip(due, results, strict=True):
            attempt = delivery["attempt"] + 1
            ok = status is not None and 200 <= status < 300
            params = {"ws": delivery["workspace_id"], "id": delivery["id"], "attempt": attempt, "code": status,
                      "latency": round(latency, 2), "error": error, "excerpt": excerpt, "now": now}
            if ok:
                await conn.execute(text(
                    "UPDATE webhook_deliveries SET status = 'succeeded', attempt = :attempt, last_status_code = :code, "
                    "last_latency_ms = :latency, last_error = NULL, response_excerpt = :excerpt, delivered_at = :now, "
                    "updated_at = :now WHERE workspace_id = :ws AND id = :id"), params)
                await conn.execute(text(
                    "UPDATE webhooks SET failing_since = NULL WHERE workspace_id = :ws AND id = :hook "
                    "AND failing_since IS NOT NULL"), {"ws": delivery["workspace_id"], "hook": delivery["webhook_id"]})
                continue
            final = attempt > len(RETRY_DELAYS)
            params["status"] = "failed" if final else "retrying"
            params["next"] = now if final else now + timedelta(seconds=RETRY_DELAYS[attempt - 1])
            params["error"] = error or f"HTTP {status}"
            await conn.execute(text(
                "UPDATE webhook_deliveries SET status = :status, attempt = :attempt, next_attempt_at = :next, "
                "last_status_code = :code, last_latency_ms = :latency, last_error = :error, "
                "response_excerpt = :excerpt, updated_at = :now WHERE workspace_id = :ws AND id = :id"), params)
            failing_since = delivery["failing_since"] or now
            if now - failing_since >= DISABLE_AFTER:
                await conn.execute(text(
                    "UPDATE webhooks SET status = 'disabled', disabled_reason = 'failing for 5 days', "
                    "updated_at = :now WHERE workspace_id = :ws AND id = :hook"),
                    {"ws": delivery["workspace_id"], "hook": delivery["webhook_id"], "now": now})
                await bump_version(Tenant(conn, delivery["workspace_id"]))
                log.warning("webhook_disabled", webhook_id=delivery["webhook_id"])
            elif delivery["failing_since"] is None:
                await conn.execute(text(
                    "UPDATE webhooks SET failing_since = :now WHERE workspace_id = :ws AND id = :hook"),
                    {"ws": delivery["workspace_id"], "hook": delivery["webhook_id"], "now": now})
        return len(due)


async def webhook_job(ctx: dict[str, Any]) -> int:
    """arq job (and per-second sweep): fan out new events, then send what is due, until idle."""
    settings = ctx["settings"]
    allow = frozenset(h.strip().lower() for h in settings.webhook_allow_hosts.split(",") if h.strip())
    pepper = settings.key_pepper.get_secret_value().encode()
    total = 0
    for _ in range(50):
        moved = await dispatch_webhooks(ctx["engine"])
        now = datetime.fromtimestamp(ctx.get("clock", time.time)(), tz=UTC)
        # LANES transactions side by side (SKIP LOCKED keeps their batches apart): one slow
        # receiver holds up one lane's batch, not every delivery behind it.
        sent = sum(await asyncio.gather(*(
            deliver_webhooks(ctx["engine"], ctx["http"], pepper=pepper, allow_hosts=allow, now=now)
            for _ in range(LANES))))
        total += moved + sent
        if not moved and not sent:
            break
    return total
