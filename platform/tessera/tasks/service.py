"""Tasks: linked to records, completed and reopened, archived instead of deleted. Every change
appends a timeline event to each linked record, in the same transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tessera.changes import Changes
from tessera.db.id_order import creation_page, order_by
from tessera.db.sql import Params
from tessera.db.tenant import Tenant
from tessera.errors import NotFound
from tessera.tasks.events import TaskEvent
from tessera.wire import iso, parse_id

_COLUMNS = ("t.id, t.title, t.description, t.priority, t.due_date, t.is_completed, t.completed_at, t.assignee_ids, "
            "t.created_by, t.created_by_id, t.created_at, t.updated_at, t.archived_at, "
            "ARRAY(SELECT te.record_id FROM task_entities te WHERE te.workspace_id = t.workspace_id "
            "AND te.task_id = t.id ORDER BY te.record_id) AS entity_ids")
_FIELDS = ("title", "description", "priority", "due_date", "is_completed", "assignee_ids", "entity_ids")


def task_to_json(row: Any) -> dict[str, Any]:
    """``developer.TaskResponse``; unset optional fields are left out, as the spec shows them."""
    out = {
        "id": str(row["id"]), "title": row["title"], "description": row["description"],
        "priority": row["priority"], "due_date": iso(row["due_date"]), "is_completed": row["is_completed"],
        "completed_at": iso(row["completed_at"]), "assignee_ids": list(row["assignee_ids"]),
        "entity_ids": [str(i) for i in row["entity_ids"]], "created_by": row["created_by"],
        "created_by_id": row["created_by_id"], "created_at": iso(row["created_at"]),
        "updated_at": iso(row["updated_at"]), "archived_at": iso(row["archived_at"]),
    }
    return {k: v for k, v in out.items() if v is not None}


def _timeline_task(row: dict[str, Any]) -> dict[str, Any]:
    out = {"id": str(row["id"]), "title": row["title"], "due_date": iso(row["due_date"]),
           "priority": row["priority"], "completed_at": iso(row["completed_at"])}
    return {k: v for k, v in out.items() if v is not None}


COUNT_CAP = 1_000  # `total` stops here: 1,000 means "at least 1,000" (docs/api.md)
FEW = COUNT_CAP  # fewer matches than this: gathered first, then sorted


class TaskService:
    def __init__(self, tenant: Tenant, changes: Changes, *, webhooks: bool = False) -> None:
        self.tenant = tenant
        self.changes = changes
        self.ids = changes.ids
        self.actor = changes.actor
        self.now = changes.now
        self.webhooks = webhooks

    async def _entity_ids(self, raw: list[str]) -> list[int]:
        """Workspace records named by ``raw``; any unknown or foreign id is a 404."""
        wanted = sorted({parse_id(r) or -1 for r in raw})
        if not wanted:
            return []
        found = await self.tenant.fetch(
            "SELECT r.id FROM records r JOIN object_definitions o ON o.workspace_id = r.workspace_id "
            "AND o.id = r.object_id WHERE r.workspace_id = $1 AND r.id = ANY($2::bigint[]) AND o.type <> 'list'",
            wanted)
        if len(found) != len(wanted):
            raise NotFound("One or more entity_ids do not name a record of this workspace")
        return wanted

    async def get(self, raw_id: str, *, lock: bool = False) -> dict[str, Any]:
        task_id = parse_id(raw_id)
        row = await self.tenant.fetchrow(
            f"SELECT {_COLUMNS} FROM tasks t WHERE t.workspace_id = $1 AND t.id = $2"
            + (" FOR UPDATE OF t" if lock else ""), task_id) if task_id is not None else None
        if row is None:
            raise NotFound("Task not found")
        return dict(row)

    def _events(self, row: dict[str, Any], event_type: str, records: list[int],
                changes: list[dict[str, Any]] | None = None) -> None:
        self.changes.add(TaskEvent(event_type, row["id"], task_to_json(row), _timeline_task(row), records, changes),
                         webhooks=self.webhooks)

    async def _link(self, task_id: int, record_ids: list[int]) -> None:
        await self.tenant.fetch(
            "WITH gone AS (DELETE FROM task_entities WHERE workspace_id = $1 AND task_id = $2 "
            "AND NOT (record_id = ANY($3::bigint[]))) "
            "INSERT INTO task_entities (workspace_id, task_id, record_id) SELECT $1, $2, unnest($3::bigint[]) "
            "ON CONFLICT DO NOTHING RETURNING record_id", task_id, record_ids)

    async def create(self, body: Any) -> dict[str, Any]:
        entity_ids = await self._entity_ids(body.entity_ids or [])
        (task_id,) = await self.ids.take(self.tenant.conn, 1)
        await self.tenant.fetch(
            "INSERT INTO tasks (workspace_id, id, title, description, priority, due_date, assignee_ids, created_by, "
            "created_by_id, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)",
            task_id, body.title, body.description or "", body.priority or "unspecified", body.due_date,
            list(dict.fromkeys(body.assignee_ids or [])), self.actor.name, self.actor.id, self.now)
        await self._link(task_id, entity_ids)
        row = await self.get(str(task_id))
        self._events(row, "created", entity_ids)
        return row

    async def update(self, raw_id: str, body: Any) -> dict[str, Any]:
        before = await self.get(raw_id, lock=True)
        changes = body.model_dump(exclude_unset=True)
        values: dict[str, Any] = {}
        if changes.get("title") is not None:
            values["title"] = changes["title"]
        if "description" in changes:
            values["description"] = changes["description"] or ""
        if "priority" in changes:
            values["priority"] = changes["priority"] or "unspecified"
        if "due_date" in changes:
            values["due_date"] = changes["due_date"]
        if changes.get("assignee_ids") is not None:
            values["assignee_ids"] = list(dict.fromkeys(changes["assignee_ids"]))
        if changes.get("is_completed") is not None and changes["is_completed"] != before["is_completed"]:
            values["is_completed"] = changes["is_completed"]
            values["completed_at"] = self.now if changes["is_completed"] else None
        entities = None
        if changes.get("entity_ids") is not None:
            entities = await self._entity_ids(changes["entity_ids"])
        if values:
            params = Params()
            task = params.add(before["id"])
            assignments = ", ".join(f"{column} = {params.add(value)}" for column, value in values.items())
            await self.tenant.fetch(f"UPDATE tasks SET {assignments}, updated_at = {params.add(self.now)} "
                                    f"WHERE workspace_id = $1 AND id = {task}", *params.values)
        if entities is not None:
            await self._link(before["id"], entities)
        after = await self.get(raw_id)
        diff = [{"field_name": f, "old_value": _plain(before.get(f)), "new_value": _plain(after.get(f))}
                for f in _FIELDS if _plain(before.get(f)) != _plain(after.get(f))]
        if diff:
            records = sorted(set(before["entity_ids"]) | set(after["entity_ids"]))
            self._events(after, "updated", records, diff)
        return after

    async def archive(self, raw_id: str) -> None:
        row = await self.get(raw_id, lock=True)
        if row["archived_at"] is not None:
            return
        await self.tenant.fetch("UPDATE tasks SET archived_at = $3, updated_at = $3 "
                                "WHERE workspace_id = $1 AND id = $2",
                                row["id"], self.now)
        self._events(row, "archived", list(row["entity_ids"]))

    async def list(self, query: Any) -> tuple[list[dict[str, Any]], int]:
        where = ["t.workspace_id = $1"]
        params = Params()
        if not query.include_archived:
            where.append("t.archived_at IS NULL")
        if query.is_completed is not None:
            where.append(f"t.is_completed = {params.add(query.is_completed)}")
        if query.assignee_id is not None:
            where.append(f"t.assignee_ids @> ARRAY[{params.add(query.assignee_id)}::text]")
        if query.entity_id is not None:
            record_id = parse_id(query.entity_id)
            if record_id is None:
                return [], 0
            where.append(f"EXISTS (SELECT 1 FROM task_entities te WHERE te.workspace_id = $1 AND te.task_id = t.id "
                         f"AND te.record_id = {params.add(record_id)})")
        if query.search is not None:
            pattern = "%" + query.search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            where.append(f"(t.title || ' ' || t.description) ILIKE {params.add(pattern)}")
        clause = " AND ".join(where)
        # Counting stops at COUNT_CAP: an exact count of a million matches would cost more than
        # the page itself (docs/api.md).
        total = int((await self.tenant.fetchrow(
            f"SELECT count(*) FROM (SELECT 1 FROM tasks t WHERE {clause} LIMIT {COUNT_CAP}) c", *params.values))[0])
        if total < FEW and len(where) > 1:
            # Few matches: gather them through the filters' own indexes (the trigram index for
            # `search`), then sort. Walking the id index newest first would read past every task
            # that does not match: 136 ms for 679 matches among 1M tasks.
            newest = order_by(self.tenant.workspace_id, "t.id", newest_first=True)
            rows = await self.tenant.fetch(
                f"WITH m AS MATERIALIZED (SELECT t.id FROM tasks t WHERE {clause}) SELECT {_COLUMNS} "
                f"FROM m JOIN tasks t ON t.workspace_id = $1 AND t.id = m.id ORDER BY {newest} "
                f"LIMIT {params.add(query.limit + 1)} OFFSET {params.add(query.offset)}", *params.values)
        else:
            rows = await creation_page(self.tenant, f"SELECT {_COLUMNS} FROM tasks t WHERE {clause}", params,
                                       column="t.id", newest_first=True, limit=query.limit + 1,
                                       offset=query.offset)
        return [dict(r) for r in rows], total


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, list):
        return [str(v) for v in value]
    return value
