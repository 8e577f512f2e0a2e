"""Playbook rules: what pattern detection and playbook synthesis learned ("when a prospect raises a
security review, send the SOC 2 report within a day"), read by workspace playbooks and agent skills.
``fingerprint`` identifies a rule across runs (synthesis upserts by it, so a retry or a rerun never
duplicates); ``evidence`` lists the insights, artifacts and records that support it.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03
"""

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TABLE playbook_rules (
    workspace_id bigint NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id bigint NOT NULL DEFAULT next_id(),
    fingerprint text NOT NULL,
    pattern_id bigint,
    title text NOT NULL,
    trigger text NOT NULL,
    action text NOT NULL,
    evidence jsonb NOT NULL DEFAULT '[]',
    support integer NOT NULL DEFAULT 0,
    confidence double precision NOT NULL DEFAULT 0.5,
    status text NOT NULL DEFAULT 'active',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT pk_playbook_rules PRIMARY KEY (workspace_id, id),
    CONSTRAINT uq_playbook_rules_fingerprint UNIQUE (workspace_id, fingerprint),
    CONSTRAINT ck_playbook_rules_status CHECK (status IN ('active', 'retired')),
    CONSTRAINT ck_playbook_rules_confidence CHECK (confidence >= 0 AND confidence <= 1)
);
"""


def upgrade() -> None:
    for statement in UPGRADE.split(";"):
        if statement.strip():
            op.execute(statement)


def downgrade() -> None:
    op.execute("DROP TABLE playbook_rules")
