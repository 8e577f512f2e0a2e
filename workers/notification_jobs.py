"""Notification evaluation: the job that raises feed items, and the cron that schedules it.

A run (``notification_runs`` row, ``workers.jobs.NOTIFY``: leased, claimed, failed and requeued
as the other jobs) is queued by an artifact's extraction completing (``queue_context_run``, in the
artifact's own transaction: trigger ``context``) and by the cron for a workspace whose poll or
one of whose rules is due (trigger ``schedule``). One run, in one transaction, holding the
workspace's preferences row (runs of a workspace take turns):

1. **new context** (a context run): every enabled custom rule reads the artifact's insights and
   sentences; each rule that matches raises one item for the artifact;
2. **due rules**: a rule whose schedule is due reads the record changes and notes since its last
   evaluation, then its next time is set;
3. **context alerts**: when the batch window is open (``frequency_minutes`` since the last
   batch), the insights of enabled types and the stage (or other attribute) changes since the
   last scan make one ``context_alert`` item; while it is closed they wait;
4. **digest**: with ``digest_enabled``, once a day a ``digest`` item of the day's insights and
   stage changes.

Every source raises at most one item per rule and one alert (``notification_marks``, unique per
workspace and key, written with the item), so a retried or repeated run never duplicates.
Items carry their webhook (``notification.created``) in the same transaction; after commit their
ids go on the insight stream's channel.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import numpy as np
import structlog
from sqlalchemy import text

from tessera.changes import WEBHOOK, Actor, Changes, Stamp
from tessera.db.ids import IdAllocator
from tessera.db.locks import NOTIFICATION_RUN_LOCK
from tessera.db.sql import WORKSPACE, Params
from tessera.db.tenant import Tenant
from tessera.notifications import repository as store
from tessera.notifications.events import NotificationCreated
from tessera.notifications.repository import Rule
from tessera.notifications.schedule import next_time, parse_schedule
from tessera.notifications.serialize import item_to_json
from tessera.wire import JsonObject, JsonValue
from workers.deps import WorkerDeps, deps
from workers.intelligence.rule_interpreter import needs_words
from workers.jobs import NOTIFY, claim, fail, leased
from workers.memory.embedding import Embedder
from workers.notification_matching import (
    Similarity,
    Source,
    alert_content,
    alert_sources,
    digest_content,
    match_rule,
    rule_content,
)
from workers.notification_sources import Entities, artifact_sources, changes_since, insights_since, notes_since

log = structlog.get_logger(__name__)
LOOKBACK: Final = timedelta(seconds=120)
"""Each scan reaches this far before its cursor: a source written by a transaction that committed
after a later one is still read (marks keep it from raising twice)."""
POLL_FLOOR: Final = timedelta(seconds=10)
"""A workspace is polled at most this often (``frequency_minutes`` 0)."""
DIGEST_EVERY: Final = timedelta(hours=24)
MAX_EMBEDDED: Final = 300
"""Texts of one run compared by meaning (~6 ms each on one core); the rest by words only."""
CHANNEL: Final = "tessera:insights:"


async def queue_context_run(tenant: Tenant, ids: IdAllocator, artifact_id: int) -> int | None:
    """Queue the evaluation of a completed artifact, in its transaction: the run id to enqueue
    after commit (None when the artifact had one already)."""
    (run_id,) = await ids.take(tenant.conn, 1)
    params = Params()
    rows = await tenant.fetch(
        f"INSERT INTO notification_runs (workspace_id, id, trigger, artifact_id) VALUES ({WORKSPACE}, "
        f"{params.add(run_id)}, 'context', {params.add(artifact_id)}) ON CONFLICT DO NOTHING RETURNING id",
        *params.values)
    return int(rows[0]["id"]) if rows else None


class Meanings:
    """Embeddings of one run's texts, computed once (in a thread) and shared by every rule."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder
        self.vectors: dict[str, np.ndarray[Any, Any]] = {}

    async def add(self, texts: list[str]) -> None:
        missing = [t for t in dict.fromkeys(texts) if t not in self.vectors][:max(0, MAX_EMBEDDED - len(self.vectors))]
        if missing:
            vectors = await asyncio.to_thread(self.embedder.embed, missing)
            self.vectors.update(zip(missing, vectors, strict=True))

    def against(self, phrase: str) -> Similarity | None:
        target = self.vectors.get(phrase)
        if target is None:
            return None

        def similarity(text_: str) -> float:
            vector = self.vectors.get(text_)
            return float(np.dot(vector, target)) if vector is not None else 0.0

        return similarity


