"""Tasks (linked to records, soft-deleted), notes, and trigram search over tasks.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE TABLE tasks (
    workspace_id bigint NOT NULL,
    id bigint NOT NULL DEFAULT next_id(),
    title text NOT NULL,
    description text NOT NULL DEFAULT '',
    priority text NOT NULL DEFAULT 'unspecified',
    due_date timestamptz,
    is_completed boolean NOT NULL DEFAULT false,
    completed_at timestamptz,
    assignee_ids text[] NOT NULL DEFAULT '{}',
    created_by text NOT NULL,
    created_by_id text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    archived_at timestamptz,
    CONSTRAINT pk_tasks PRIMARY KEY (workspace_id, id),
    CONSTRAINT fk_tasks_workspace FOREIGN KEY (workspace_id) REFERENCES workspaces (id) ON DELETE CASCADE,
    CONSTRAINT ck_tasks_priority CHECK (priority IN ('unspecified', 'low', 'medium', 'high', 'urgent'))
);
CREATE INDEX ix_tasks_open ON tasks (workspace_id, is_completed, id DESC) WHERE archived_at IS NULL;
CREATE INDEX ix_tasks_all ON tasks (workspace_id, id DESC);
CREATE INDEX ix_tasks_assignees ON tasks USING gin (assignee_ids);
CREATE INDEX ix_tasks_search ON tasks USING gin ((title || ' ' || description) gin_trgm_ops);
CREATE TABLE task_entities (
    workspace_id bigint NOT NULL,
    task_id bigint NOT NULL,
    record_id bigint NOT NULL,
    CONSTRAINT pk_task_entities PRIMARY KEY (workspace_id, task_id, record_id),
    CONSTRAINT fk_task_entities_task FOREIGN KEY (workspace_id, task_id)
        REFERENCES tasks (workspace_id, id) ON DELETE CASCADE,
    CONSTRAINT fk_task_entities_record FOREIGN KEY (workspace_id, record_id)
        REFERENCES records (workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX ix_task_entities_record ON task_entities (workspace_id, record_id, task_id DESC);
CREATE TABLE notes (
    workspace_id bigint NOT NULL,
    id bigint NOT NULL DEFAULT next_id(),
    title text NOT NULL,
    content text NOT NULL DEFAULT '',
    entity_id bigint,
    created_by text NOT NULL,
    created_by_id text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    archived_at timestamptz,
    CONSTRAINT pk_notes PRIMARY KEY (workspace_id, id),
    CONSTRAINT fk_notes_workspace FOREIGN KEY (workspace_id) REFERENCES workspaces (id) ON DELETE CASCADE,
    CONSTRAINT fk_notes_entity FOREIGN KEY (workspace_id, entity_id)
        REFERENCES records (workspace_id, id) ON DELETE SET NULL (entity_id)
);
CREATE INDEX ix_notes_recent ON notes (workspace_id, id DESC);
CREATE INDEX ix_notes_entity ON notes (workspace_id, entity_id, id DESC) WHERE entity_id IS NOT NULL
"""


def upgrade() -> None:
    for statement in UPGRADE.split(";"):
        if statement.strip():
            op.execute(statement)


def downgrade() -> None:
    for table in ("notes", "task_entities", "tasks"):
        op.execute(f"DROP TABLE {table}")
