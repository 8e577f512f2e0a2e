"""Compounding tables (see the migrations from 0013 for indexes and constraints)."""

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    Integer,
    PrimaryKeyConstraint,
    Table,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

from tessera.db.tables.core import NEXT_ID, metadata

playbook_rules = Table(
    "playbook_rules", metadata,
    Column("workspace_id", BigInteger, nullable=False),
    Column("id", BigInteger, nullable=False, server_default=NEXT_ID),
    Column("fingerprint", Text, nullable=False),
    Column("pattern_id", BigInteger),
    Column("title", Text, nullable=False),
    Column("trigger", Text, nullable=False),
    Column("action", Text, nullable=False),
    Column("evidence", JSONB, nullable=False, server_default="[]"),
    Column("support", Integer, nullable=False, server_default="0"),
    Column("confidence", Float, nullable=False, server_default="0.5"),
    Column("status", Text, nullable=False, server_default="active"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("workspace_id", "id", name="pk_playbook_rules"),
)

compounding_jobs = Table(
    "compounding_jobs", metadata,
    Column("workspace_id", BigInteger, nullable=False),
    Column("id", BigInteger, nullable=False, server_default=NEXT_ID),
    Column("run_id", UUID, nullable=False),
    Column("job_type", Text, nullable=False),
    Column("dry_run", Boolean, nullable=False, server_default="false"),
    Column("trigger", Text, nullable=False, server_default="api"),
    Column("status", Text, nullable=False, server_default="pending"),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("insights_scanned", Integer, nullable=False, server_default="0"),
    Column("insights_affected", Integer, nullable=False, server_default="0"),
    Column("candidates_created", Integer, nullable=False, server_default="0"),
    Column("errors", Integer, nullable=False, server_default="0"),
    Column("error", Text),
    Column("error_details", JSONB),
    Column("result", JSONB),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("completed_at", DateTime(timezone=True)),
    PrimaryKeyConstraint("workspace_id", "id", name="pk_compounding_jobs"),
)

patterns = Table(
    "patterns", metadata,
    Column("workspace_id", BigInteger, nullable=False),
    Column("id", BigInteger, nullable=False, server_default=NEXT_ID),
    Column("fingerprint", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("insight_type", Text),
    Column("key", Text, nullable=False),
    Column("label", Text, nullable=False),
    Column("support", Integer, nullable=False),
    Column("entity_ids", ARRAY(BigInteger), nullable=False, server_default="{}"),
    Column("insight_ids", ARRAY(BigInteger), nullable=False, server_default="{}"),
    Column("examples", JSONB, nullable=False, server_default="[]"),
    Column("confidence", Float, nullable=False),
    Column("status", Text, nullable=False, server_default="active"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("workspace_id", "id", name="pk_patterns"),
)

compounding_metrics = Table(
    "compounding_metrics", metadata,
    Column("workspace_id", BigInteger, nullable=False),
    Column("id", BigInteger, nullable=False, server_default=NEXT_ID),
    Column("job_id", BigInteger, nullable=False),
    Column("taken_at", DateTime(timezone=True), nullable=False),
    Column("counts", JSONB, nullable=False),
    PrimaryKeyConstraint("workspace_id", "id", name="pk_compounding_metrics"),
)
