"""SQL of context: artifacts, AI list jobs, insights, ask sessions, and what ask and the graph
read about records (their insights, notes, open tasks, relationships and mentions). Memory
items have their own module (``tessera.context.memory``), shared with the workers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg
import orjson

from tessera.db.id_order import creation_page, order_by
from tessera.db.sql import WORKSPACE, Params
from tessera.db.tenant import Tenant
from tessera.records.repository import RecordRow, to_row
from tessera.wire import JsonObject, JsonValue


def _document(stored: str | JsonValue) -> JsonValue:
    """A ``jsonb`` value as the driver hands it over: text, or already decoded."""
    decoded: JsonValue = orjson.loads(stored) if isinstance(stored, str) else stored
    return decoded


@dataclass(frozen=True, slots=True)
class Artifact:
    """A text fed in for extraction, as its reader sees it (not its content)."""

    id: int
    status: str
    result: JsonValue
    """What the extraction produced (None until it completes)."""
    error: str | None
    created_at: datetime
    completed_at: datetime | None


@dataclass(frozen=True, slots=True)
class ListJob:
    id: int
    status: str
    interpretation: str | None
    result: JsonValue
    """``{"entities": [...]}`` once the job completes, else None."""
    error: str | None
    include_attributes: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Insight:
    id: int
    type: str
    content: str
    entity_ids: tuple[int, ...]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class RecordInsight:
    """An insight about a record, as ask hands it to the reasoner."""

    id: int
    type: str
    content: str
    confidence: float
    created_at: datetime


@dataclass(frozen=True, slots=True)
class GraphInsight:
    """An insight as the graph draws it: a node linked to the records it is about."""

    id: int
    type: str
    content: str
    confidence: float
    entity_ids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class NoteExcerpt:
    title: str
    excerpt: str
    """The note's first 300 characters."""


@dataclass(frozen=True, slots=True)
class OpenTask:
    title: str
    due_date: datetime | None


@dataclass(frozen=True, slots=True)
class Link:
    """A relationship of a record, with its definition's predicates both ways."""

    entity_1_id: int
    entity_2_id: int
    entity_1_to_2_predicate: str | None
    entity_2_to_1_predicate: str | None


@dataclass(frozen=True, slots=True)
class GraphEdge:
    """A relationship instance as the graph draws it."""

    id: int
    definition_id: int
    entity_1_id: int
    entity_2_id: int
    entity_1_to_2_predicate: str | None
    type: str
    """The definition's type (``one_to_many``...), the label when it has no predicate."""


@dataclass(frozen=True, slots=True)
class Mention:
    """The records one artifact mentions, in id order."""

    artifact_id: int
    record_ids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class AskSession:
    turns: list[JsonObject]
    updated_at: datetime


# Artifacts and AI list jobs

async def insert_artifact(tenant: Tenant, artifact_id: int, *, content: str, context: str, created_by_id: str,
                          now: datetime) -> None:
    params = Params()
    values = ", ".join(params.add(v) for v in (artifact_id, content, context, created_by_id))
    at = params.add(now)
    await tenant.fetch(
        "INSERT INTO artifacts (workspace_id, id, content, context, created_by_id, created_at, updated_at) "
        f"VALUES ({WORKSPACE}, {values}, {at}, {at})", *params.values)


async def get_artifact(tenant: Tenant, artifact_id: int) -> Artifact | None:
    params = Params()
    row = await tenant.fetchrow(
        "SELECT id, status, result, error, created_at, completed_at FROM artifacts WHERE workspace_id = $1 "
        f"AND id = {params.add(artifact_id)}", *params.values)
    if row is None:
        return None
    return Artifact(id=row["id"], status=row["status"],
                    result=_document(row["result"]) if row["result"] is not None else None, error=row["error"],
                    created_at=row["created_at"], completed_at=row["completed_at"])


async def insert_list_job(tenant: Tenant, job_id: int, *, query: str, object_type: str, limit: int,
                          include_attributes: bool, now: datetime) -> None:
    params = Params()
    values = ", ".join(params.add(v) for v in (job_id, query, object_type, limit, include_attributes))
    at = params.add(now)
    await tenant.fetch(
        "INSERT INTO ai_list_jobs (workspace_id, id, query, object_type, result_limit, include_attributes, "
        f"created_at, updated_at) VALUES ({WORKSPACE}, {values}, {at}, {at})", *params.values)


async def get_list_job(tenant: Tenant, job_id: int) -> ListJob | None:
    params = Params()
    row = await tenant.fetchrow(
        "SELECT id, status, interpretation, result, error, include_attributes, created_at FROM ai_list_jobs "
        f"WHERE workspace_id = $1 AND id = {params.add(job_id)}", *params.values)
    if row is None:
        return None
    return ListJob(id=row["id"], status=row["status"], interpretation=row["interpretation"],
                   result=_document(row["result"]) if row["result"] is not None else None, error=row["error"],
                   include_attributes=row["include_attributes"], created_at=row["created_at"])