@dataclass
class Writer:
    """Writes feed items with their marks and webhooks; ``sent_at`` strictly increases within a
    workspace (the feed's ``since`` cursor never skips an item that shares a moment)."""

    tenant: Tenant
    changes: Changes
    webhooks: bool
    now: datetime
    last_sent: datetime | None
    created: list[int] = field(default_factory=list)

    def _sent_at(self) -> datetime:
        moment = self.now if self.last_sent is None or self.now > self.last_sent else \
            self.last_sent + timedelta(microseconds=1)
        self.last_sent = moment
        return moment

    async def _claim(self, item_id: int, keys: list[str]) -> set[str]:
        params = Params()
        rows = await self.tenant.fetch(
            "INSERT INTO notification_marks (workspace_id, subject_key, notification_id) "
            f"SELECT {WORKSPACE}, k, {params.add(item_id)} FROM unnest({params.add(keys, 'text[]')}) AS k "
            "ON CONFLICT DO NOTHING RETURNING subject_key", *params.values)
        return {r["subject_key"] for r in rows}

    async def write(self, type_: str, content: JsonObject, *, rule_id: int | None, alert_time: datetime | None,
                    keys: list[str]) -> bool:
        """The item, unless every one of ``keys`` raised one already (then nothing)."""
        (item_id,) = await self.changes.ids.take(self.tenant.conn, 1)
        if not await self._claim(item_id, keys):
            return False
        item = await store.insert_item(self.tenant, item_id, type_=type_, rule_id=rule_id,
                                       alert_time=alert_time or self.now, sent_at=self._sent_at(), content=content)
        self.changes.add(NotificationCreated(item.id, item_to_json(item)), webhooks=self.webhooks)
        self.created.append(item.id)
        return True

    async def fresh(self, keys: list[str]) -> set[str]:
        """Those of ``keys`` that raised no item yet (read, not claimed)."""
        params = Params()
        rows = await self.tenant.fetch(
            f"SELECT subject_key FROM notification_marks WHERE workspace_id = {WORKSPACE} "
            f"AND subject_key = ANY({params.add(keys, 'text[]')})", *params.values)
        return set(keys) - {r["subject_key"] for r in rows}


@dataclass(frozen=True, slots=True)
class Outcome:
    created: list[int]
    webhooks: bool
    scanned: int


def _earliest(sources: list[Source]) -> datetime | None:
    moments = [s.at for s in sources if s.at is not None]
    return min(moments) if moments else None


async def _apply_rules(writer: Writer, meanings: Meanings, rules: list[Rule], sources: list[Source]) -> None:
    wordy = [r for r in rules if needs_words(r.matcher)]
    if wordy and sources:
        await meanings.add([str(r.matcher.get("phrase", "")) for r in wordy])
        await meanings.add([s.text for s in sources if s.kind != "change"])
    for rule in rules:
        similarity = meanings.against(str(rule.matcher.get("phrase", ""))) if needs_words(rule.matcher) else None
        for match in match_rule(rule.matcher, sources, similarity):
            matched = [s for s in sources if s.key in set(match.keys)]
            await writer.write("custom_rule", rule_content(rule.id, rule.name, match), rule_id=rule.id,
                               alert_time=_earliest(matched), keys=[f"rule:{rule.id}:{match.group}"])


