"""SQL of briefs (entity briefs, workspace playbooks, private briefs), their versions, and agent skills."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

import asyncpg
import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from tessera.db.sql import WORKSPACE, Params
from tessera.db.tenant import Tenant
from tessera.wire import JsonObject, JsonValue

ENTITY: Final = 1
WORKSPACE_PLAYBOOK: Final = 2
PRIVATE: Final = 3
KEPT_VERSIONS: Final = 50
"""Versions kept per brief (the oldest go first)."""


def _json(stored: str | JsonValue) -> JsonValue:
    decoded: JsonValue = orjson.loads(stored) if isinstance(stored, str) else stored
    return decoded


@dataclass(frozen=True, slots=True)
class Brief:
    id: int
    scope_type: int
    key: str
    record_id: int | None
    slug: str | None
    owner_key_id: int | None
    title: str
    content: str
    sections: JsonValue
    input_hash: str
    version: int
    created_at: datetime
    updated_at: datetime
    checked_at: datetime


@dataclass(frozen=True, slots=True)
class BriefVersion:
    version: int
    input_hash: str
    changes: JsonObject
    summary: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Skill:
    id: int
    rule_id: int
    slug: str
    title: str
    description: str
    trigger: str
    confidence: float
    content: str
    input_hash: str
    version: int
    created_at: datetime
    updated_at: datetime


_BRIEF = ("id, scope_type, key, record_id, slug, owner_key_id, title, content, sections, input_hash, version, "
          "created_at, updated_at, checked_at")
_SKILL = ("id, rule_id, slug, title, description, trigger, confidence, content, input_hash, version, created_at, "
          "updated_at")


def _brief(row: asyncpg.Record) -> Brief:
    return Brief(id=row["id"], scope_type=row["scope_type"], key=row["key"], record_id=row["record_id"],
                 slug=row["slug"], owner_key_id=row["owner_key_id"], title=row["title"], content=row["content"],
                 sections=_json(row["sections"]), input_hash=row["input_hash"], version=row["version"],
                 created_at=row["created_at"], updated_at=row["updated_at"], checked_at=row["checked_at"])


def _skill(row: asyncpg.Record) -> Skill:
    return Skill(id=row["id"], rule_id=row["rule_id"], slug=row["slug"], title=row["title"],
                 description=row["description"], trigger=row["trigger"], confidence=row["confidence"],
                 content=row["content"], input_hash=row["input_hash"], version=row["version"],
                 created_at=row["created_at"], updated_at=row["updated_at"])


def _visible(params: Params, viewer_key_id: int) -> str:
    """Shared briefs, and the viewer's own private ones."""
    return f"(owner_key_id IS NULL OR owner_key_id = {params.add(viewer_key_id)})"


async def lock_key(tenant: Tenant, key: str) -> None:
    """Serialize compiles of one brief (two at once would both insert version 1)."""
    await tenant.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"),
                         {"k": f"brief:{tenant.workspace_id}:{key}"})


async def by_key(tenant: Tenant, key: str) -> Brief | None:
    params = Params()
    row = await tenant.fetchrow(f"SELECT {_BRIEF} FROM briefs WHERE workspace_id = $1 AND key = {params.add(key)}",
                                *params.values)
    return _brief(row) if row else None


async def get_brief(tenant: Tenant, brief_id: int, viewer_key_id: int) -> Brief | None:
    params = Params()
    row = await tenant.fetchrow(
        f"SELECT {_BRIEF} FROM briefs WHERE workspace_id = $1 AND id = {params.add(brief_id)} "
        f"AND {_visible(params, viewer_key_id)}", *params.values)
    return _brief(row) if row else None


async def briefs_of_record(tenant: Tenant, record_id: int, viewer_key_id: int) -> list[Brief]:
    """The record's shared brief and the viewer's private one, shared first."""
    params = Params()
    rows = await tenant.fetch(
        f"SELECT {_BRIEF} FROM briefs WHERE workspace_id = $1 AND record_id = {params.add(record_id)} "
        f"AND {_visible(params, viewer_key_id)} ORDER BY scope_type, id", *params.values)
    return [_brief(r) for r in rows]


