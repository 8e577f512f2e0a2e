"""Webhook subscriptions and their delivery log.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TABLE webhooks (
    workspace_id bigint NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id bigint NOT NULL DEFAULT next_id(),
    url text NOT NULL,
    description text NOT NULL DEFAULT '',
    events text[] NOT NULL,
    object_slugs text[] NOT NULL DEFAULT '{}',
    filter jsonb,
    secret bytea NOT NULL,
    status text NOT NULL DEFAULT 'active',
    disabled_reason text,
    failing_since timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT pk_webhooks PRIMARY KEY (workspace_id, id),
    CONSTRAINT ck_webhooks_status CHECK (status IN ('active', 'disabled'))
);
CREATE TABLE webhook_deliveries (
    workspace_id bigint NOT NULL,
    id bigint NOT NULL DEFAULT next_id(),
    webhook_id bigint NOT NULL,
    message_id text NOT NULL,
    event_type text NOT NULL,
    payload jsonb NOT NULL,
    status text NOT NULL DEFAULT 'pending',
    attempt integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_status_code integer,
    last_latency_ms double precision,
    last_error text,
    response_excerpt text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    delivered_at timestamptz,
    CONSTRAINT pk_webhook_deliveries PRIMARY KEY (workspace_id, id),
    CONSTRAINT fk_webhook_deliveries_webhook FOREIGN KEY (workspace_id, webhook_id)
        REFERENCES webhooks (workspace_id, id) ON DELETE CASCADE,
    CONSTRAINT uq_webhook_deliveries_message UNIQUE (workspace_id, webhook_id, message_id),
    CONSTRAINT ck_webhook_deliveries_status CHECK (status IN ('pending', 'retrying', 'succeeded', 'failed'))
);
CREATE INDEX ix_webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status IN ('pending', 'retrying');
CREATE INDEX ix_webhook_deliveries_webhook ON webhook_deliveries (workspace_id, webhook_id, id DESC)
"""


def upgrade() -> None:
    for statement in UPGRADE.split(";"):
        if statement.strip():
            op.execute(statement)


def downgrade() -> None:
    op.execute("DROP TABLE webhook_deliveries")
    op.execute("DROP TABLE webhooks")
