"""The change stream (``GET /v1/events``, ``GET /v1/events/stream``): every record, list-entry,
task, note and schema event, with the body a webhook receiver gets, kept for
``EVENTS_RETENTION_DAYS`` whether or not the workspace has webhooks.

A write inserts its events with no ``position``; the unit of work numbers them just before it
commits, holding the workspace's sequencing lock (``event_heads`` keeps the last number given and
the highest number purged), so positions appear in commit order and a reader that has seen
position n never later meets a new event below n. Rows written outside a unit of work (imports,
restores, context extraction) are numbered by the next sequencer of their workspace or by the
worker's sweep. No foreign key to the workspace (an append-only log, cleared by erasure by hand).

Revision ID: 0019
Revises: 0013
Create Date: 2026-12-03
"""

from alembic import op

revision = "0019"
down_revision = "0013"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TABLE events (
    workspace_id bigint NOT NULL,
    id bigserial NOT NULL,
    position bigint,
    event_type text NOT NULL,
    aggregate_type text NOT NULL,
    aggregate_id bigint NOT NULL,
    object_slug text,
    data jsonb NOT NULL,
    created_at timestamptz NOT NULL,
    CONSTRAINT pk_events PRIMARY KEY (workspace_id, id)
);
CREATE UNIQUE INDEX uq_events_position ON events (workspace_id, position) WHERE position IS NOT NULL;
CREATE INDEX ix_events_unsequenced ON events (workspace_id, id) WHERE position IS NULL;
CREATE INDEX ix_events_created ON events (created_at);
CREATE TABLE event_heads (
    workspace_id bigint NOT NULL,
    last_position bigint NOT NULL DEFAULT 0,
    purged_through bigint NOT NULL DEFAULT 0,
    CONSTRAINT pk_event_heads PRIMARY KEY (workspace_id)
);
"""


def upgrade() -> None:
    for statement in UPGRADE.split(";"):
        if statement.strip():
            op.execute(statement)


def downgrade() -> None:
    op.execute("DROP TABLE event_heads")
    op.execute("DROP TABLE events")