async def list_briefs(tenant: Tenant, viewer_key_id: int, *, scope_type: int | None, limit: int, offset: int
                      ) -> tuple[list[Brief], int]:
    """A page of the visible briefs, most recently changed first, and how many there are."""
    params = Params()
    where = f"workspace_id = $1 AND {_visible(params, viewer_key_id)}"
    if scope_type is not None:
        where += f" AND scope_type = {params.add(scope_type)}"
    total = (await tenant.fetch_one(f"SELECT count(*) FROM briefs WHERE {where}", *params.values))[0]
    page = params.copy()
    rows = await tenant.fetch(
        f"SELECT {_BRIEF} FROM briefs WHERE {where} ORDER BY updated_at DESC, id DESC "
        f"LIMIT {page.add(limit)} OFFSET {page.add(offset)}", *page.values)
    return [_brief(r) for r in rows], int(total)


async def insert_brief(tenant: Tenant, *, scope_type: int, key: str, record_id: int | None, slug: str | None,
                       owner_key_id: int | None, title: str, content: str, sections: Sequence[Mapping[str, object]],
                       input_hash: str, now: datetime) -> Brief:
    params = Params()
    values = ", ".join([params.add(scope_type), params.add(key), params.add(record_id, "bigint"),
                        params.add(slug, "text"), params.add(owner_key_id, "bigint"), params.add(title),
                        params.add(content), params.add(orjson.dumps(sections).decode(), "jsonb"),
                        params.add(input_hash)])
    at = params.add(now)
    row = await tenant.fetchrow(
        "INSERT INTO briefs (workspace_id, scope_type, key, record_id, slug, owner_key_id, title, content, sections, "
        f"input_hash, version, created_at, updated_at, checked_at) VALUES ({WORKSPACE}, {values}, 1, {at}, {at}, {at}) "
        f"RETURNING {_BRIEF}", *params.values)
    assert row is not None
    return _brief(row)


async def update_brief(tenant: Tenant, brief_id: int, *, title: str, content: str,
                       sections: Sequence[Mapping[str, object]], input_hash: str, now: datetime) -> Brief:
    """A new version of the brief: its content, hash and digests, ``version`` + 1."""
    params = Params()
    row = await tenant.fetchrow(
        f"UPDATE briefs SET title = {params.add(title)}, content = {params.add(content)}, "
        f"sections = {params.add(orjson.dumps(sections).decode(), 'jsonb')}, input_hash = {params.add(input_hash)}, "
        f"version = version + 1, updated_at = {params.add(now)}, checked_at = {params.add(now)} "
        f"WHERE workspace_id = $1 AND id = {params.add(brief_id)} RETURNING {_BRIEF}", *params.values)
    assert row is not None
    return _brief(row)


async def mark_checked(tenant: Tenant, brief_id: int, now: datetime) -> None:
    """The brief was compiled again and nothing changed."""
    params = Params()
    brief = params.add(brief_id)
    await tenant.fetch(f"UPDATE briefs SET checked_at = {params.add(now)} WHERE workspace_id = $1 AND id = {brief}",
                       *params.values)


async def insert_version(tenant: Tenant, brief: Brief, *, changes: JsonObject, summary: str) -> None:
    """Record ``brief``'s current version, and forget those past ``KEPT_VERSIONS``."""
    params = Params()
    values = ", ".join([params.add(brief.id), params.add(brief.version), params.add(brief.input_hash),
                        params.add(brief.content), params.add(orjson.dumps(changes).decode(), "jsonb"),
                        params.add(summary), params.add(brief.updated_at)])
    await tenant.fetch(
        "INSERT INTO brief_versions (workspace_id, brief_id, version, input_hash, content, changes, summary, "
        f"created_at) VALUES ({WORKSPACE}, {values})", *params.values)
    if brief.version > KEPT_VERSIONS:
        old = Params()
        await tenant.fetch(f"DELETE FROM brief_versions WHERE workspace_id = $1 AND brief_id = {old.add(brief.id)} "
                           f"AND version <= {old.add(brief.version - KEPT_VERSIONS)}", *old.values)


