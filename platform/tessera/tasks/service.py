"""Tasks: linked to records, completed and reopened, archived instead of deleted. Every change
appends a timeline event to each linked record, in the same transaction."""

from __future__ import annotations

from tessera.changes import Changes
from tessera.db.tenant import Tenant
from tessera.errors import NotFound
from tessera.tasks import repository
from tessera.tasks.events import TaskEvent
from tessera.tasks.models import CreateTaskRequest, ListTasksQuery, UpdateTaskRequest
from tessera.tasks.repository import Task, TaskChanges, TaskFilter
from tessera.tasks.serialize import field_changes, task_to_json, timeline_task
from tessera.wire import JsonObject, parse_id


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
        if len(await repository.linkable_records(self.tenant, wanted)) != len(wanted):
            raise NotFound("One or more entity_ids do not name a record of this workspace")
        return wanted

    async def get(self, task_id: int | None, *, lock: bool = False) -> Task:
        """The task, or 404 (also for an id that cannot be one of ours: ``task_id`` None)."""
        task = await repository.get_task(self.tenant, task_id, lock=lock) if task_id is not None else None
        if task is None:
            raise NotFound("Task not found")
        return task

    def _events(self, task: Task, event_type: str, records: list[int],
                changes: list[JsonObject] | None = None) -> None:
        self.changes.add(TaskEvent(event_type, task.id, task_to_json(task), timeline_task(task), records, changes),
                         webhooks=self.webhooks)

    async def create(self, request: CreateTaskRequest) -> Task:
        entity_ids = await self._entity_ids(request.entity_ids or [])
        (task_id,) = await self.ids.take(self.tenant.conn, 1)
        await repository.insert_task(
            self.tenant, task_id, title=request.title, description=request.description or "",
            priority=request.priority or "unspecified", due_date=request.due_date,
            assignee_ids=list(dict.fromkeys(request.assignee_ids or [])), actor=self.actor, now=self.now)
        await repository.link_records(self.tenant, task_id, entity_ids)
        task = await self.get(task_id)
        self._events(task, "created", entity_ids)
        return task

    async def update(self, task_id: int | None, request: UpdateTaskRequest) -> Task:
        """Apply the fields the request sets (a field it leaves out keeps its value; an empty
        description or priority, or a null due date, clears it)."""
        before = await self.get(task_id, lock=True)
        given = request.model_fields_set
        values: TaskChanges = {}
        if request.title is not None:
            values["title"] = request.title
        if "description" in given:
            values["description"] = request.description or ""
        if "priority" in given:
            values["priority"] = request.priority or "unspecified"
        if "due_date" in given:
            values["due_date"] = request.due_date
        if request.assignee_ids is not None:
            values["assignee_ids"] = list(dict.fromkeys(request.assignee_ids))
        if request.is_completed is not None and request.is_completed != before.is_completed:
            values["is_completed"] = request.is_completed
            values["completed_at"] = self.now if request.is_completed else None
        entities = await self._entity_ids(request.entity_ids) if request.entity_ids is not None else None
        if values:
            await repository.update_task(self.tenant, before.id, values, self.now)
        if entities is not None:
            await repository.link_records(self.tenant, before.id, entities)
        after = await self.get(before.id)
        diff = field_changes(before, after)
        if diff:
            self._events(after, "updated", sorted(set(before.entity_ids) | set(after.entity_ids)), diff)
        return after

    async def archive(self, task_id: int | None) -> None:
        task = await self.get(task_id, lock=True)
        if task.archived_at is not None:
            return
        await repository.archive_task(self.tenant, task.id, self.now)
        self._events(task, "archived", list(task.entity_ids))

    async def list(self, query: ListTasksQuery) -> tuple[list[Task], int]:
        """A page of the matching tasks, newest first, with one task more than ``query.limit``
        when there are more; and how many match (up to ``repository.COUNT_CAP``)."""
        record_id = None
        if query.entity_id is not None:
            record_id = parse_id(query.entity_id)
            if record_id is None:  # cannot name a record of ours: nothing is linked to it
                return [], 0
        where = TaskFilter(include_archived=query.include_archived, is_completed=query.is_completed,
                           assignee_id=query.assignee_id, record_id=record_id, search=query.search)
        return await repository.list_tasks(self.tenant, where, limit=query.limit + 1, offset=query.offset)
