"""Exports expire: a completed export's file is deleted after EXPORT_RETENTION_DAYS and the export
reads ``expired``; the sweep finds the completed ones by their completion time.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE exports DROP CONSTRAINT ck_exports_status")
    op.execute("ALTER TABLE exports ADD CONSTRAINT ck_exports_status "
               "CHECK (status IN ('pending', 'processing', 'completed', 'failed', 'expired'))")
    op.execute("CREATE INDEX ix_exports_completed ON exports (completed_at) WHERE status = 'completed'")


def downgrade() -> None:
    op.execute("DROP INDEX ix_exports_completed")
    op.execute("DELETE FROM exports WHERE status = 'expired'")
    op.execute("ALTER TABLE exports DROP CONSTRAINT ck_exports_status")
    op.execute("ALTER TABLE exports ADD CONSTRAINT ck_exports_status "
               "CHECK (status IN ('pending', 'processing', 'completed', 'failed'))")
