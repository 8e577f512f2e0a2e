"""SQL for tasks and the records they are linked to (``task_entities``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TypedDict

import asyncpg

from tessera.changes import Actor
from tessera.db.id_order import creation_page, order_by
from tessera.db.sql import WORKSPACE, Params
from tessera.db.tenant import Tenant

_COLUMNS = ("t.id, t.title, t.description, t.priority, t.due_date, t.is_completed, t.completed_at, t.assignee_ids, "
            "t.created_by, t.created_by_id, t.created_at, t.updated_at, t.archived_at, "
            "ARRAY(SELECT te.record_id FROM task_entities te WHERE te.workspace_id = t.workspace_id "
            "AND te.task_id = t.id ORDER BY te.record_id) AS entity_ids")

COUNT_CAP = 1_000  # `total` stops here: 1,000 means "at least 1,000" (docs/api.md)
FEW = COUNT_CAP  # fewer matches than this: gathered first, then sorted


@dataclass(frozen=True, slots=True)
class Task:
    id: int
    title: str
    description: str
    priority: str
    due_date: datetime | None
    is_completed: bool
    completed_at: datetime | None
    assignee_ids: tuple[str, ...]
    entity_ids: tuple[int, ...]
    """The linked records, in id order."""
    created_by: str
    created_by_id: str
    created_at: datetime
    updated_at: datetime
    archived_at: datetime | None


class TaskChanges(TypedDict, total=False):
    """The columns an update sets, in the order it sets them; a column left out keeps its value."""

    title: str
    description: str
    priority: str
    due_date: datetime | None
    assignee_ids: list[str]
    is_completed: bool
    completed_at: datetime | None


@dataclass(frozen=True, slots=True)
class TaskFilter:
    """What a listing keeps: every condition given must hold."""

    include_archived: bool = False
    is_completed: bool | None = None
    assignee_id: str | None = None
    record_id: int | None = None
    """Tasks linked to this record."""
    search: str | None = None
    """A substring of the title or the description (case-insensitive)."""


def _task(row: asyncpg.Record) -> Task:
    return Task(
        id=row["id"], title=row["title"], description=row["description"], priority=row["priority"],
        due_date=row["due_date"], is_completed=row["is_completed"], completed_at=row["completed_at"],
        assignee_ids=tuple(row["assignee_ids"]), entity_ids=tuple(row["entity_ids"]), created_by=row["created_by"],
        created_by_id=row["created_by_id"], created_at=row["created_at"], updated_at=row["updated_at"],
        archived_at=row["archived_at"])


async def linkable_records(tenant: Tenant, record_ids: list[int]) -> list[int]:
    """Those of ``record_ids`` that are records of this workspace a task may link to (not list entries)."""
    params = Params()
    rows = await tenant.fetch(
        "SELECT r.id FROM records r JOIN object_definitions o ON o.workspace_id = r.workspace_id "
        f"AND o.id = r.object_id WHERE r.workspace_id = $1 AND r.id = ANY({params.add(record_ids, 'bigint[]')}) "
        "AND o.type <> 'list'", *params.values)
    return [r["id"] for r in rows]


async def get_task(tenant: Tenant, task_id: int, *, lock: bool = False) -> Task | None:
    params = Params()
    row = await tenant.fetchrow(
        f"SELECT {_COLUMNS} FROM tasks t WHERE t.workspace_id = $1 AND t.id = {params.add(task_id)}"
        + (" FOR UPDATE OF t" if lock else ""), *params.values)
    return _task(row) if row is not None else None


async def insert_task(tenant: Tenant, task_id: int, *, title: str, description: str, priority: str,
                      due_date: datetime | None, assignee_ids: list[str], actor: Actor, now: datetime) -> None:
    params = Params()
    values = [params.add(v) for v in (task_id, title, description, priority, due_date, assignee_ids, actor.name,
                                      actor.id, now)]
    await tenant.fetch(
        "INSERT INTO tasks (workspace_id, id, title, description, priority, due_date, assignee_ids, created_by, "
        f"created_by_id, created_at, updated_at) VALUES ({WORKSPACE}, {', '.join(values)}, {values[-1]})",
        *params.values)


async def link_records(tenant: Tenant, task_id: int, record_ids: list[int]) -> None:
    """Make ``record_ids`` the task's linked records (links to others go)."""
    params = Params()
    task, records = params.add(task_id), params.add(record_ids, "bigint[]")
    await tenant.fetch(
        f"WITH gone AS (DELETE FROM task_entities WHERE workspace_id = $1 AND task_id = {task} "
        f"AND NOT (record_id = ANY({records}))) "
        f"INSERT INTO task_entities (workspace_id, task_id, record_id) SELECT $1, {task}, unnest({records}) "
        "ON CONFLICT DO NOTHING RETURNING record_id", *params.values)