# Insights

async def list_insights(tenant: Tenant, *, start: datetime | None, end: datetime | None, limit: int,
                        after_id: int | None = None) -> list[Insight]:
    """Insights created in [start, end], newest first; with ``after_id``, those after it in
    creation order, oldest first."""
    params = Params()
    where = ["workspace_id = $1", "merged_into IS NULL"]  # a merged insight lives on in its survivor
    if start is not None:
        where.append(f"created_at >= {params.add(start)}")
    if end is not None:
        where.append(f"created_at <= {params.add(end)}")
    select = f"SELECT id, type, content, entity_ids, created_at FROM insights WHERE {' AND '.join(where)}"
    rows: list[asyncpg.Record]
    if after_id is not None:
        rows = await creation_page(tenant, select, params, newest_first=False, limit=limit, after=after_id)
    else:
        rows = await tenant.fetch(f"{select} ORDER BY created_at DESC, id DESC LIMIT {params.add(limit)}",
                                  *params.values)
    return [Insight(id=r["id"], type=r["type"], content=r["content"], entity_ids=tuple(r["entity_ids"]),
                    created_at=r["created_at"]) for r in rows]


async def insight_artifacts(tenant: Tenant, insight_ids: Sequence[int]) -> dict[int, int | None]:
    """The artifact each insight was read in (None: made some other way)."""
    params = Params()
    rows = await tenant.fetch(
        f"SELECT id, artifact_id FROM insights WHERE workspace_id = $1 "
        f"AND id = ANY({params.add(list(insight_ids), 'bigint[]')})", *params.values)
    return {r["id"]: r["artifact_id"] for r in rows}


# What ask reads about one record

async def insights_on(tenant: Tenant, record_id: int) -> list[RecordInsight]:
    """The record's 10 most confident insights, the newest first among equals. Confidence is what
    the decay sweep lowers on insights nothing reinforced, so stale ones give way to fresh ones."""
    params = Params()
    rows = await tenant.fetch(
        "SELECT id, type, content, confidence, created_at FROM insights WHERE workspace_id = $1 "
        f"AND entity_ids @> ARRAY[{params.add(record_id)}]::bigint[] AND merged_into IS NULL "
        "ORDER BY confidence DESC, created_at DESC, id DESC LIMIT 10", *params.values)
    return [RecordInsight(id=r["id"], type=r["type"], content=r["content"], confidence=r["confidence"],
                          created_at=r["created_at"]) for r in rows]


async def notes_on(tenant: Tenant, record_id: int) -> list[NoteExcerpt]:
    """The record's newest 5 unarchived notes."""
    params = Params()
    rows = await tenant.fetch(
        "SELECT title, left(content, 300) AS excerpt, created_at FROM notes WHERE workspace_id = $1 "
        f"AND entity_id = {params.add(record_id)} AND archived_at IS NULL ORDER BY created_at DESC, id DESC LIMIT 5",
        *params.values)
    return [NoteExcerpt(title=r["title"], excerpt=r["excerpt"]) for r in rows]


async def open_tasks_on(tenant: Tenant, record_id: int) -> list[OpenTask]:
    """The record's newest 5 open (neither completed nor archived) tasks."""
    params = Params()
    rows = await tenant.fetch(
        "SELECT t.title, t.due_date FROM tasks t JOIN task_entities te ON te.workspace_id = t.workspace_id "
        f"AND te.task_id = t.id WHERE t.workspace_id = $1 AND te.record_id = {params.add(record_id)} "
        "AND NOT t.is_completed AND t.archived_at IS NULL ORDER BY t.created_at DESC, t.id DESC LIMIT 5",
        *params.values)
    return [OpenTask(title=r["title"], due_date=r["due_date"]) for r in rows]


async def links_of(tenant: Tenant, record_id: int) -> list[Link]:
    """Up to 10 relationships the record is on either side of."""
    params = Params()
    record = params.add(record_id)
    rows = await tenant.fetch(
        "SELECT r.entity_1_id, r.entity_2_id, d.entity_1_to_2_predicate, d.entity_2_to_1_predicate "
        "FROM relationships r JOIN relationship_definitions d ON d.workspace_id = r.workspace_id "
        f"AND d.id = r.definition_id WHERE r.workspace_id = $1 AND (r.entity_1_id = {record} "
        f"OR r.entity_2_id = {record}) LIMIT 10", *params.values)
    return [Link(entity_1_id=r["entity_1_id"], entity_2_id=r["entity_2_id"],
                 entity_1_to_2_predicate=r["entity_1_to_2_predicate"],
                 entity_2_to_1_predicate=r["entity_2_to_1_predicate"]) for r in rows]


# Ask sessions

