"""The domain event of tasks: created, updated (with what changed) or archived; it goes on the
timeline of every record the task is linked to (before and after the change)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tessera.changes import DomainEvent, EventRows
from tessera.wire import JsonObject


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
        rows.resource_change("task", self.task_id, self.kind, body=self.task, summary=self.summary,
                             records=self.records, changes=self.changes, webhooks=webhooks)