async def evaluate(tenant: Tenant, worker: WorkerDeps, run: dict[str, Any], now: datetime) -> Outcome:
    """One run's work (see the module's docstring), in the caller's transaction."""
    # Erasure takes this exclusively: it never meets a run half-way (the run locks the preferences
    # row and then inserts rows referencing the workspace, the cascade goes the other way).
    await (await tenant.driver()).execute("SELECT pg_advisory_xact_lock_shared($1)", NOTIFICATION_RUN_LOCK)
    prefs = await store.ensure_preferences(tenant, lock=True)
    schema = await worker.schemas_cache.current(tenant)
    changes = Changes(worker.ids, Stamp(Actor("notifications", str(run["id"])), now))
    writer = Writer(tenant, changes, schema.webhooks, now, prefs["last_sent_at"])
    entities = Entities(schema)
    meanings = Meanings(worker.embedder)
    rules = await store.list_rules(tenant, enabled_only=True,
                                   limit=worker.settings.max_notification_rules_per_workspace)
    scanned = 0
    if run["artifact_id"] is not None:
        sources = await artifact_sources(tenant, entities, int(run["artifact_id"]))
        scanned += len(sources)
        await _apply_rules(writer, meanings, rules, sources)
    due = [r for r in rules if r.next_run_at <= now]
    if due:
        since = min(r.scanned_at or r.created_at for r in due) - LOOKBACK
        later = await changes_since(tenant, entities, since) + await notes_since(tenant, entities, since)
        scanned += len(later)
        for rule in due:
            start = (rule.scanned_at or rule.created_at) - LOOKBACK
            await _apply_rules(writer, meanings, [rule], [s for s in later if s.at is None or s.at > start])
            following = next_time(parse_schedule(rule.schedule), now)
            params = Params()
            await tenant.fetch(
                f"UPDATE notification_rules SET scanned_at = {params.add(now)}, next_run_at = "
                f"{params.add(following or now + timedelta(days=3650))} WHERE workspace_id = {WORKSPACE} "
                f"AND id = {params.add(rule.id)}", *params.values)
    frequency = timedelta(minutes=prefs["frequency_minutes"])
    last_batch, scanned_at = prefs["last_batch_at"], prefs["alerts_scanned_at"]
    window_open = last_batch is None or now >= last_batch + frequency
    if window_open:
        since = scanned_at - LOOKBACK
        found = await insights_since(tenant, entities, since) + await changes_since(tenant, entities, since)
        scanned += len(found)
        candidates = alert_sources(prefs["enabled_types"], found)
        fresh = await writer.fresh([f"alert:{s.key}" for s in candidates]) if candidates else set()
        batch = [s for s in candidates if f"alert:{s.key}" in fresh]
        if batch and await writer.write("context_alert", alert_content(batch), rule_id=None,
                                        alert_time=_earliest(batch), keys=[f"alert:{s.key}" for s in batch]):
            last_batch = now
        scanned_at = now
    last_digest = prefs["last_digest_at"]
    if prefs["digest_enabled"] and (last_digest is None or now >= last_digest + DIGEST_EVERY):
        start = last_digest or now - DIGEST_EVERY
        insights = await insights_since(tenant, entities, start)
        period_changes = await changes_since(tenant, entities, start)
        if insights or any(c.stage_like for c in period_changes):
            hours = (now - start).total_seconds() / 3600
            await writer.write("digest", digest_content(insights, period_changes, round(hours, 1)), rule_id=None,
                               alert_time=now, keys=[f"digest:{start.isoformat()}"])
            last_digest = now
    poll = max(frequency, POLL_FLOOR)
    next_poll = now + poll if window_open else last_batch + frequency
    if prefs["digest_enabled"]:
        next_poll = min(next_poll, (last_digest + DIGEST_EVERY) if last_digest else now + POLL_FLOOR)
    params = Params()
    await tenant.fetch(
        f"UPDATE notification_preferences SET alerts_scanned_at = {params.add(scanned_at)}, "
        f"last_batch_at = {params.add(last_batch, 'timestamptz')}, "
        f"last_digest_at = {params.add(last_digest, 'timestamptz')}, "
        f"last_sent_at = {params.add(writer.last_sent, 'timestamptz')}, next_poll_at = {params.add(next_poll)} "
        f"WHERE workspace_id = {WORKSPACE}", *params.values)
    params = Params()
    await tenant.fetch(
        f"UPDATE notification_runs SET status = 'completed', sources_scanned = {params.add(scanned)}, "
        f"items_created = {params.add(len(writer.created))}, error = NULL, completed_at = {params.add(now)}, "
        f"updated_at = {params.add(now)} WHERE workspace_id = {WORKSPACE} AND id = {params.add(int(run['id']))}",
        *params.values)
    await changes.flush(tenant)
    return Outcome(writer.created, WEBHOOK in changes.topics, scanned)


