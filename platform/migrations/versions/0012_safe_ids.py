"""JavaScript-safe ids: ``next_id()`` makes 53-bit ids, 31 bits of seconds since 2024-01-01 (until
2092) and the low 22 bits of ``tessera_id_seq``, so every id is at most 2^53 - 1 and a JavaScript
client reads it exactly (``tessera.db.ids`` has the same layout for the ids the API draws itself).

Existing rows keep their 63-bit ids: ids are public, kept by clients, webhooks' receivers, exports
and search documents, and renumbering would break every one of those references. Every new id is
smaller than every old one, so creation order is (layout, id) in a database upgraded through this
migration (``tessera.db.id_order``; docs/storage.md, "Ids").

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

SAFE_NEXT_ID = """
CREATE OR REPLACE FUNCTION next_id() RETURNS bigint LANGUAGE sql VOLATILE AS $$
  SELECT ((floor(extract(epoch FROM clock_timestamp()))::bigint - 1704067200) << 22)
         | (nextval('tessera_id_seq') % 4194304)
$$
"""

# Migration 0001's definition: 41 bits of milliseconds since 2024-01-01, 22 bits of the sequence.
MILLISECOND_NEXT_ID = """
CREATE OR REPLACE FUNCTION next_id() RETURNS bigint LANGUAGE sql VOLATILE AS $$
  SELECT ((floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint - 1704067200000) << 22)
         | (nextval('tessera_id_seq') % 4194304)
$$
"""


def upgrade() -> None:
    op.execute(SAFE_NEXT_ID)


def downgrade() -> None:
    # Rows made since the upgrade keep their 53-bit ids; code older than this migration sorts
    # them by plain id, before the rows from before the upgrade.
    op.execute(MILLISECOND_NEXT_ID)
