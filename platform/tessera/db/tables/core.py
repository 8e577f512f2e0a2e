"""Workspaces, API keys and idempotency records."""

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

metadata = MetaData()

NEXT_ID = text("next_id()")

workspaces = Table(
    "workspaces",
    metadata,
    Column("id", BigInteger, primary_key=True, server_default=NEXT_ID),
    Column("name", Text, nullable=False),
    Column("schema_version", BigInteger, nullable=False, server_default=text("0")),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", BigInteger, primary_key=True, server_default=NEXT_ID),
    Column("workspace_id", BigInteger, ForeignKey("workspaces.id", ondelete="CASCADE"),
           nullable=False),
    Column("name", Text, nullable=False),
    Column("prefix", Text, nullable=False, unique=True),
    Column("key_hash", LargeBinary, nullable=False),
    Column("scopes", ARRAY(Text), nullable=False),
    Column("rate_limit_per_minute", Integer, nullable=True),
    Column("expires_at", DateTime(timezone=True), nullable=True),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
    Column("last_used_at", DateTime(timezone=True), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_api_keys_workspace", "workspace_id", "id"),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("workspace_id", BigInteger, ForeignKey("workspaces.id", ondelete="CASCADE"),
           nullable=False),
    Column("api_key_id", BigInteger, nullable=False),
    Column("key_hash", LargeBinary, nullable=False),
    Column("request_hash", LargeBinary, nullable=False),
    Column("status_code", Integer, nullable=False),
    Column("response", LargeBinary, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("workspace_id", "api_key_id", "key_hash", name="pk_idempotency_keys"),
    Index("ix_idempotency_keys_expires", "expires_at"),
)

maintenance_checkpoints = Table(
    "maintenance_checkpoints",
    metadata,
    Column("name", Text, primary_key=True),
    Column("value", JSONB, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

erasure_receipts = Table(
    "erasure_receipts",
    metadata,
    Column("receipt_hash", LargeBinary, primary_key=True),
    Column("request_hash", LargeBinary, nullable=False),
    Column("erased_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Index("ix_erasure_receipts_expires", "expires_at"),
)
"""One row per ``DELETE /v1/workspace`` sent with an ``Idempotency-Key``: kept outside the erased
workspace (which takes its keys and idempotency records with it) so a replay can be answered."""
