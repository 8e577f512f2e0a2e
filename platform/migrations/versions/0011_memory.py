"""Memory items: the passages of every artifact and the text of notes and insights, kept for
recall (``POST /v1/context/ask``). Written in the transaction of their source, with an outbox row
(topic ``memory``) that the worker relays to the Meilisearch memory index (keyword + vector).
``search`` is PostgreSQL's own full text, used when Meilisearch cannot answer and for items the
relay has not indexed yet (``indexed_at IS NULL``). ``vector`` (float32, of ``vector_model``) is
the embedding the relay computed, kept so ranking never recomputes it.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TABLE memory_items (
    workspace_id bigint NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id bigint NOT NULL DEFAULT next_id(),
    source_type text NOT NULL,
    source_id bigint NOT NULL,
    position integer NOT NULL,
    start_offset integer NOT NULL,
    end_offset integer NOT NULL,
    context text NOT NULL DEFAULT '',
    content text NOT NULL,
    entity_ids bigint[] NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL,
    indexed_at timestamptz,
    vector bytea,
    vector_model text,
    search tsvector GENERATED ALWAYS AS (to_tsvector('english', content)) STORED,
    CONSTRAINT pk_memory_items PRIMARY KEY (workspace_id, id),
    CONSTRAINT uq_memory_items_source UNIQUE (workspace_id, source_type, source_id, position),
    CONSTRAINT ck_memory_items_source CHECK (source_type IN ('artifact', 'note', 'insight'))
);
CREATE INDEX ix_memory_items_search ON memory_items USING gin (search);
CREATE INDEX ix_memory_items_entities ON memory_items USING gin (entity_ids);
CREATE INDEX ix_memory_items_unindexed ON memory_items (workspace_id, id) WHERE indexed_at IS NULL;
"""


def upgrade() -> None:
    for statement in UPGRADE.split(";"):
        if statement.strip():
            op.execute(statement)


def downgrade() -> None:
    op.execute("DROP TABLE memory_items")
