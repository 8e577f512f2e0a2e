"""Notifications: per-workspace preferences (and the evaluator's cursors), custom rules (a
description read into a matcher), the feed, the marks that make each source raise at most one
item per rule (or per context-alert stream), and the evaluation runs (job rows, as artifacts).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03
"""

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TABLE notification_preferences (
    workspace_id bigint NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    frequency_minutes integer NOT NULL DEFAULT 15,
    enabled_types text[] NOT NULL DEFAULT '{buying_signal,risk,stage_change}',
    digest_enabled boolean NOT NULL DEFAULT false,
    alerts_scanned_at timestamptz NOT NULL DEFAULT now(),
    last_batch_at timestamptz,
    last_digest_at timestamptz,
    last_sent_at timestamptz,
    next_poll_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT pk_notification_preferences PRIMARY KEY (workspace_id),
    CONSTRAINT ck_notification_preferences_frequency CHECK (frequency_minutes >= 0 AND frequency_minutes <= 10080)
);
CREATE INDEX ix_notification_preferences_due ON notification_preferences (next_poll_at);
CREATE TABLE notification_rules (
    workspace_id bigint NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id bigint NOT NULL DEFAULT next_id(),
    name text NOT NULL,
    prompt text NOT NULL,
    matcher jsonb NOT NULL,
    is_enabled boolean NOT NULL DEFAULT true,
    schedule text NOT NULL,
    scanned_at timestamptz,
    next_run_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT pk_notification_rules PRIMARY KEY (workspace_id, id)
);
CREATE INDEX ix_notification_rules_due ON notification_rules (next_run_at) WHERE is_enabled;
CREATE TABLE notifications (
    workspace_id bigint NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id bigint NOT NULL DEFAULT next_id(),
    type text NOT NULL,
    status text NOT NULL DEFAULT 'unread',
    rule_id bigint,
    alert_time timestamptz NOT NULL,
    sent_at timestamptz NOT NULL,
    content jsonb NOT NULL,
    read_at timestamptz,
    CONSTRAINT pk_notifications PRIMARY KEY (workspace_id, id),
    CONSTRAINT ck_notifications_status CHECK (status IN ('unread', 'read'))
);
CREATE INDEX ix_notifications_sent ON notifications (workspace_id, sent_at);
CREATE TABLE notification_marks (
    workspace_id bigint NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    subject_key text NOT NULL,
    notification_id bigint NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT pk_notification_marks PRIMARY KEY (workspace_id, subject_key)
);
CREATE TABLE notification_runs (
    workspace_id bigint NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id bigint NOT NULL DEFAULT next_id(),
    trigger text NOT NULL,
    artifact_id bigint,
    status text NOT NULL DEFAULT 'pending',
    attempts integer NOT NULL DEFAULT 0,
    error text,
    sources_scanned integer NOT NULL DEFAULT 0,
    items_created integer NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    completed_at timestamptz,
    CONSTRAINT pk_notification_runs PRIMARY KEY (workspace_id, id),
    CONSTRAINT ck_notification_runs_status CHECK (status IN ('pending', 'processing', 'completed', 'failed')),
    CONSTRAINT ck_notification_runs_trigger CHECK (trigger IN ('context', 'schedule'))
);
CREATE UNIQUE INDEX uq_notification_runs_artifact ON notification_runs (workspace_id, artifact_id)
    WHERE artifact_id IS NOT NULL;
CREATE UNIQUE INDEX uq_notification_runs_scheduled ON notification_runs (workspace_id)
    WHERE trigger = 'schedule' AND status IN ('pending', 'processing');
CREATE INDEX ix_notification_runs_unfinished ON notification_runs (updated_at)
    WHERE status IN ('pending', 'processing');
CREATE INDEX ix_notification_runs_finished ON notification_runs (updated_at)
    WHERE status IN ('completed', 'failed');
"""


def upgrade() -> None:
    for statement in UPGRADE.split(";"):
        if statement.strip():
            op.execute(statement)


def downgrade() -> None:
    for table in ("notification_runs", "notification_marks", "notifications", "notification_rules",
                  "notification_preferences"):
        op.execute(f"DROP TABLE {table}")
