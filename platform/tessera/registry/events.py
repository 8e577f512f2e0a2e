"""The domain events of schema changes: the ``object.*`` / ``attribute.*`` webhook events, and
the search outbox rows that make the indexer drop or rebuild an object's documents."""

from __future__ import annotations

from dataclasses import dataclass

from tessera.changes import SEARCH, DomainEvent, EventRows
from tessera.wire import JsonObject


@dataclass(frozen=True, slots=True)
class SchemaChanged(DomainEvent):
    event_type: str
    """``object.created``, ``attribute.updated``...: its group names the aggregate."""
    aggregate_id: int
    data: JsonObject

    def render(self, rows: EventRows, *, webhooks: bool) -> None:
        rows.webhook(self.event_type, self.event_type.split(".", 1)[0], self.aggregate_id, self.data, deliver=webhooks)


@dataclass(frozen=True, slots=True)
class ObjectDocumentsChanged(DomainEvent):
    event_type: str
    """``object.deleted`` (drop its documents) or ``object.reindex`` (rebuild them from the first record)."""
    object_id: int

    def render(self, rows: EventRows, *, webhooks: bool) -> None:
        rows.outbox(SEARCH, self.event_type, "object", self.object_id,
                    {"after": 0} if self.event_type == "object.reindex" else {})
