"""Integration tables (see migration 0017 for indexes and constraints)."""

from sqlalchemy import BigInteger, Column, DateTime, Integer, LargeBinary, PrimaryKeyConstraint, Table, Text, func

from tessera.db.tables.core import NEXT_ID, metadata

integration_connections = Table(
    "integration_connections", metadata,
    Column("workspace_id", BigInteger, nullable=False),
    Column("id", BigInteger, nullable=False, server_default=NEXT_ID),
    Column("type", Text, nullable=False),
    Column("provider", Text, nullable=False),
    Column("identifier", Text, nullable=False),
    Column("status", Text, nullable=False, server_default="active"),
    Column("access_token", LargeBinary, nullable=False),
    Column("refresh_token", LargeBinary),
    Column("token_expires_at", DateTime(timezone=True)),
    Column("scope", Text, nullable=False, server_default=""),
    Column("error", Text),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("workspace_id", "id", name="pk_integration_connections"),
)
"""A connected account. The tokens are sealed (AES-GCM under a key derived from KEY_PEPPER)."""

integration_connects = Table(
    "integration_connects", metadata,
    Column("workspace_id", BigInteger, nullable=False),
    Column("id", BigInteger, nullable=False, server_default=NEXT_ID),
    Column("connect_hash", LargeBinary, nullable=False),
    Column("state_hash", LargeBinary, nullable=False),
    Column("code_verifier", LargeBinary, nullable=False),
    Column("type", Text, nullable=False),
    Column("provider", Text, nullable=False),
    Column("redirect_uri", Text, nullable=False),
    Column("status", Text, nullable=False, server_default="pending"),
    Column("error", Text),
    Column("connection_id", BigInteger),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("completed_at", DateTime(timezone=True)),
    PrimaryKeyConstraint("workspace_id", "id", name="pk_integration_connects"),
)
"""A connect flow in progress: the hashes of its connect id and state, its sealed PKCE verifier."""

integration_syncs = Table(
    "integration_syncs", metadata,
    Column("workspace_id", BigInteger, nullable=False),
    Column("id", BigInteger, nullable=False),
    Column("status", Text, nullable=False, server_default="pending"),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("error", Text),
    Column("page_token", Text),
    Column("run_after_ms", BigInteger),
    Column("run_max_ms", BigInteger),
    Column("watermark_ms", BigInteger),
    Column("history_id", Text),
    Column("messages_synced", Integer, nullable=False, server_default="0"),
    Column("run_seen", Integer, nullable=False, server_default="0"),
    Column("run_imported", Integer, nullable=False, server_default="0"),
    Column("started_at", DateTime(timezone=True)),
    Column("last_synced_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("workspace_id", "id", name="pk_integration_syncs"),
)
"""The sync job row of a connection (same id), checkpointed per page."""

integration_messages = Table(
    "integration_messages", metadata,
    Column("workspace_id", BigInteger, nullable=False),
    Column("source", Text, nullable=False),
    Column("message_id", Text, nullable=False),
    Column("artifact_id", BigInteger, nullable=False),
    Column("internal_date_ms", BigInteger),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("workspace_id", "source", "message_id", name="pk_integration_messages"),
)
"""Every message a sync turned into an artifact, by account (``google:me@example.com``) and
message id: the key that makes a rerun (or a reconnect of the same account) never duplicate."""