async def versions(tenant: Tenant, brief_id: int, *, limit: int) -> list[BriefVersion]:
    """The brief's versions, newest first."""
    params = Params()
    rows = await tenant.fetch(
        "SELECT version, input_hash, changes, summary, created_at FROM brief_versions WHERE workspace_id = $1 "
        f"AND brief_id = {params.add(brief_id)} ORDER BY version DESC LIMIT {params.add(limit)}", *params.values)
    out = []
    for r in rows:
        changes = _json(r["changes"])
        out.append(BriefVersion(r["version"], r["input_hash"], changes if isinstance(changes, dict) else {},
                                r["summary"], r["created_at"]))
    return out


async def entity_briefs_by_id(tenant: Tenant, brief_ids: list[int]) -> list[Brief]:
    params = Params()
    rows = await tenant.fetch(f"SELECT {_BRIEF} FROM briefs WHERE workspace_id = $1 "
                              f"AND id = ANY({params.add(brief_ids, 'bigint[]')}) AND record_id IS NOT NULL "
                              "ORDER BY id", *params.values)
    return [_brief(r) for r in rows]


async def least_recently_checked(tenant: Tenant, *, limit: int) -> list[Brief]:
    """Entity and private briefs, the longest unchecked first (candidates for a refresh)."""
    params = Params()
    rows = await tenant.fetch(f"SELECT {_BRIEF} FROM briefs WHERE workspace_id = $1 AND record_id IS NOT NULL "
                              f"ORDER BY checked_at, id LIMIT {params.add(limit)}", *params.values)
    return [_brief(r) for r in rows]


# Agent skills

async def list_skills(tenant: Tenant, *, limit: int, offset: int) -> tuple[list[Skill], int]:
    total = (await tenant.fetch_one("SELECT count(*) FROM agent_skills WHERE workspace_id = $1"))[0]
    params = Params()
    rows = await tenant.fetch(f"SELECT {_SKILL} FROM agent_skills WHERE workspace_id = $1 "
                              f"ORDER BY confidence DESC, id LIMIT {params.add(limit)} OFFSET {params.add(offset)}",
                              *params.values)
    return [_skill(r) for r in rows], int(total)


async def all_skills(tenant: Tenant, *, limit: int) -> list[Skill]:
    params = Params()
    rows = await tenant.fetch(f"SELECT {_SKILL} FROM agent_skills WHERE workspace_id = $1 ORDER BY id "
                              f"LIMIT {params.add(limit)}", *params.values)
    return [_skill(r) for r in rows]


async def get_skill(tenant: Tenant, skill_id: int) -> Skill | None:
    params = Params()
    row = await tenant.fetchrow(f"SELECT {_SKILL} FROM agent_skills WHERE workspace_id = $1 "
                                f"AND id = {params.add(skill_id)}", *params.values)
    return _skill(row) if row else None


async def skill_by_slug(tenant: Tenant, slug: str) -> Skill | None:
    params = Params()
    row = await tenant.fetchrow(f"SELECT {_SKILL} FROM agent_skills WHERE workspace_id = $1 "
                                f"AND slug = {params.add(slug)}", *params.values)
    return _skill(row) if row else None


async def delete_skills(tenant: Tenant, skill_ids: list[int]) -> None:
    if skill_ids:
        params = Params()
        await tenant.fetch("DELETE FROM agent_skills WHERE workspace_id = $1 "
                           f"AND id = ANY({params.add(skill_ids, 'bigint[]')})", *params.values)


async def park_slugs(tenant: Tenant, skill_ids: list[int]) -> None:
    """Give skills whose slug is about to move a temporary one, so a swap of slugs between two
    skills never meets the unique constraint halfway."""
    if skill_ids:
        params = Params()
        await tenant.fetch("UPDATE agent_skills SET slug = '~' || id::text WHERE workspace_id = $1 "
                           f"AND id = ANY({params.add(skill_ids, 'bigint[]')})", *params.values)


