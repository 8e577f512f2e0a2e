"""Entity briefs, workspace playbooks and agent skills: compiled markdown documents, versioned by the
hash of their inputs; and the job rows of the debounced brief refresh.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03
"""

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TABLE briefs (
    workspace_id bigint NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id bigint NOT NULL DEFAULT next_id(),
    scope_type smallint NOT NULL,
    key text NOT NULL,
    record_id bigint,
    slug text,
    owner_key_id bigint,
    title text NOT NULL,
    content text NOT NULL,
    sections jsonb NOT NULL DEFAULT '[]',
    input_hash text NOT NULL,
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    checked_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT pk_briefs PRIMARY KEY (workspace_id, id),
    CONSTRAINT uq_briefs_key UNIQUE (workspace_id, key),
    CONSTRAINT fk_briefs_record FOREIGN KEY (workspace_id, record_id)
        REFERENCES records (workspace_id, id) ON DELETE CASCADE,
    CONSTRAINT ck_briefs_scope_type CHECK (scope_type IN (1, 2, 3)),
    CONSTRAINT ck_briefs_private_owner CHECK ((scope_type = 3) = (owner_key_id IS NOT NULL))
);
CREATE INDEX ix_briefs_record ON briefs (workspace_id, record_id) WHERE record_id IS NOT NULL;
CREATE INDEX ix_briefs_checked ON briefs (workspace_id, checked_at) WHERE record_id IS NOT NULL;
CREATE TABLE brief_versions (
    workspace_id bigint NOT NULL,
    brief_id bigint NOT NULL,
    version integer NOT NULL,
    input_hash text NOT NULL,
    content text NOT NULL,
    changes jsonb NOT NULL DEFAULT '{}',
    summary text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT pk_brief_versions PRIMARY KEY (workspace_id, brief_id, version),
    CONSTRAINT fk_brief_versions_brief FOREIGN KEY (workspace_id, brief_id)
        REFERENCES briefs (workspace_id, id) ON DELETE CASCADE
);
CREATE TABLE agent_skills (
    workspace_id bigint NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id bigint NOT NULL DEFAULT next_id(),
    rule_id bigint NOT NULL,
    slug text NOT NULL,
    title text NOT NULL,
    description text NOT NULL,
    trigger text NOT NULL,
    confidence double precision NOT NULL,
    content text NOT NULL,
    input_hash text NOT NULL,
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT pk_agent_skills PRIMARY KEY (workspace_id, id),
    CONSTRAINT uq_agent_skills_slug UNIQUE (workspace_id, slug),
    CONSTRAINT uq_agent_skills_rule UNIQUE (workspace_id, rule_id),
    CONSTRAINT fk_agent_skills_rule FOREIGN KEY (workspace_id, rule_id)
        REFERENCES playbook_rules (workspace_id, id) ON DELETE CASCADE
);
CREATE TABLE brief_refreshes (
    workspace_id bigint NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id bigint NOT NULL DEFAULT next_id(),
    brief_ids bigint[] NOT NULL,
    status text NOT NULL DEFAULT 'pending',
    compiled integer NOT NULL DEFAULT 0,
    changed integer NOT NULL DEFAULT 0,
    error text,
    attempts integer NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    completed_at timestamptz,
    CONSTRAINT pk_brief_refreshes PRIMARY KEY (workspace_id, id),
    CONSTRAINT ck_brief_refreshes_status CHECK (status IN ('pending', 'processing', 'completed', 'failed'))
);
CREATE UNIQUE INDEX uq_brief_refreshes_unfinished ON brief_refreshes (workspace_id)
    WHERE status IN ('pending', 'processing');
CREATE INDEX ix_brief_refreshes_unfinished ON brief_refreshes (updated_at) WHERE status IN ('pending', 'processing');
"""


def upgrade() -> None:
    for statement in UPGRADE.split(";"):
        if statement.strip():
            op.execute(statement)


def downgrade() -> None:
    for table in ("brief_refreshes", "agent_skills", "brief_versions", "briefs"):
        op.execute(f"DROP TABLE {table}")