async def update_task(tenant: Tenant, task_id: int, changes: TaskChanges, now: datetime) -> None:
    """Set the columns of ``changes`` (at least one) and ``updated_at``."""
    params = Params()
    task = params.add(task_id)
    assignments = ", ".join(f"{column} = {params.add(value)}" for column, value in changes.items())
    await tenant.fetch(f"UPDATE tasks SET {assignments}, updated_at = {params.add(now)} "
                       f"WHERE workspace_id = $1 AND id = {task}", *params.values)


async def archive_task(tenant: Tenant, task_id: int, now: datetime) -> None:
    params = Params()
    task, at = params.add(task_id), params.add(now)
    await tenant.fetch(f"UPDATE tasks SET archived_at = {at}, updated_at = {at} "
                       f"WHERE workspace_id = $1 AND id = {task}", *params.values)


async def open_tasks_of(tenant: Tenant, record_id: int, *, limit: int) -> list[Task]:
    """The record's newest ``limit`` open tasks (neither completed nor archived), without the
    count ``list_tasks`` makes."""
    params = Params()
    newest = order_by(tenant.workspace_id, "t.id", newest_first=True)
    rows = await tenant.fetch(
        f"SELECT {_COLUMNS} FROM task_entities te JOIN tasks t ON t.workspace_id = te.workspace_id "
        f"AND t.id = te.task_id WHERE te.workspace_id = $1 AND te.record_id = {params.add(record_id)} "
        f"AND NOT t.is_completed AND t.archived_at IS NULL ORDER BY {newest} LIMIT {params.add(limit)}",
        *params.values)
    return [_task(r) for r in rows]


async def list_tasks(tenant: Tenant, where: TaskFilter, *, limit: int, offset: int) -> tuple[list[Task], int]:
    """A page of the matching tasks, newest first, and how many match (up to ``COUNT_CAP``)."""
    params = Params()
    conditions = ["t.workspace_id = $1"]
    if not where.include_archived:
        conditions.append("t.archived_at IS NULL")
    if where.is_completed is not None:
        conditions.append(f"t.is_completed = {params.add(where.is_completed)}")
    if where.assignee_id is not None:
        conditions.append(f"t.assignee_ids @> ARRAY[{params.add(where.assignee_id)}::text]")
    if where.record_id is not None:
        conditions.append(f"EXISTS (SELECT 1 FROM task_entities te WHERE te.workspace_id = $1 "
                          f"AND te.task_id = t.id AND te.record_id = {params.add(where.record_id)})")
    if where.search is not None:
        pattern = "%" + where.search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        conditions.append(f"(t.title || ' ' || t.description) ILIKE {params.add(pattern)}")
    clause = " AND ".join(conditions)
    # Counting stops at COUNT_CAP: an exact count of a million matches would cost more than
    # the page itself (docs/api.md).
    counted = await tenant.fetch_one(
        f"SELECT count(*) FROM (SELECT 1 FROM tasks t WHERE {clause} LIMIT {COUNT_CAP}) c", *params.values)
    total = int(counted[0])
    rows: list[asyncpg.Record]
    if total < FEW and len(conditions) > 1:
        # Few matches: gather them through the filters' own indexes (the trigram index for
        # `search`), then sort. Walking the id index newest first would read past every task
        # that does not match: 136 ms for 679 matches among 1M tasks.
        newest = order_by(tenant.workspace_id, "t.id", newest_first=True)
        rows = await tenant.fetch(
            f"WITH m AS MATERIALIZED (SELECT t.id FROM tasks t WHERE {clause}) SELECT {_COLUMNS} "
            f"FROM m JOIN tasks t ON t.workspace_id = $1 AND t.id = m.id ORDER BY {newest} "
            f"LIMIT {params.add(limit)} OFFSET {params.add(offset)}", *params.values)
    else:
        rows = await creation_page(tenant, f"SELECT {_COLUMNS} FROM tasks t WHERE {clause}", params,
                                   column="t.id", newest_first=True, limit=limit, offset=offset)
    return [_task(r) for r in rows], total
