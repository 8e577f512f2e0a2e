"""Records and everything that hangs off them (see migration 0003 for indexes)."""

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Integer,
    Numeric,
    PrimaryKeyConstraint,
    SmallInteger,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from tessera.db.tables.core import NEXT_ID, metadata

records = Table(
    "records",
    metadata,
    Column("workspace_id", BigInteger, nullable=False),
    Column("id", BigInteger, nullable=False, server_default=NEXT_ID),
    Column("object_id", BigInteger, nullable=False),
    Column("parent_record_id", BigInteger, nullable=True),
    Column("data", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("value_meta", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("created_by", Text, nullable=False, server_default=""),
    Column("created_by_id", Text, nullable=False, server_default=""),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("workspace_id", "id", name="pk_records"),
)

record_values = Table(
    "record_values",
    metadata,
    Column("workspace_id", BigInteger, nullable=False),
    Column("record_id", BigInteger, nullable=False),
    Column("attribute_id", BigInteger, nullable=False),
    Column("ord", SmallInteger, nullable=False),
    Column("facet", Text, nullable=False, server_default=""),
    Column("v_text", Text),
    Column("v_num", Numeric),
    Column("v_ts", DateTime(timezone=True)),
    Column("v_bool", Boolean),
    Column("v_json", JSONB),
    PrimaryKeyConstraint("workspace_id", "record_id", "attribute_id", "ord", "facet", name="pk_record_values"),
)

unique_values = Table(
    "unique_values",
    metadata,
    Column("workspace_id", BigInteger, nullable=False),
    Column("attribute_id", BigInteger, nullable=False),
    Column("value_key", Text, nullable=False),
    Column("record_id", BigInteger, nullable=False),
    PrimaryKeyConstraint("workspace_id", "attribute_id", "value_key", name="pk_unique_values"),
)

relationships = Table(
    "relationships",
    metadata,
    Column("workspace_id", BigInteger, nullable=False),
    Column("id", BigInteger, nullable=False, server_default=NEXT_ID),
    Column("definition_id", BigInteger, nullable=False),
    Column("type", Text, nullable=False),
    Column("entity_1_id", BigInteger, nullable=False),
    Column("entity_2_id", BigInteger, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("workspace_id", "id", name="pk_relationships"),
)

timeline_events = Table(
    "timeline_events",
    metadata,
    Column("workspace_id", BigInteger, nullable=False),
    Column("id", BigInteger, nullable=False, server_default=NEXT_ID),
    Column("record_id", BigInteger, nullable=False),
    Column("resource_type", Text, nullable=False),
    Column("resource_id", BigInteger, nullable=False),
    Column("event_type", Text, nullable=False),
    Column("payload", JSONB, nullable=False),
    Column("actor", Text, nullable=False),
    Column("actor_id", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("workspace_id", "id", name="pk_timeline_events"),
)

attribute_history = Table(
    "attribute_history",
    metadata,
    Column("workspace_id", BigInteger, nullable=False),
    Column("id", BigInteger, nullable=False, server_default=NEXT_ID),
    Column("record_id", BigInteger, nullable=False),
    Column("attribute_id", BigInteger, nullable=False),
    Column("value", JSONB, nullable=False),
    Column("active_from", DateTime(timezone=True), nullable=False),
    Column("active_until", DateTime(timezone=True)),
    Column("actor", Text, nullable=False),
    Column("actor_id", Text, nullable=False),
    PrimaryKeyConstraint("workspace_id", "id", name="pk_attribute_history"),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("workspace_id", BigInteger, nullable=False),
    Column("topic", Text, nullable=False),
    Column("event_type", Text, nullable=False),
    Column("aggregate_type", Text, nullable=False),
    Column("aggregate_id", BigInteger, nullable=False),
    Column("payload", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("available_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("processed_at", DateTime(timezone=True)),
)

tasks = Table(
    "tasks",
    metadata,
    Column("workspace_id", BigInteger, nullable=False),
    Column("id", BigInteger, nullable=False, server_default=NEXT_ID),
    Column("title", Text, nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("priority", Text, nullable=False, server_default="unspecified"),
    Column("due_date", DateTime(timezone=True)),
    Column("is_completed", Boolean, nullable=False, server_default=text("false")),
    Column("completed_at", DateTime(timezone=True)),
    Column("assignee_ids", ARRAY(Text), nullable=False, server_default=text("'{}'")),
    Column("created_by", Text, nullable=False),
    Column("created_by_id", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("archived_at", DateTime(timezone=True)),
    PrimaryKeyConstraint("workspace_id", "id", name="pk_tasks"),
)

task_entities = Table(
    "task_entities",
    metadata,
    Column("workspace_id", BigInteger, nullable=False),
    Column("task_id", BigInteger, nullable=False),
    Column("record_id", BigInteger, nullable=False),
    PrimaryKeyConstraint("workspace_id", "task_id", "record_id", name="pk_task_entities"),
)

notes = Table(
    "notes",
    metadata,
    Column("workspace_id", BigInteger, nullable=False),
    Column("id", BigInteger, nullable=False, server_default=NEXT_ID),
    Column("title", Text, nullable=False),
    Column("content", Text, nullable=False, server_default=""),
    Column("entity_id", BigInteger),
    Column("created_by", Text, nullable=False),
    Column("created_by_id", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("archived_at", DateTime(timezone=True)),
    PrimaryKeyConstraint("workspace_id", "id", name="pk_notes"),
)
