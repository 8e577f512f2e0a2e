"""The change stream's tables (see migration 0019 for the indexes)."""

from sqlalchemy import BigInteger, Column, DateTime, PrimaryKeyConstraint, Table, Text, text
from sqlalchemy.dialects.postgresql import JSONB

from tessera.db.tables.core import metadata

events = Table(
    "events", metadata,
    Column("workspace_id", BigInteger, nullable=False),
    Column("id", BigInteger, nullable=False, autoincrement=True),
    Column("position", BigInteger),
    Column("event_type", Text, nullable=False),
    Column("aggregate_type", Text, nullable=False),
    Column("aggregate_id", BigInteger, nullable=False),
    Column("object_slug", Text),
    Column("data", JSONB, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("workspace_id", "id", name="pk_events"),
)

event_heads = Table(
    "event_heads", metadata,
    Column("workspace_id", BigInteger, nullable=False),
    Column("last_position", BigInteger, nullable=False, server_default=text("0")),
    Column("purged_through", BigInteger, nullable=False, server_default=text("0")),
    PrimaryKeyConstraint("workspace_id", name="pk_event_heads"),
)
