"""SQL of notifications: preferences, custom rules and the feed. The worker's evaluation SQL
(sources, marks, runs) lives in ``workers/notification_jobs.py``; the insert of a feed item is
here, shared by both."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TypedDict

import asyncpg
import orjson

from tessera.db.sql import WORKSPACE, Params
from tessera.db.tenant import Tenant
from tessera.wire import JsonObject


@dataclass(frozen=True, slots=True)
class Preferences:
    frequency_minutes: int
    enabled_types: tuple[str, ...]
    digest_enabled: bool


@dataclass(frozen=True, slots=True)
class Rule:
    id: int
    name: str
    prompt: str
    matcher: JsonObject
    is_enabled: bool
    schedule: str
    scanned_at: datetime | None
    next_run_at: datetime
    created_at: datetime


@dataclass(frozen=True, slots=True)
class FeedItem:
    id: int
    type: str
    status: str
    rule_id: int | None
    alert_time: datetime
    sent_at: datetime
    content: JsonObject


class PreferenceChanges(TypedDict, total=False):
    frequency_minutes: int
    enabled_types: list[str]
    digest_enabled: bool


_RULE_COLUMNS = "id, name, prompt, matcher, is_enabled, schedule, scanned_at, next_run_at, created_at"
_ITEM_COLUMNS = "id, type, status, rule_id, alert_time, sent_at, content"


def _json(value: object) -> JsonObject:
    loaded = orjson.loads(value) if isinstance(value, str | bytes) else value
    assert isinstance(loaded, dict)
    return loaded


def _rule(row: asyncpg.Record) -> Rule:
    return Rule(id=row["id"], name=row["name"], prompt=row["prompt"], matcher=_json(row["matcher"]),
                is_enabled=row["is_enabled"], schedule=row["schedule"], scanned_at=row["scanned_at"],
                next_run_at=row["next_run_at"], created_at=row["created_at"])


def feed_item(row: asyncpg.Record) -> FeedItem:
    return FeedItem(id=row["id"], type=row["type"], status=row["status"], rule_id=row["rule_id"],
                    alert_time=row["alert_time"], sent_at=row["sent_at"], content=_json(row["content"]))


async def ensure_preferences(tenant: Tenant, *, lock: bool = False) -> asyncpg.Record:
    """The workspace's preferences row (with the evaluator's state), created with the defaults on
    first use; ``lock`` holds it until the transaction ends (evaluation runs take it in turn)."""
    await tenant.fetch("INSERT INTO notification_preferences (workspace_id) VALUES ($1) ON CONFLICT DO NOTHING")
    row = await tenant.fetchrow("SELECT * FROM notification_preferences WHERE workspace_id = $1"
                                + (" FOR UPDATE" if lock else ""))
    assert row is not None
    return row


def preferences(row: asyncpg.Record) -> Preferences:
    return Preferences(row["frequency_minutes"], tuple(row["enabled_types"]), row["digest_enabled"])


async def update_preferences(tenant: Tenant, changes: PreferenceChanges, now: datetime) -> Preferences:
    """Set ``changes``; the next poll is due at once (a shorter frequency or a new type takes
    effect at the worker's next sweep)."""
    params = Params()
    assignments = [f"{column} = {params.add(value)}" for column, value in changes.items()]
    assignments += [f"updated_at = {params.add(now)}", f"next_poll_at = {params.add(now)}"]
    row = await tenant.fetch_one(
        f"UPDATE notification_preferences SET {', '.join(assignments)} WHERE workspace_id = {WORKSPACE} "
        "RETURNING *", *params.values)
    return preferences(row)


async def insert_rule(tenant: Tenant, rule_id: int, *, name: str, prompt: str, matcher: JsonObject,
                      is_enabled: bool, schedule: str, next_run_at: datetime, now: datetime) -> Rule:
    """A new rule; it reads only context that arrives from ``now`` on (``scanned_at``)."""
    params = Params()
    values = [params.add(rule_id), params.add(name), params.add(prompt),
              params.add(orjson.dumps(matcher).decode(), "jsonb"), params.add(is_enabled), params.add(schedule),
              params.add(next_run_at), params.add(now)]
    row = await tenant.fetch_one(
        "INSERT INTO notification_rules (workspace_id, id, name, prompt, matcher, is_enabled, schedule, "
        f"next_run_at, created_at, scanned_at, updated_at) VALUES ({WORKSPACE}, {', '.join(values)}, "
        f"{values[-1]}, {values[-1]}) RETURNING {_RULE_COLUMNS}", *params.values)
    return _rule(row)


async def get_rule(tenant: Tenant, rule_id: int) -> Rule | None:
    params = Params()
    row = await tenant.fetchrow(f"SELECT {_RULE_COLUMNS} FROM notification_rules WHERE workspace_id = {WORKSPACE} "
                                f"AND id = {params.add(rule_id)}", *params.values)
    return _rule(row) if row is not None else None


async def list_rules(tenant: Tenant, *, enabled_only: bool = False, limit: int = 1_000) -> list[Rule]:
    """The workspace's rules, oldest first."""
    params = Params()
    where = f"workspace_id = {WORKSPACE}" + (" AND is_enabled" if enabled_only else "")
    rows = await tenant.fetch(f"SELECT {_RULE_COLUMNS} FROM notification_rules WHERE {where} "
                              f"ORDER BY created_at, id LIMIT {params.add(limit)}", *params.values)
    return [_rule(row) for row in rows]


async def count_rules(tenant: Tenant) -> int:
    row = await tenant.fetch_one("SELECT count(*) FROM notification_rules WHERE workspace_id = $1")
    return int(row[0])


async def delete_rule(tenant: Tenant, rule_id: int) -> bool:
    """Delete the rule (its feed items stay: they happened). Whether it existed."""
    params = Params()
    rows = await tenant.fetch(f"DELETE FROM notification_rules WHERE workspace_id = {WORKSPACE} "
                              f"AND id = {params.add(rule_id)} RETURNING id", *params.values)
    return bool(rows)


async def feed(tenant: Tenant, *, since: datetime | None, limit: int) -> list[FeedItem]:
    """The newest ``limit`` items, newest first; with ``since``, the ``limit`` items sent after it,
    oldest first (so a poller that passes the last ``sent_at`` it saw misses none)."""
    params = Params()
    if since is None:
        sql = (f"SELECT {_ITEM_COLUMNS} FROM notifications WHERE workspace_id = {WORKSPACE} "
               f"ORDER BY sent_at DESC, id DESC LIMIT {params.add(limit)}")
    else:
        sql = (f"SELECT {_ITEM_COLUMNS} FROM notifications WHERE workspace_id = {WORKSPACE} "
               f"AND sent_at > {params.add(since)} ORDER BY sent_at, id LIMIT {params.add(limit)}")
    return [feed_item(row) for row in await tenant.fetch(sql, *params.values)]


async def mark_read_through(tenant: Tenant, since: datetime, now: datetime) -> None:
    """Every unread item sent at or before ``since`` becomes read (the poller has seen it)."""
    params = Params()
    await tenant.fetch(f"UPDATE notifications SET status = 'read', read_at = {params.add(now)} "
                       f"WHERE workspace_id = {WORKSPACE} AND status = 'unread' AND sent_at <= {params.add(since)}",
                       *params.values)


async def get_items(tenant: Tenant, ids: list[int]) -> list[FeedItem]:
    params = Params()
    rows = await tenant.fetch(f"SELECT {_ITEM_COLUMNS} FROM notifications WHERE workspace_id = {WORKSPACE} "
                              f"AND id = ANY({params.add(ids, 'bigint[]')}) ORDER BY sent_at, id", *params.values)
    return [feed_item(row) for row in rows]


async def insert_item(tenant: Tenant, item_id: int, *, type_: str, rule_id: int | None, alert_time: datetime,
                      sent_at: datetime, content: JsonObject) -> FeedItem:
    params = Params()
    values = [params.add(item_id), params.add(type_), params.add(rule_id, "bigint"), params.add(alert_time),
              params.add(sent_at), params.add(orjson.dumps(content).decode(), "jsonb")]
    row = await tenant.fetch_one(
        "INSERT INTO notifications (workspace_id, id, type, rule_id, alert_time, sent_at, content) "
        f"VALUES ({WORKSPACE}, {', '.join(values)}) RETURNING {_ITEM_COLUMNS}", *params.values)
    return feed_item(row)
