"""The domain event of tasks: created, updated (with what changed) or archived; it goes on the
timeline of every record the task is linked to (before and after the change)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tessera.changes import DomainEvent, EventRows
from tessera.wire import JsonObject, JsonValue


@dataclass(frozen=True, slots=True)
class TaskEvent(DomainEvent):
    kind: str
    """``created``, ``updated`` or ``archived``."""
    task_id: int
    task: JsonObject
    """``developer.TaskResponse`` (the webhook body)."""
    summary: JsonObject
    """What the timeline shows of the task."""
    records: Sequence[int]
    changes: list[JsonObject] | None = None

    def render(self, rows: EventRows, *, webhooks: bool) -> None:
        data = dict(self.task)
        if self.changes is not None:
            data["field_changes"] = list[JsonValue](self.changes)
        rows.webhook(f"task.{self.kind}", "task", self.task_id, data, deliver=webhooks)
        payload: JsonObject = {"task": self.summary}
        if self.changes is not None:
            payload["field_changes"] = list[JsonValue](self.changes)
        for record_id in self.records:
            rows.timeline(record_id, "task", self.task_id, self.kind, payload)
