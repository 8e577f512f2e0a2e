"""The domain event of a feed item: its webhook (``notification.created``)."""

from __future__ import annotations

from dataclasses import dataclass

from tessera.changes import DomainEvent, EventRows
from tessera.wire import JsonObject


@dataclass(frozen=True, slots=True)
class NotificationCreated(DomainEvent):
    item_id: int
    item: JsonObject
    """The item as the feed shows it (``NotificationFeedItem``)."""

    def render(self, rows: EventRows, *, webhooks: bool) -> None:
        if webhooks:
            rows.webhook("notification.created", "notification", self.item_id, self.item)
