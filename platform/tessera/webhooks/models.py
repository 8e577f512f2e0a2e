"""Models of the webhook endpoints."""

from __future__ import annotations

from pydantic import Field, JsonValue

from tessera.wire import QueryModel, RequestModel, ResponseModel

EVENT_TYPES = (
    "record.created", "record.updated", "record.deleted",
    "list_entry.created", "list_entry.updated", "list_entry.deleted",
    "task.created", "task.updated", "task.archived",
    "note.created", "note.updated", "note.archived",
    "insight.created",
    "notification.created",
    "object.created", "object.updated", "object.deleted",
    "attribute.created", "attribute.updated", "attribute.deleted",
)
"""Subscribable events; ``*`` and ``<group>.*`` (``record.*``) select several."""


class CreateWebhookRequest(RequestModel):
    url: str = Field(min_length=1, max_length=2048)
    events: list[str] = Field(default_factory=lambda: ["*"], min_length=1, max_length=len(EVENT_TYPES) + 8)
    object_slugs: list[str] = Field(default_factory=list, max_length=50,
                                    description="Only events of these objects (record and list events)")
    filter: dict[str, JsonValue] | None = Field(default=None, description="Record query language; needs exactly one "
                                                                    "object slug; applies to record events")
    description: str = Field(default="", max_length=500)


class UpdateWebhookRequest(RequestModel):
    url: str | None = Field(default=None, min_length=1, max_length=2048)
    events: list[str] | None = Field(default=None, min_length=1, max_length=len(EVENT_TYPES) + 8)
    object_slugs: list[str] | None = Field(default=None, max_length=50)
    filter: dict[str, JsonValue] | None = None
    description: str | None = Field(default=None, max_length=500)
    enabled: bool | None = Field(default=None, description="false disables; true re-enables")


class WebhookResponse(ResponseModel):
    id: str
    url: str
    description: str
    events: list[str]
    object_slugs: list[str]
    filter: dict[str, JsonValue] | None = None
    status: str
    disabled_reason: str | None = None
    failing_since: str | None = None
    created_at: str
    updated_at: str
    secret: str | None = Field(default=None, description="Signing secret; only in create and rotate answers")


class WebhookListResponse(ResponseModel):
    data: list[WebhookResponse]


class DeliveriesQuery(QueryModel):
    limit: int = Field(default=50, ge=1, le=200)
    offset: int = Field(default=0, ge=0, le=1_000_000)
    status: str | None = Field(default=None, pattern="^(pending|retrying|succeeded|failed)$")


class DeliveryResponse(ResponseModel):
    id: str
    message_id: str
    event_type: str
    status: str
    attempt: int
    next_attempt_at: str | None = None
    last_status_code: int | None = None
    last_latency_ms: float | None = None
    last_error: str | None = None
    response_excerpt: str | None = None
    created_at: str
    delivered_at: str | None = None


class DeliveriesResponse(ResponseModel):
    data: list[DeliveryResponse]
    has_more: bool


class TestDeliveryResponse(ResponseModel):
    message_id: str
    status: str
