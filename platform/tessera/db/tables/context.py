"""Context and AI tables (see migration 0006 for indexes and constraints)."""

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    Table,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from tessera.db.tables.core import NEXT_ID, metadata

artifacts = Table(
    "artifacts", metadata,
    Column("workspace_id", BigInteger, nullable=False),
    Column("id", BigInteger, nullable=False, server_default=NEXT_ID),
    Column("content", Text, nullable=False),
    Column("context", Text, nullable=False, server_default=""),
    Column("status", Text, nullable=False, server_default="pending"),
    Column("result", JSONB),
    Column("extraction", JSONB),
    Column("error", Text),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("created_by_id", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("completed_at", DateTime(timezone=True)),
    PrimaryKeyConstraint("workspace_id", "id", name="pk_artifacts"),
)

artifact_entities = Table(
    "artifact_entities", metadata,
    Column("workspace_id", BigInteger, nullable=False),
    Column("artifact_id", BigInteger, nullable=False),
    Column("record_id", BigInteger, nullable=False),
    Column("is_new", Boolean, nullable=False),
    PrimaryKeyConstraint("workspace_id", "artifact_id", "record_id", name="pk_artifact_entities"),
)

insights = Table(
    "insights", metadata,
    Column("workspace_id", BigInteger, nullable=False),
    Column("id", BigInteger, nullable=False, server_default=NEXT_ID),
    Column("artifact_id", BigInteger),
    Column("type", Text, nullable=False),
    Column("content", Text, nullable=False),
    Column("confidence", Float, nullable=False, server_default="0.5"),
    Column("entity_ids", ARRAY(BigInteger), nullable=False, server_default="{}"),
    Column("dedupe_key", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("merged_into", BigInteger),
    Column("source_artifact_ids", ARRAY(BigInteger), nullable=False, server_default="{}"),
    Column("support_count", Integer, nullable=False, server_default="1"),
    Column("peak_confidence", Float),
    Column("reinforced_at", DateTime(timezone=True)),
    PrimaryKeyConstraint("workspace_id", "id", name="pk_insights"),
)

ai_list_jobs = Table(
    "ai_list_jobs", metadata,
    Column("workspace_id", BigInteger, nullable=False),
    Column("id", BigInteger, nullable=False, server_default=NEXT_ID),
    Column("query", Text, nullable=False),
    Column("object_type", Text, nullable=False),
    Column("result_limit", Integer, nullable=False),
    Column("include_attributes", Boolean, nullable=False, server_default="false"),
    Column("status", Text, nullable=False, server_default="pending"),
    Column("interpretation", Text),
    Column("plan", JSONB),
    Column("result", JSONB),
    Column("error", Text),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("completed_at", DateTime(timezone=True)),
    PrimaryKeyConstraint("workspace_id", "id", name="pk_ai_list_jobs"),
)

ask_sessions = Table(
    "ask_sessions", metadata,
    Column("workspace_id", BigInteger, nullable=False),
    Column("id", Text, nullable=False),
    Column("turns", JSONB, nullable=False, server_default="[]"),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("workspace_id", "id", name="pk_ask_sessions"),
)

webhooks = Table(
    "webhooks", metadata,
    Column("workspace_id", BigInteger, nullable=False),
    Column("id", BigInteger, nullable=False, server_default=NEXT_ID),
    Column("url", Text, nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("events", ARRAY(Text), nullable=False),
    Column("object_slugs", ARRAY(Text), nullable=False, server_default="{}"),
    Column("filter", JSONB),
    Column("secret", LargeBinary, nullable=False),
    Column("status", Text, nullable=False, server_default="active"),
    Column("disabled_reason", Text),
    Column("failing_since", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("workspace_id", "id", name="pk_webhooks"),
)

webhook_deliveries = Table(
    "webhook_deliveries", metadata,
    Column("workspace_id", BigInteger, nullable=False),
    Column("id", BigInteger, nullable=False, server_default=NEXT_ID),
    Column("webhook_id", BigInteger, nullable=False),
    Column("message_id", Text, nullable=False),
    Column("event_type", Text, nullable=False),
    Column("payload", JSONB, nullable=False),
    Column("status", Text, nullable=False, server_default="pending"),
    Column("attempt", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("last_status_code", Integer),
    Column("last_latency_ms", Float),
    Column("last_error", Text),
    Column("response_excerpt", Text),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("delivered_at", DateTime(timezone=True)),
    PrimaryKeyConstraint("workspace_id", "id", name="pk_webhook_deliveries"),
)
