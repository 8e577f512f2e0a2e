"""Record engine: records (with their jsonb read model), typed EAV values, uniqueness claims,
relationship instances, timeline events, attribute history and the transactional outbox.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _run(script: str) -> None:
    # asyncpg prepares each statement: run them one at a time.
    for statement in script.split(";"):
        if statement.strip():
            op.execute(statement)


def upgrade() -> None:
    _run(
        """
        CREATE TABLE records (
            workspace_id bigint NOT NULL,
            id bigint NOT NULL DEFAULT next_id(),
            object_id bigint NOT NULL,
            parent_record_id bigint,
            data jsonb NOT NULL DEFAULT '{}'::jsonb,
            value_meta jsonb NOT NULL DEFAULT '{}'::jsonb,
            created_by text NOT NULL DEFAULT '',
            created_by_id text NOT NULL DEFAULT '',
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT pk_records PRIMARY KEY (workspace_id, id),
            CONSTRAINT fk_records_object FOREIGN KEY (workspace_id, object_id)
                REFERENCES object_definitions (workspace_id, id) ON DELETE CASCADE,
            CONSTRAINT fk_records_parent FOREIGN KEY (workspace_id, parent_record_id)
                REFERENCES records (workspace_id, id) ON DELETE CASCADE
        );
        CREATE INDEX ix_records_object ON records (workspace_id, object_id, id);
        CREATE UNIQUE INDEX uq_records_list_entry ON records (workspace_id, object_id, parent_record_id)
            WHERE parent_record_id IS NOT NULL;
        CREATE INDEX ix_records_parent ON records (workspace_id, parent_record_id)
            WHERE parent_record_id IS NOT NULL;

        CREATE TABLE record_values (
            workspace_id bigint NOT NULL,
            record_id bigint NOT NULL,
            attribute_id bigint NOT NULL,
            ord smallint NOT NULL,
            facet text NOT NULL DEFAULT '',
            v_text text,
            v_num numeric,
            v_ts timestamptz,
            v_bool boolean,
            v_json jsonb,
            CONSTRAINT pk_record_values PRIMARY KEY (workspace_id, record_id, attribute_id, ord, facet),
            CONSTRAINT fk_record_values_record FOREIGN KEY (workspace_id, record_id)
                REFERENCES records (workspace_id, id) ON DELETE CASCADE,
            CONSTRAINT fk_record_values_attribute FOREIGN KEY (workspace_id, attribute_id)
                REFERENCES attribute_definitions (workspace_id, id) ON DELETE CASCADE
        );
        CREATE INDEX ix_record_values_text ON record_values
            (workspace_id, attribute_id, facet, (left(v_text, 200) COLLATE "C"), record_id) INCLUDE (ord)
            WHERE v_text IS NOT NULL;
        CREATE INDEX ix_record_values_num ON record_values
            (workspace_id, attribute_id, facet, v_num, record_id) INCLUDE (ord) WHERE v_num IS NOT NULL;
        CREATE INDEX ix_record_values_ts ON record_values
            (workspace_id, attribute_id, facet, v_ts, record_id) INCLUDE (ord) WHERE v_ts IS NOT NULL;
        CREATE INDEX ix_record_values_bool ON record_values
            (workspace_id, attribute_id, facet, v_bool, record_id) INCLUDE (ord) WHERE v_bool IS NOT NULL;

        CREATE TABLE unique_values (
            workspace_id bigint NOT NULL,
            attribute_id bigint NOT NULL,
            value_key text NOT NULL,
            record_id bigint NOT NULL,
            CONSTRAINT pk_unique_values PRIMARY KEY (workspace_id, attribute_id, value_key),
            CONSTRAINT fk_unique_values_record FOREIGN KEY (workspace_id, record_id)
                REFERENCES records (workspace_id, id) ON DELETE CASCADE,
            CONSTRAINT fk_unique_values_attribute FOREIGN KEY (workspace_id, attribute_id)
                REFERENCES attribute_definitions (workspace_id, id) ON DELETE CASCADE
        );
        CREATE INDEX ix_unique_values_record ON unique_values (workspace_id, record_id);

        CREATE TABLE relationships (
            workspace_id bigint NOT NULL,
            id bigint NOT NULL DEFAULT next_id(),
            definition_id bigint NOT NULL,
            type text NOT NULL,
            entity_1_id bigint NOT NULL,
            entity_2_id bigint NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT pk_relationships PRIMARY KEY (workspace_id, id),
            CONSTRAINT fk_relationships_definition FOREIGN KEY (workspace_id, definition_id)
                REFERENCES relationship_definitions (workspace_id, id) ON DELETE CASCADE,
            CONSTRAINT fk_relationships_entity_1 FOREIGN KEY (workspace_id, entity_1_id)
                REFERENCES records (workspace_id, id) ON DELETE CASCADE,
            CONSTRAINT fk_relationships_entity_2 FOREIGN KEY (workspace_id, entity_2_id)
                REFERENCES records (workspace_id, id) ON DELETE CASCADE,
            CONSTRAINT uq_relationships_pair UNIQUE (workspace_id, definition_id, entity_1_id, entity_2_id)
        );
        CREATE UNIQUE INDEX uq_relationships_one_to_one ON relationships (workspace_id, definition_id, entity_1_id)
            WHERE type = 'one_to_one';
        CREATE UNIQUE INDEX uq_relationships_single_parent ON relationships
            (workspace_id, definition_id, entity_2_id) WHERE type IN ('one_to_one', 'one_to_many');
        CREATE INDEX ix_relationships_entity_1 ON relationships (workspace_id, entity_1_id);
        CREATE INDEX ix_relationships_entity_2 ON relationships (workspace_id, entity_2_id);

        CREATE TABLE timeline_events (
            workspace_id bigint NOT NULL,
            id bigint NOT NULL DEFAULT next_id(),
            record_id bigint NOT NULL,
            resource_type text NOT NULL,
            resource_id bigint NOT NULL,
            event_type text NOT NULL,
            payload jsonb NOT NULL,
            actor text NOT NULL,
            actor_id text NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT pk_timeline_events PRIMARY KEY (workspace_id, id)
        );
        CREATE INDEX ix_timeline_events_record ON timeline_events (workspace_id, record_id, id DESC);

        CREATE TABLE attribute_history (
            workspace_id bigint NOT NULL,
            id bigint NOT NULL DEFAULT next_id(),
            record_id bigint NOT NULL,
            attribute_id bigint NOT NULL,
            value jsonb NOT NULL,
            active_from timestamptz NOT NULL,
            active_until timestamptz,
            actor text NOT NULL,
            actor_id text NOT NULL,
            CONSTRAINT pk_attribute_history PRIMARY KEY (workspace_id, id),
            CONSTRAINT fk_attribute_history_record FOREIGN KEY (workspace_id, record_id)
                REFERENCES records (workspace_id, id) ON DELETE CASCADE,
            CONSTRAINT fk_attribute_history_attribute FOREIGN KEY (workspace_id, attribute_id)
                REFERENCES attribute_definitions (workspace_id, id) ON DELETE CASCADE
        );
        CREATE INDEX ix_attribute_history_record ON attribute_history
            (workspace_id, record_id, attribute_id, active_from);
        CREATE INDEX ix_attribute_history_changed ON attribute_history (workspace_id, attribute_id, active_from);

        CREATE TABLE outbox (
            id bigserial PRIMARY KEY,
            workspace_id bigint NOT NULL,
            topic text NOT NULL,
            event_type text NOT NULL,
            aggregate_type text NOT NULL,
            aggregate_id bigint NOT NULL,
            payload jsonb NOT NULL DEFAULT '{}'::jsonb,
            created_at timestamptz NOT NULL DEFAULT now(),
            available_at timestamptz NOT NULL DEFAULT now(),
            attempts integer NOT NULL DEFAULT 0,
            processed_at timestamptz
        );
        CREATE INDEX ix_outbox_pending ON outbox (topic, id) WHERE processed_at IS NULL;
        CREATE INDEX ix_outbox_workspace ON outbox (workspace_id);
        """
    )


def downgrade() -> None:
    _run(
        """
        DROP TABLE outbox;
        DROP TABLE attribute_history;
        DROP TABLE timeline_events;
        DROP TABLE relationships;
        DROP TABLE unique_values;
        DROP TABLE record_values;
        DROP TABLE records;
        """
    )
