"""Import and export jobs (see migration 0008)."""

from sqlalchemy import BigInteger, Column, DateTime, Integer, LargeBinary, PrimaryKeyConstraint, Table, Text, func
from sqlalchemy.dialects.postgresql import JSONB

from tessera.db.tables.core import NEXT_ID, metadata

imports = Table(
    "imports", metadata,
    Column("workspace_id", BigInteger, nullable=False),
    Column("id", BigInteger, nullable=False, server_default=NEXT_ID),
    Column("object_id", BigInteger, nullable=False),
    Column("format", Text, nullable=False),
    Column("mapping", JSONB, nullable=False),
    Column("matching_attribute", Text),
    Column("status", Text, nullable=False),
    Column("total_bytes", BigInteger, nullable=False),
    Column("processed_rows", BigInteger, nullable=False),
    Column("created_count", BigInteger, nullable=False),
    Column("updated_count", BigInteger, nullable=False),
    Column("failed_count", BigInteger, nullable=False),
    Column("error", Text),
    Column("attempts", Integer, nullable=False),
    Column("created_by_id", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("completed_at", DateTime(timezone=True)),
    PrimaryKeyConstraint("workspace_id", "id", name="pk_imports"),
)

import_chunks = Table(
    "import_chunks", metadata,
    Column("workspace_id", BigInteger, nullable=False),
    Column("import_id", BigInteger, nullable=False),
    Column("seq", Integer, nullable=False),
    Column("data", LargeBinary, nullable=False),
    PrimaryKeyConstraint("workspace_id", "import_id", "seq", name="pk_import_chunks"),
)

import_errors = Table(
    "import_errors", metadata,
    Column("workspace_id", BigInteger, nullable=False),
    Column("import_id", BigInteger, nullable=False),
    Column("row_number", BigInteger, nullable=False),
    Column("column_name", Text, nullable=False),
    Column("message", Text, nullable=False),
)

exports = Table(
    "exports", metadata,
    Column("workspace_id", BigInteger, nullable=False),
    Column("id", BigInteger, nullable=False, server_default=NEXT_ID),
    Column("object_slug", Text),
    Column("format", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("size_bytes", BigInteger, nullable=False),
    Column("counts", JSONB, nullable=False),
    Column("error", Text),
    Column("attempts", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("completed_at", DateTime(timezone=True)),
    PrimaryKeyConstraint("workspace_id", "id", name="pk_exports"),
)

export_chunks = Table(
    "export_chunks", metadata,
    Column("workspace_id", BigInteger, nullable=False),
    Column("export_id", BigInteger, nullable=False),
    Column("seq", Integer, nullable=False),
    Column("data", LargeBinary, nullable=False),
    PrimaryKeyConstraint("workspace_id", "export_id", "seq", name="pk_export_chunks"),
)
