"""Bulk import and export jobs, with their files kept in PostgreSQL (any worker can read them).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TABLE imports (
    workspace_id bigint NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id bigint NOT NULL DEFAULT next_id(),
    object_id bigint NOT NULL,
    format text NOT NULL,
    mapping jsonb NOT NULL DEFAULT '{}'::jsonb,
    matching_attribute text,
    status text NOT NULL DEFAULT 'pending',
    total_bytes bigint NOT NULL DEFAULT 0,
    processed_rows bigint NOT NULL DEFAULT 0,
    created_count bigint NOT NULL DEFAULT 0,
    updated_count bigint NOT NULL DEFAULT 0,
    failed_count bigint NOT NULL DEFAULT 0,
    error text,
    attempts integer NOT NULL DEFAULT 0,
    created_by_id text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    completed_at timestamptz,
    CONSTRAINT pk_imports PRIMARY KEY (workspace_id, id),
    CONSTRAINT ck_imports_status CHECK (status IN ('uploading', 'pending', 'processing', 'completed', 'failed'))
);
CREATE INDEX ix_imports_unfinished ON imports (updated_at) WHERE status IN ('pending', 'processing');
CREATE TABLE import_chunks (
    workspace_id bigint NOT NULL,
    import_id bigint NOT NULL,
    seq integer NOT NULL,
    data bytea NOT NULL,
    CONSTRAINT pk_import_chunks PRIMARY KEY (workspace_id, import_id, seq),
    CONSTRAINT fk_import_chunks_import FOREIGN KEY (workspace_id, import_id)
        REFERENCES imports (workspace_id, id) ON DELETE CASCADE
);
CREATE TABLE import_errors (
    workspace_id bigint NOT NULL,
    import_id bigint NOT NULL,
    row_number bigint NOT NULL,
    column_name text NOT NULL DEFAULT '',
    message text NOT NULL,
    CONSTRAINT fk_import_errors_import FOREIGN KEY (workspace_id, import_id)
        REFERENCES imports (workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX ix_import_errors ON import_errors (workspace_id, import_id, row_number);
CREATE TABLE exports (
    workspace_id bigint NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id bigint NOT NULL DEFAULT next_id(),
    object_slug text,
    format text NOT NULL,
    status text NOT NULL DEFAULT 'pending',
    size_bytes bigint NOT NULL DEFAULT 0,
    counts jsonb NOT NULL DEFAULT '{}'::jsonb,
    error text,
    attempts integer NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    completed_at timestamptz,
    CONSTRAINT pk_exports PRIMARY KEY (workspace_id, id),
    CONSTRAINT ck_exports_status CHECK (status IN ('pending', 'processing', 'completed', 'failed'))
);
CREATE INDEX ix_exports_unfinished ON exports (updated_at) WHERE status IN ('pending', 'processing');
CREATE TABLE export_chunks (
    workspace_id bigint NOT NULL,
    export_id bigint NOT NULL,
    seq integer NOT NULL,
    data bytea NOT NULL,
    CONSTRAINT pk_export_chunks PRIMARY KEY (workspace_id, export_id, seq),
    CONSTRAINT fk_export_chunks_export FOREIGN KEY (workspace_id, export_id)
        REFERENCES exports (workspace_id, id) ON DELETE CASCADE
)
"""


def upgrade() -> None:
    for statement in UPGRADE.split(";"):
        if statement.strip():
            op.execute(statement)


def downgrade() -> None:
    for table in ("export_chunks", "exports", "import_errors", "import_chunks", "imports"):
        op.execute(f"DROP TABLE {table}")