async def save_skill(tenant: Tenant, existing: Skill | None, *, rule_id: int, slug: str, title: str,
                     description: str, trigger: str, confidence: float, content: str, input_hash: str,
                     now: datetime) -> Skill:
    """Insert the rule's skill, or write a new version of ``existing``."""
    params = Params()
    fields = [params.add(slug), params.add(title), params.add(description), params.add(trigger),
              params.add(confidence, "float8"), params.add(content), params.add(input_hash), params.add(now)]
    if existing is None:
        row = await tenant.fetchrow(
            "INSERT INTO agent_skills (workspace_id, rule_id, slug, title, description, trigger, confidence, content, "
            f"input_hash, created_at, updated_at) VALUES ({WORKSPACE}, {params.add(rule_id)}, {', '.join(fields)}, "
            f"{fields[-1]}) RETURNING {_SKILL}", *params.values)
    else:
        slug_p, title_p, desc_p, trig_p, conf_p, content_p, hash_p, now_p = fields
        row = await tenant.fetchrow(
            f"UPDATE agent_skills SET slug = {slug_p}, title = {title_p}, description = {desc_p}, trigger = {trig_p}, "
            f"confidence = {conf_p}, content = {content_p}, input_hash = {hash_p}, version = version + 1, "
            f"updated_at = {now_p} WHERE workspace_id = $1 AND id = {params.add(existing.id)} RETURNING {_SKILL}",
            *params.values)
    assert row is not None
    return _skill(row)


# Refresh job rows (the worker's ``refresh_briefs``)

async def queue_refresh(tenant: Tenant, brief_ids: list[int]) -> int | None:
    """A refresh job row for ``brief_ids``; None when the workspace has one unfinished already
    (it runs first; the next sweep finds what is still due)."""
    params = Params()
    row = await tenant.fetchrow(
        "INSERT INTO brief_refreshes (workspace_id, brief_ids) "
        f"VALUES ({WORKSPACE}, {params.add(brief_ids, 'bigint[]')}) "
        "ON CONFLICT (workspace_id) WHERE status IN ('pending', 'processing') DO NOTHING RETURNING id", *params.values)
    return int(row["id"]) if row else None


async def restart_refresh(tenant: Tenant, row_id: int) -> None:
    """A run (first or retried) counts from zero: its counts are those of the last attempt."""
    params = Params()
    await tenant.fetch("UPDATE brief_refreshes SET compiled = 0, changed = 0 WHERE workspace_id = $1 "
                       f"AND id = {params.add(row_id)}", *params.values)


async def count_refreshed(tenant: Tenant, row_id: int, *, changed: bool, now: datetime) -> None:
    params = Params()
    row = params.add(row_id)
    await tenant.fetch("UPDATE brief_refreshes SET compiled = compiled + 1, "
                       f"changed = changed + {params.add(int(changed), 'int')}, updated_at = {params.add(now)} "
                       f"WHERE workspace_id = $1 AND id = {row}", *params.values)


async def complete_refresh(tenant: Tenant, row_id: int, now: datetime) -> None:
    params = Params()
    row = params.add(row_id)
    at = params.add(now)
    await tenant.fetch(f"UPDATE brief_refreshes SET status = 'completed', error = NULL, completed_at = {at}, "
                       f"updated_at = {at} WHERE workspace_id = $1 AND id = {row} AND status <> 'completed'",
                       *params.values)


async def workspaces_with_briefs(conn: AsyncConnection, *, limit: int) -> list[int]:
    """Workspaces that have entity or private briefs (the refresh sweep visits each)."""
    rows = (await conn.execute(text(
        "SELECT DISTINCT workspace_id FROM briefs WHERE record_id IS NOT NULL LIMIT :limit"), {"limit": limit})).all()
    return [int(r[0]) for r in rows]
