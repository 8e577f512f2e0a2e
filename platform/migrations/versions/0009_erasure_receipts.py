"""Erasure receipts: what a replayed ``DELETE /v1/workspace`` with an ``Idempotency-Key`` is
answered once the workspace, its keys and its idempotency records are gone.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "CREATE TABLE erasure_receipts (receipt_hash bytea PRIMARY KEY, request_hash bytea NOT NULL, "
        "erased_at timestamptz NOT NULL, expires_at timestamptz NOT NULL)")
    op.execute("CREATE INDEX ix_erasure_receipts_expires ON erasure_receipts (expires_at)")


def downgrade() -> None:
    op.execute("DROP TABLE erasure_receipts")
