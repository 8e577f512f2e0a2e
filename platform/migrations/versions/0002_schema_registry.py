"""Schema registry: object, attribute and relationship definitions.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

NEXT_ID = sa.text("next_id()")


def upgrade() -> None:
    op.create_table(
        "object_definitions",
        sa.Column("workspace_id", sa.BigInteger, nullable=False),
        sa.Column("id", sa.BigInteger, nullable=False, server_default=NEXT_ID),
        sa.Column("slug", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("name_plural", sa.Text, nullable=False, server_default=""),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("type", sa.Text, nullable=False),
        sa.Column("parent_object_id", sa.BigInteger, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("workspace_id", "id", name="pk_object_definitions"),
        sa.UniqueConstraint("workspace_id", "slug", name="uq_object_definitions_slug"),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"], ondelete="CASCADE",
                                name="fk_object_definitions_workspace"),
        sa.ForeignKeyConstraint(["workspace_id", "parent_object_id"],
                                ["object_definitions.workspace_id", "object_definitions.id"],
                                ondelete="CASCADE", name="fk_object_definitions_parent"),
        sa.CheckConstraint("type IN ('person','company','custom','deal','list')",
                           name="ck_object_definitions_type"),
        sa.CheckConstraint("(type = 'list') = (parent_object_id IS NOT NULL)",
                           name="ck_object_definitions_list_parent"),
    )
    op.create_index("ix_object_definitions_parent", "object_definitions",
                    ["workspace_id", "parent_object_id"])
    op.create_table(
        "attribute_definitions",
        sa.Column("workspace_id", sa.BigInteger, nullable=False),
        sa.Column("id", sa.BigInteger, nullable=False, server_default=NEXT_ID),
        sa.Column("object_id", sa.BigInteger, nullable=False),
        sa.Column("slug", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("type", sa.Text, nullable=False),
        sa.Column("is_required", sa.Boolean, nullable=False, server_default=sa.text("false")),
        sa.Column("is_unique", sa.Boolean, nullable=False, server_default=sa.text("false")),
        sa.Column("is_multi_value", sa.Boolean, nullable=False, server_default=sa.text("false")),
        sa.Column("use_raw_format", sa.Boolean, nullable=False, server_default=sa.text("false")),
        sa.Column("is_whole_number", sa.Boolean, nullable=False, server_default=sa.text("false")),
        sa.Column("select_options", postgresql.JSONB, nullable=False,
                  server_default=sa.text("'[]'::jsonb")),
        sa.Column("position", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("workspace_id", "id", name="pk_attribute_definitions"),
        sa.UniqueConstraint("workspace_id", "object_id", "slug",
                            name="uq_attribute_definitions_slug"),
        sa.ForeignKeyConstraint(["workspace_id", "object_id"],
                                ["object_definitions.workspace_id", "object_definitions.id"],
                                ondelete="CASCADE", name="fk_attribute_definitions_object"),
    )
    op.create_table(
        "relationship_definitions",
        sa.Column("workspace_id", sa.BigInteger, nullable=False),
        sa.Column("id", sa.BigInteger, nullable=False, server_default=NEXT_ID),
        sa.Column("type", sa.Text, nullable=False),
        sa.Column("entity_definition_1_id", sa.BigInteger, nullable=False),
        sa.Column("entity_definition_2_id", sa.BigInteger, nullable=False),
        sa.Column("entity_1_to_2_predicate", sa.Text, nullable=False, server_default=""),
        sa.Column("entity_2_to_1_predicate", sa.Text, nullable=False, server_default=""),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("workspace_id", "id", name="pk_relationship_definitions"),
        sa.ForeignKeyConstraint(["workspace_id", "entity_definition_1_id"],
                                ["object_definitions.workspace_id", "object_definitions.id"],
                                ondelete="CASCADE", name="fk_relationship_definitions_object_1"),
        sa.ForeignKeyConstraint(["workspace_id", "entity_definition_2_id"],
                                ["object_definitions.workspace_id", "object_definitions.id"],
                                ondelete="CASCADE", name="fk_relationship_definitions_object_2"),
        sa.CheckConstraint("type IN ('one_to_one','one_to_many','many_to_many')",
                           name="ck_relationship_definitions_type"),
    )
    op.create_index("ix_relationship_definitions_objects", "relationship_definitions",
                    ["workspace_id", "entity_definition_1_id", "entity_definition_2_id"])


def downgrade() -> None:
    op.drop_table("relationship_definitions")
    op.drop_table("attribute_definitions")
    op.drop_table("object_definitions")
