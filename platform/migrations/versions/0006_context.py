"""Context and AI: artifacts (text fed in), insights, the entities an artifact touched, AI list
jobs and ask sessions.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TABLE artifacts (
    workspace_id bigint NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id bigint NOT NULL DEFAULT next_id(),
    content text NOT NULL,
    context text NOT NULL DEFAULT '',
    status text NOT NULL DEFAULT 'pending',
    result jsonb,
    extraction jsonb,
    error text,
    attempts integer NOT NULL DEFAULT 0,
    created_by_id text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    completed_at timestamptz,
    CONSTRAINT pk_artifacts PRIMARY KEY (workspace_id, id),
    CONSTRAINT ck_artifacts_status CHECK (status IN ('pending', 'processing', 'completed', 'failed'))
);
CREATE INDEX ix_artifacts_unfinished ON artifacts (updated_at) WHERE status IN ('pending', 'processing');
CREATE TABLE artifact_entities (
    workspace_id bigint NOT NULL,
    artifact_id bigint NOT NULL,
    record_id bigint NOT NULL,
    is_new boolean NOT NULL,
    CONSTRAINT pk_artifact_entities PRIMARY KEY (workspace_id, artifact_id, record_id),
    CONSTRAINT fk_artifact_entities_artifact FOREIGN KEY (workspace_id, artifact_id)
        REFERENCES artifacts (workspace_id, id) ON DELETE CASCADE,
    CONSTRAINT fk_artifact_entities_record FOREIGN KEY (workspace_id, record_id)
        REFERENCES records (workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX ix_artifact_entities_record ON artifact_entities (workspace_id, record_id);
CREATE TABLE insights (
    workspace_id bigint NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id bigint NOT NULL DEFAULT next_id(),
    artifact_id bigint,
    type text NOT NULL,
    content text NOT NULL,
    confidence double precision NOT NULL DEFAULT 0.5,
    entity_ids bigint[] NOT NULL DEFAULT '{}',
    dedupe_key text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT pk_insights PRIMARY KEY (workspace_id, id),
    CONSTRAINT uq_insights_dedupe UNIQUE (workspace_id, dedupe_key)
);
CREATE INDEX ix_insights_recent ON insights (workspace_id, created_at DESC, id DESC);
CREATE INDEX ix_insights_entities ON insights USING gin (entity_ids);
CREATE TABLE ai_list_jobs (
    workspace_id bigint NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id bigint NOT NULL DEFAULT next_id(),
    query text NOT NULL,
    object_type text NOT NULL,
    result_limit integer NOT NULL,
    include_attributes boolean NOT NULL DEFAULT false,
    status text NOT NULL DEFAULT 'pending',
    interpretation text,
    plan jsonb,
    result jsonb,
    error text,
    attempts integer NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    completed_at timestamptz,
    CONSTRAINT pk_ai_list_jobs PRIMARY KEY (workspace_id, id),
    CONSTRAINT ck_ai_list_jobs_status CHECK (status IN ('pending', 'processing', 'completed', 'failed'))
);
CREATE INDEX ix_ai_list_jobs_unfinished ON ai_list_jobs (updated_at) WHERE status IN ('pending', 'processing');
CREATE TABLE ask_sessions (
    workspace_id bigint NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id text NOT NULL,
    turns jsonb NOT NULL DEFAULT '[]'::jsonb,
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT pk_ask_sessions PRIMARY KEY (workspace_id, id)
)
"""


def upgrade() -> None:
    for statement in UPGRADE.split(";"):
        if statement.strip():
            op.execute(statement)


def downgrade() -> None:
    for table in ("ask_sessions", "ai_list_jobs", "insights", "artifact_entities", "artifacts"):
        op.execute(f"DROP TABLE {table}")
