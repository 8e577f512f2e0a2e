"""Foundation: id generator, workspaces, API keys, idempotency records.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Time-ordered 64-bit ids: 41 bits of milliseconds since 2024-01-01, 22 bits of a sequence.
    # Ordered by creation time across processes, unique while fewer than 4M ids are drawn per ms.
    op.execute("CREATE SEQUENCE IF NOT EXISTS tessera_id_seq")
    op.execute(
        """
        CREATE OR REPLACE FUNCTION next_id() RETURNS bigint LANGUAGE sql VOLATILE AS $$
          SELECT ((floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint - 1704067200000) << 22)
                 | (nextval('tessera_id_seq') % 4194304)
        $$
        """
    )
    op.create_table(
        "workspaces",
        sa.Column("id", sa.BigInteger, primary_key=True, server_default=sa.text("next_id()")),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("schema_version", sa.BigInteger, nullable=False, server_default=sa.text("0")),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.BigInteger, primary_key=True, server_default=sa.text("next_id()")),
        sa.Column("workspace_id", sa.BigInteger,
                  sa.ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("prefix", sa.Text, nullable=False, unique=True),
        sa.Column("key_hash", sa.LargeBinary, nullable=False),
        sa.Column("scopes", postgresql.ARRAY(sa.Text), nullable=False),
        sa.Column("rate_limit_per_minute", sa.Integer, nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
    )
    op.create_index("ix_api_keys_workspace", "api_keys", ["workspace_id", "id"])
    op.create_table(
        "idempotency_keys",
        sa.Column("workspace_id", sa.BigInteger,
                  sa.ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False),
        sa.Column("api_key_id", sa.BigInteger, nullable=False),
        sa.Column("key_hash", sa.LargeBinary, nullable=False),
        sa.Column("request_hash", sa.LargeBinary, nullable=False),
        sa.Column("status_code", sa.Integer, nullable=False),
        sa.Column("response", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("workspace_id", "api_key_id", "key_hash",
                                name="pk_idempotency_keys"),
    )
    op.create_index("ix_idempotency_keys_expires", "idempotency_keys", ["expires_at"])


def downgrade() -> None:
    op.drop_table("idempotency_keys")
    op.drop_table("api_keys")
    op.drop_table("workspaces")
    op.execute("DROP FUNCTION IF EXISTS next_id()")
    op.execute("DROP SEQUENCE IF EXISTS tessera_id_seq")
