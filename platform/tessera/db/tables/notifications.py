"""Notification tables (see migration 0016 for indexes and constraints)."""

from sqlalchemy import BigInteger, Boolean, Column, DateTime, Integer, PrimaryKeyConstraint, Table, Text, func
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from tessera.db.tables.core import NEXT_ID, metadata

notification_preferences = Table(
    "notification_preferences", metadata,
    Column("workspace_id", BigInteger, nullable=False),
    Column("frequency_minutes", Integer, nullable=False, server_default="15"),
    Column("enabled_types", ARRAY(Text), nullable=False, server_default="{buying_signal,risk,stage_change}"),
    Column("digest_enabled", Boolean, nullable=False, server_default="false"),
    Column("alerts_scanned_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("last_batch_at", DateTime(timezone=True)),
    Column("last_digest_at", DateTime(timezone=True)),
    Column("last_sent_at", DateTime(timezone=True)),
    Column("next_poll_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("workspace_id", name="pk_notification_preferences"),
)

notification_rules = Table(
    "notification_rules", metadata,
    Column("workspace_id", BigInteger, nullable=False),
    Column("id", BigInteger, nullable=False, server_default=NEXT_ID),
    Column("name", Text, nullable=False),
    Column("prompt", Text, nullable=False),
    Column("matcher", JSONB, nullable=False),
    Column("is_enabled", Boolean, nullable=False, server_default="true"),
    Column("schedule", Text, nullable=False),
    Column("scanned_at", DateTime(timezone=True)),
    Column("next_run_at", DateTime(timezone=True), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("workspace_id", "id", name="pk_notification_rules"),
)

notifications = Table(
    "notifications", metadata,
    Column("workspace_id", BigInteger, nullable=False),
    Column("id", BigInteger, nullable=False, server_default=NEXT_ID),
    Column("type", Text, nullable=False),
    Column("status", Text, nullable=False, server_default="unread"),
    Column("rule_id", BigInteger),
    Column("alert_time", DateTime(timezone=True), nullable=False),
    Column("sent_at", DateTime(timezone=True), nullable=False),
    Column("content", JSONB, nullable=False),
    Column("read_at", DateTime(timezone=True)),
    PrimaryKeyConstraint("workspace_id", "id", name="pk_notifications"),
)

notification_marks = Table(
    "notification_marks", metadata,
    Column("workspace_id", BigInteger, nullable=False),
    Column("subject_key", Text, nullable=False),
    Column("notification_id", BigInteger, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("workspace_id", "subject_key", name="pk_notification_marks"),
)

notification_runs = Table(
    "notification_runs", metadata,
    Column("workspace_id", BigInteger, nullable=False),
    Column("id", BigInteger, nullable=False, server_default=NEXT_ID),
    Column("trigger", Text, nullable=False),
    Column("artifact_id", BigInteger),
    Column("status", Text, nullable=False, server_default="pending"),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("error", Text),
    Column("sources_scanned", Integer, nullable=False, server_default="0"),
    Column("items_created", Integer, nullable=False, server_default="0"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("completed_at", DateTime(timezone=True)),
    PrimaryKeyConstraint("workspace_id", "id", name="pk_notification_runs"),
)