@leased(NOTIFY)
async def evaluate_notifications(ctx: dict[str, Any], workspace_id: int, run_id: int) -> str:
    """arq job: one notification run (idempotent: a finished run is left alone, and marks keep a
    repeated evaluation from raising an item twice)."""
    worker = deps(ctx)
    db = worker.engine
    run = await claim(db, NOTIFY, workspace_id, run_id)
    if run is None:
        return "skipped"
    try:
        async with db.begin() as conn:
            tenant = Tenant(conn, workspace_id)
            params = Params()
            current = await tenant.fetchrow(
                f"SELECT status FROM notification_runs WHERE workspace_id = {WORKSPACE} AND id = "
                f"{params.add(run_id)} FOR UPDATE", *params.values)
            if current is None or current["status"] == "completed":
                return "skipped"
            outcome = await evaluate(tenant, worker, run, datetime.now(UTC))
    except Exception as err:  # the database went away, a source we could not read: retried by the sweep
        log.warning("notification_run_failed", run_id=run_id, error_type=type(err).__name__)
        await fail(db, NOTIFY, workspace_id, run_id, run["attempts"], err)
        return "failed"
    log.info("notification_run_completed", run_id=run_id, trigger=run["trigger"], items=len(outcome.created),
             sources=outcome.scanned)
    if outcome.created:
        await worker.redis_client.publish(f"{CHANNEL}{workspace_id}",
                                          {"notification_ids": list[JsonValue](outcome.created)})
    if outcome.webhooks:
        await worker.redis_client.enqueue("webhook_job", job_id="webhook_job")
    return "completed"


async def schedule_notification_runs(ctx: dict[str, Any]) -> int:
    """Cron: queue a ``schedule`` run for each workspace whose poll or a rule is due (at most 500
    a tick; one waiting run per workspace). Returns how many were queued."""
    worker = deps(ctx)
    async with worker.engine.begin() as conn:
        due = (await conn.execute(text(
            "SELECT workspace_id FROM notification_preferences WHERE workspace_id IS NOT NULL "
            "AND next_poll_at <= now() UNION SELECT DISTINCT workspace_id FROM notification_rules "
            "WHERE workspace_id IS NOT NULL AND is_enabled AND next_run_at <= now() LIMIT 500"))).all()
        queued = []
        for (workspace_id,) in due:
            (run_id,) = await worker.ids.take(conn, 1)
            inserted = (await conn.execute(text(
                "INSERT INTO notification_runs (workspace_id, id, trigger) SELECT :ws, :id, 'schedule' "
                "WHERE EXISTS (SELECT 1 FROM workspaces WHERE id = :ws) ON CONFLICT DO NOTHING RETURNING id"),
                {"ws": workspace_id, "id": run_id})).first()
            if inserted is not None:
                queued.append((workspace_id, run_id))
    for workspace_id, run_id in queued:
        await worker.redis_client.enqueue(NOTIFY.function, workspace_id, run_id, job_id=NOTIFY.job_id(run_id))
    return len(queued)


async def purge_notifications(ctx: dict[str, Any]) -> int:
    """Cron: delete finished runs older than an hour, and feed items and marks older than
    ``NOTIFICATION_RETENTION_DAYS`` (10,000 rows of each a run)."""
    worker = deps(ctx)
    days = worker.settings.notification_retention_days
    deleted = 0
    async with worker.engine.begin() as conn:
        for statement in (
            "DELETE FROM notification_runs WHERE (workspace_id, id) IN (SELECT workspace_id, id FROM "
            "notification_runs WHERE workspace_id IS NOT NULL AND status IN ('completed', 'failed') "
            "AND updated_at < now() - interval '1 hour' LIMIT 10000)",
            "DELETE FROM notifications WHERE (workspace_id, id) IN (SELECT workspace_id, id FROM notifications "
            "WHERE workspace_id IS NOT NULL AND sent_at < now() - make_interval(secs => :secs) LIMIT 10000)",
            "DELETE FROM notification_marks WHERE (workspace_id, subject_key) IN (SELECT workspace_id, subject_key "
            "FROM notification_marks WHERE workspace_id IS NOT NULL AND created_at < now() - "
            "make_interval(secs => :secs) LIMIT 10000)",
        ):
            result = await conn.execute(text(statement), {"secs": days * 86400})
            deleted += result.rowcount or 0
    return deleted