async def get_session(tenant: Tenant, session_id: str) -> AskSession | None:
    params = Params()
    row = await tenant.fetchrow(
        f"SELECT turns, updated_at FROM ask_sessions WHERE workspace_id = $1 AND id = {params.add(session_id)}",
        *params.values)
    if row is None:
        return None
    turns = _document(row["turns"])
    return AskSession([t for t in turns if isinstance(t, dict)] if isinstance(turns, list) else [], row["updated_at"])


async def save_session(tenant: Tenant, session_id: str, turns: Sequence[JsonObject], now: datetime) -> None:
    params = Params()
    values = f"{params.add(session_id)}, {params.add(orjson.dumps(turns).decode(), 'jsonb')}, {params.add(now)}"
    await tenant.fetch(
        f"INSERT INTO ask_sessions (workspace_id, id, turns, updated_at) VALUES ({WORKSPACE}, {values}) "
        "ON CONFLICT (workspace_id, id) DO UPDATE SET turns = EXCLUDED.turns, updated_at = EXCLUDED.updated_at",
        *params.values)


# The graph

async def count_records(tenant: Tenant, object_ids: list[int]) -> int:
    params = Params()
    objects = params.add(object_ids, "bigint[]")
    row = await tenant.fetch_one(f"SELECT count(*) FROM records WHERE workspace_id = $1 AND object_id = ANY({objects})",
                                 *params.values)
    return int(row[0])


async def first_records(tenant: Tenant, object_ids: list[int], *, limit: int) -> list[RecordRow]:
    """The first ``limit`` records of these objects in creation order."""
    params = Params()
    rows = await creation_page(
        tenant, "SELECT id, object_id, parent_record_id, data, value_meta, created_by, created_by_id, created_at, "
        f"updated_at FROM records WHERE workspace_id = $1 AND object_id = ANY({params.add(object_ids, 'bigint[]')})",
        params, newest_first=False, limit=limit)
    return [to_row(r) for r in rows]


async def count_relationships(tenant: Tenant) -> int:
    row = await tenant.fetch_one("SELECT count(*) FROM relationships WHERE workspace_id = $1")
    return int(row[0])


async def edges_among(tenant: Tenant, record_ids: list[int], *, limit: int) -> list[GraphEdge]:
    """The first ``limit`` relationships (in creation order) with both ends among ``record_ids``."""
    params = Params()
    records = params.add(record_ids, "bigint[]")
    rows = await tenant.fetch(
        "SELECT r.id, r.definition_id, r.entity_1_id, r.entity_2_id, d.entity_1_to_2_predicate, d.type "
        "FROM relationships r JOIN relationship_definitions d ON d.workspace_id = r.workspace_id "
        f"AND d.id = r.definition_id WHERE r.workspace_id = $1 AND r.entity_1_id = ANY({records}) "
        f"AND r.entity_2_id = ANY({records}) ORDER BY {order_by(tenant.workspace_id, 'r.id')} "
        f"LIMIT {params.add(limit)}", *params.values)
    return [GraphEdge(id=r["id"], definition_id=r["definition_id"], entity_1_id=r["entity_1_id"],
                      entity_2_id=r["entity_2_id"], entity_1_to_2_predicate=r["entity_1_to_2_predicate"],
                      type=r["type"]) for r in rows]


async def insights_among(tenant: Tenant, record_ids: list[int], *, limit: int) -> list[GraphInsight]:
    """The newest ``limit`` insights about any of ``record_ids``."""
    params = Params()
    rows = await tenant.fetch(
        "SELECT id, type, content, confidence, entity_ids FROM insights WHERE workspace_id = $1 "
        f"AND entity_ids && {params.add(record_ids, 'bigint[]')} AND merged_into IS NULL "
        f"ORDER BY {order_by(tenant.workspace_id, 'id', newest_first=True)} LIMIT {params.add(limit)}",
        *params.values)
    return [GraphInsight(id=r["id"], type=r["type"], content=r["content"], confidence=r["confidence"],
                         entity_ids=tuple(r["entity_ids"])) for r in rows]


async def mentions_among(tenant: Tenant, record_ids: list[int], *, limit: int) -> list[Mention]:
    """The newest ``limit`` artifacts mentioning any of ``record_ids``, with those they mention."""
    params = Params()
    rows = await tenant.fetch(
        "SELECT artifact_id, array_agg(record_id ORDER BY record_id) AS records FROM artifact_entities "
        f"WHERE workspace_id = $1 AND record_id = ANY({params.add(record_ids, 'bigint[]')}) GROUP BY artifact_id "
        f"ORDER BY {order_by(tenant.workspace_id, 'artifact_id', newest_first=True)} LIMIT {params.add(limit)}",
        *params.values)
    return [Mention(artifact_id=r["artifact_id"], record_ids=tuple(r["records"])) for r in rows]
