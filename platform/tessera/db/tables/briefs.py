"""Brief, playbook and skill tables (see migration 0015 for indexes and constraints)."""

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Float,
    Integer,
    PrimaryKeyConstraint,
    SmallInteger,
    Table,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from tessera.db.tables.core import NEXT_ID, metadata

briefs = Table(
    "briefs", metadata,
    Column("workspace_id", BigInteger, nullable=False),
    Column("id", BigInteger, nullable=False, server_default=NEXT_ID),
    Column("scope_type", SmallInteger, nullable=False),
    Column("key", Text, nullable=False),
    Column("record_id", BigInteger),
    Column("slug", Text),
    Column("owner_key_id", BigInteger),
    Column("title", Text, nullable=False),
    Column("content", Text, nullable=False),
    Column("sections", JSONB, nullable=False, server_default="[]"),
    Column("input_hash", Text, nullable=False),
    Column("version", Integer, nullable=False, server_default="1"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("checked_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("workspace_id", "id", name="pk_briefs"),
)

brief_versions = Table(
    "brief_versions", metadata,
    Column("workspace_id", BigInteger, nullable=False),
    Column("brief_id", BigInteger, nullable=False),
    Column("version", Integer, nullable=False),
    Column("input_hash", Text, nullable=False),
    Column("content", Text, nullable=False),
    Column("changes", JSONB, nullable=False, server_default="{}"),
    Column("summary", Text, nullable=False, server_default=""),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("workspace_id", "brief_id", "version", name="pk_brief_versions"),
)

agent_skills = Table(
    "agent_skills", metadata,
    Column("workspace_id", BigInteger, nullable=False),
    Column("id", BigInteger, nullable=False, server_default=NEXT_ID),
    Column("rule_id", BigInteger, nullable=False),
    Column("slug", Text, nullable=False),
    Column("title", Text, nullable=False),
    Column("description", Text, nullable=False),
    Column("trigger", Text, nullable=False),
    Column("confidence", Float, nullable=False),
    Column("content", Text, nullable=False),
    Column("input_hash", Text, nullable=False),
    Column("version", Integer, nullable=False, server_default="1"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("workspace_id", "id", name="pk_agent_skills"),
)

brief_refreshes = Table(
    "brief_refreshes", metadata,
    Column("workspace_id", BigInteger, nullable=False),
    Column("id", BigInteger, nullable=False, server_default=NEXT_ID),
    Column("brief_ids", ARRAY(BigInteger), nullable=False),
    Column("status", Text, nullable=False, server_default="pending"),
    Column("compiled", Integer, nullable=False, server_default="0"),
    Column("changed", Integer, nullable=False, server_default="0"),
    Column("error", Text),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("completed_at", DateTime(timezone=True)),
    PrimaryKeyConstraint("workspace_id", "id", name="pk_brief_refreshes"),
)
