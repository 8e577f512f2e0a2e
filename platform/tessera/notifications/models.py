"""Models of the notification endpoints (``developer.Notification*`` and ``*CustomNotificationRule*``
of the spec) and the vocabulary they share with the worker."""

from __future__ import annotations

from typing import Final

from pydantic import Field, JsonValue

from tessera.wire import QueryModel, RequestModel, ResponseModel, Rfc3339

INSIGHT_TYPES: Final = ("buying_signal", "risk", "objection", "timeline", "budget", "sentiment", "next_step")
"""The insight types extraction produces (``workers.intelligence.model.SIGNAL_TYPES``): each is an
alert type of its own."""
ALERT_TYPES: Final = (*INSIGHT_TYPES, "stage_change", "entity_change", "digest")
"""What ``enabled_types`` may name: an insight type, ``stage_change`` (a status- or stage-like
attribute of a record or list entry changed), ``entity_change`` (any other attribute changed) and
``digest`` (the periodic digest, the same switch as ``digest_enabled``)."""
DEFAULT_TYPES: Final = ("buying_signal", "risk", "stage_change")
DEFAULT_FREQUENCY_MINUTES: Final = 15
MAX_FREQUENCY_MINUTES: Final = 10_080
"""A week."""
DEFAULT_SCHEDULE: Final = "*/15 * * * *"
MAX_DESCRIPTION_CHARS: Final = 1_000
MAX_NAME_CHARS: Final = 200
FEED_DEFAULT_LIMIT: Final = 20
FEED_MAX_LIMIT: Final = 50


class FeedQuery(QueryModel):
    limit: int = Field(default=FEED_DEFAULT_LIMIT, ge=1, le=FEED_MAX_LIMIT,
                       description="Maximum number of notifications to return (default 20, max 50)")
    since: Rfc3339 | None = Field(default=None, description="Only notifications sent after this RFC3339 "
                                  "time, oldest first; the ones sent at or before it are marked read")


class UpdateNotificationPreferencesRequest(RequestModel):
    frequency_minutes: int | None = Field(default=None, ge=0, le=MAX_FREQUENCY_MINUTES,
                                          description="At most one context-alert batch per this many minutes "
                                                      "(0: as soon as the worker sees new context)")
    enabled_types: list[str] | None = Field(default=None, max_length=len(ALERT_TYPES) + 10,
                                            description="Alert types to raise: " + ", ".join(ALERT_TYPES))
    digest_enabled: bool | None = Field(default=None, description="A daily digest item")


class CreateCustomNotificationRuleRequest(RequestModel):
    description: str = Field(min_length=1, max_length=MAX_DESCRIPTION_CHARS,
                             description="What to be notified about, in natural language")
    name: str | None = Field(default=None, min_length=1, max_length=MAX_NAME_CHARS,
                             description="A name (beyond the spec; default: derived from the description)")
    schedule: str | None = Field(default=None, min_length=1, max_length=100,
                                 description="Cron-style evaluation schedule, UTC (beyond the spec; default "
                                             f"'{DEFAULT_SCHEDULE}')")
    is_enabled: bool = Field(default=True, description="beyond the spec")


class NotificationPreferencesResponse(ResponseModel):
    frequency_minutes: int
    enabled_types: list[str]
    digest_enabled: bool


class NotificationContent(ResponseModel):
    important_items: list[dict[str, JsonValue]]
    entity_changes: list[dict[str, JsonValue]]


class NotificationFeedItem(ResponseModel):
    id: str
    type: str
    status: str
    alert_time: str
    sent_at: str
    content: NotificationContent


class NotificationFeedResponse(ResponseModel):
    items: list[NotificationFeedItem]


class CustomNotificationRuleResponse(ResponseModel):
    id: str
    name: str
    prompt: str
    is_enabled: bool
    schedule: str
    created_at: str


class ListCustomNotificationRulesResponse(ResponseModel):
    rules: list[CustomNotificationRuleResponse]
