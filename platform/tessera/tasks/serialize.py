"""Tasks as the API shows them (``developer.TaskResponse``, the webhook body, the timeline's
summary). Built as ordered JSON objects, not TypedDicts: unset optional fields are left out, as
the spec shows them, and they sit between fields that are always there."""

from __future__ import annotations

from typing import NotRequired, TypedDict

from tessera.tasks.repository import Task
from tessera.wire import JsonObject, JsonValue, iso


class TaskPageJson(TypedDict):
    """``developer.ListTasksResponse``."""

    data: list[JsonObject]
    has_more: bool
    total: int
    next_offset: NotRequired[int]


def _present(fields: JsonObject) -> JsonObject:
    return {k: v for k, v in fields.items() if v is not None}


def task_to_json(task: Task) -> JsonObject:
    """``developer.TaskResponse``."""
    return _present({
        "id": str(task.id), "title": task.title, "description": task.description, "priority": task.priority,
        "due_date": iso(task.due_date), "is_completed": task.is_completed, "completed_at": iso(task.completed_at),
        "assignee_ids": list[JsonValue](task.assignee_ids), "entity_ids": [str(i) for i in task.entity_ids],
        "created_by": task.created_by, "created_by_id": task.created_by_id, "created_at": iso(task.created_at),
        "updated_at": iso(task.updated_at), "archived_at": iso(task.archived_at),
    })


def task_page_to_json(tasks: list[Task], total: int, *, limit: int, offset: int) -> TaskPageJson:
    """A page of ``limit`` tasks from ``offset``; ``tasks`` holds one more when there are more."""
    shown = tasks[:limit]
    out: TaskPageJson = {"data": [task_to_json(t) for t in shown], "has_more": len(tasks) > limit, "total": total}
    if out["has_more"]:
        out["next_offset"] = offset + len(shown)
    return out


def timeline_task(task: Task) -> JsonObject:
    """What the timeline shows of a task."""
    return _present({"id": str(task.id), "title": task.title, "due_date": iso(task.due_date),
                     "priority": task.priority, "completed_at": iso(task.completed_at)})


def _compared(task: Task) -> dict[str, JsonValue]:
    """The fields an update reports a change of, as they are shown."""
    return {"title": task.title, "description": task.description, "priority": task.priority,
            "due_date": iso(task.due_date), "is_completed": task.is_completed,
            "assignee_ids": list[JsonValue](task.assignee_ids),
            "entity_ids": list[JsonValue](str(i) for i in task.entity_ids)}


def field_changes(before: Task, after: Task) -> list[JsonObject]:
    """``field_changes`` of an update: each compared field whose value differs, old and new."""
    old, new = _compared(before), _compared(after)
    return [{"field_name": name, "old_value": old[name], "new_value": new[name]}
            for name in old if old[name] != new[name]]
