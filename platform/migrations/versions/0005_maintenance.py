"""Checkpoints of resumable maintenance commands (``tessera search reindex``).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "CREATE TABLE maintenance_checkpoints (name text PRIMARY KEY, value jsonb NOT NULL, "
        "updated_at timestamptz NOT NULL DEFAULT now())")


def downgrade() -> None:
    op.execute("DROP TABLE maintenance_checkpoints")
