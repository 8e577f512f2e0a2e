"""Import and export jobs as the API shows them (``ImportResponse``, ``ExportResponse``, the error
report as JSON or CSV). Jobs are built as ordered JSON objects, not TypedDicts: fields without a
value are left out, and some sit between fields that are always there."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import timedelta
from typing import TypedDict

from schema_registry.workspace import WorkspaceSchema
from tessera.transfer.cells import escape_formula
from tessera.transfer.repository import ExportJob, ImportJob, ImportRowError
from tessera.wire import JsonObject, JsonValue, iso


class ImportErrorJson(TypedDict):
    row: int
    column: str
    message: str


class ImportErrorsJson(TypedDict):
    """``ImportErrorsResponse``."""

    data: list[ImportErrorJson]


def _present(fields: JsonObject) -> JsonObject:
    return {k: v for k, v in fields.items() if v is not None}


def import_to_json(job: ImportJob, schema: WorkspaceSchema) -> JsonObject:
    """``ImportResponse``; ``object`` is left out once the object is deleted."""
    obj = schema.object_by_id(job.object_id)
    return _present({
        "id": str(job.id), "object": obj.slug if obj else None, "format": job.format, "status": job.status,
        "matching_attribute": job.matching_attribute, "total_bytes": job.total_bytes,
        "processed": job.processed_rows, "created": job.created_count, "updated": job.updated_count,
        "failed": job.failed_count, "error": job.error, "created_at": iso(job.created_at),
        "completed_at": iso(job.completed_at)})


def import_errors_to_json(errors: Sequence[ImportRowError]) -> ImportErrorsJson:
    return {"data": [{"row": e.row, "column": e.column, "message": e.message} for e in errors]}


def import_errors_csv(errors: Sequence[ImportRowError]) -> bytes:
    """The error report as CSV (row, column, message), cells escaped against formula injection."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["row", "column", "message"])
    for error in errors:
        writer.writerow([error.row, escape_formula(error.column), escape_formula(error.message)])
    return buffer.getvalue().encode()


def export_to_json(job: ExportJob, retention: timedelta) -> JsonObject:
    """``ExportResponse``: a finished export says when its file goes (``retention`` after it
    completed) and, while it is there, where to download it."""
    out: JsonObject = {
        "id": str(job.id), "object": job.object_slug, "format": job.format, "status": job.status,
        "size_bytes": job.size_bytes, "counts": dict[str, JsonValue](job.counts), "error": job.error,
        "created_at": iso(job.created_at), "completed_at": iso(job.completed_at)}
    if job.status in ("completed", "expired") and job.completed_at is not None:
        out["expires_at"] = iso(job.completed_at + retention)
    if job.status == "completed":
        out["download_url"] = f"/api/developers/v1/exports/{job.id}/download"
    return _present(out)
