"""Integrations: OAuth connections (tokens sealed), pending connect flows, one sync job row per
connection and the message ids a sync imported (docs/integrations.md).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03
"""

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TABLE integration_connections (
    workspace_id bigint NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id bigint NOT NULL DEFAULT next_id(),
    type text NOT NULL,
    provider text NOT NULL,
    identifier text NOT NULL,
    status text NOT NULL DEFAULT 'active',
    access_token bytea NOT NULL,
    refresh_token bytea,
    token_expires_at timestamptz,
    scope text NOT NULL DEFAULT '',
    error text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT pk_integration_connections PRIMARY KEY (workspace_id, id),
    CONSTRAINT uq_integration_connections_account UNIQUE (workspace_id, type, provider, identifier),
    CONSTRAINT ck_integration_connections_status CHECK (status IN ('active', 'error'))
);
CREATE TABLE integration_connects (
    workspace_id bigint NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id bigint NOT NULL DEFAULT next_id(),
    connect_hash bytea NOT NULL,
    state_hash bytea NOT NULL,
    code_verifier bytea NOT NULL,
    type text NOT NULL,
    provider text NOT NULL,
    redirect_uri text NOT NULL,
    status text NOT NULL DEFAULT 'pending',
    error text,
    connection_id bigint,
    expires_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    completed_at timestamptz,
    CONSTRAINT pk_integration_connects PRIMARY KEY (workspace_id, id),
    CONSTRAINT uq_integration_connects_connect UNIQUE (workspace_id, connect_hash),
    CONSTRAINT uq_integration_connects_state UNIQUE (workspace_id, state_hash),
    CONSTRAINT ck_integration_connects_status CHECK (status IN ('pending', 'connected', 'failed'))
);
CREATE TABLE integration_syncs (
    workspace_id bigint NOT NULL,
    id bigint NOT NULL,
    status text NOT NULL DEFAULT 'pending',
    attempts integer NOT NULL DEFAULT 0,
    error text,
    page_token text,
    run_after_ms bigint,
    run_max_ms bigint,
    watermark_ms bigint,
    history_id text,
    messages_synced integer NOT NULL DEFAULT 0,
    run_seen integer NOT NULL DEFAULT 0,
    run_imported integer NOT NULL DEFAULT 0,
    started_at timestamptz,
    last_synced_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT pk_integration_syncs PRIMARY KEY (workspace_id, id),
    CONSTRAINT fk_integration_syncs_connection FOREIGN KEY (workspace_id, id)
        REFERENCES integration_connections (workspace_id, id) ON DELETE CASCADE,
    CONSTRAINT ck_integration_syncs_status CHECK (status IN ('pending', 'processing', 'completed', 'failed'))
);
CREATE INDEX ix_integration_syncs_status ON integration_syncs (status, updated_at);
CREATE TABLE integration_messages (
    workspace_id bigint NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    source text NOT NULL,
    message_id text NOT NULL,
    artifact_id bigint NOT NULL,
    internal_date_ms bigint,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT pk_integration_messages PRIMARY KEY (workspace_id, source, message_id)
);
"""


def upgrade() -> None:
    for statement in UPGRADE.split(";"):
        if statement.strip():
            op.execute(statement)


def downgrade() -> None:
    op.execute("DROP TABLE integration_messages")
    op.execute("DROP TABLE integration_syncs")
    op.execute("DROP TABLE integration_connects")
    op.execute("DROP TABLE integration_connections")
