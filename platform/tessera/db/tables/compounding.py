"""Compounding tables (see the migrations from 0013 for indexes and constraints)."""

from sqlalchemy import BigInteger, Column, DateTime, Float, Integer, PrimaryKeyConstraint, Table, Text, func
from sqlalchemy.dialects.postgresql import JSONB

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
