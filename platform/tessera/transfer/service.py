"""Import and export jobs as the API sees them: accept an upload, report progress and errors,
hand out finished exports."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any

import orjson
from starlette.datastructures import UploadFile
from starlette.requests import Request

from schema_registry.definitions import ObjectDefinition
from schema_registry.workspace import WorkspaceSchema
from tessera.db.ids import IdAllocator
from tessera.db.tenant import Tenant
from tessera.errors import BadRequest, FieldError, NotFound
from tessera.transfer.cells import escape_formula, infer_type
from tessera.transfer.files import store_file
from tessera.transfer.imports import RowReader, plan_import
from tessera.transfer.parsing import Deadline, ParseBudget, parse_off_loop
from tessera.wire import iso, parse_id

PREVIEW_BYTES = 1024 * 1024
PREVIEW_ROWS = 50
PREVIEW_COLUMNS = 1000
"""A preview describes at most this many columns (the first ones of the header)."""
IMPORT_JOB = "process_import"
EXPORT_JOB = "process_export"


def _format(upload: UploadFile, given: str | None) -> str:
    if given in ("csv", "jsonl"):
        return given
    if given:
        raise BadRequest("format must be csv or jsonl", errors=[FieldError("format", "csv or jsonl")])
    name = (upload.filename or "").lower()
    if name.endswith((".jsonl", ".ndjson")) or "ndjson" in (upload.content_type or ""):
        return "jsonl"
    return "csv"


@asynccontextmanager
async def read_upload(request: Request) -> AsyncIterator[tuple[UploadFile, dict[str, str]]]:
    """The uploaded ``file`` (spooled to disk past 1 MiB) and the form's text fields; the spool
    is closed when the block ends."""
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise BadRequest("Upload the file as multipart/form-data with a 'file' field")
    try:
        form = await request.form(max_files=1, max_fields=10, max_part_size=1024 * 1024)
    except Exception as err:  # python-multipart raises several unrelated types for a broken body
        raise BadRequest(f"Unreadable multipart body: {type(err).__name__}") from err
    try:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise BadRequest("The form needs a 'file' field", errors=[FieldError("file", "missing")])
        yield upload, {k: v for k, v in form.items() if isinstance(v, str)}
    finally:
        await form.close()


def _mapping(raw: str | None) -> dict[str, str] | None:
    if not raw:
        return None
    try:
        mapping = orjson.loads(raw)
    except orjson.JSONDecodeError as err:
        raise BadRequest("mapping must be a JSON object of column -> attribute",
                         errors=[FieldError("mapping", "not JSON")]) from err
    if not isinstance(mapping, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in mapping.items()):
        raise BadRequest("mapping must be a JSON object of column -> attribute",
                         errors=[FieldError("mapping", "not an object of strings")])
    return mapping


def sample_rows(sample: bytes, fmt: str, max_record_chars: int, *, deadline: Deadline | None = None,
                ) -> tuple[list[str], list[dict[str, Any]]]:
    """The header and the first ``PREVIEW_ROWS`` rows of the start of a file (pure, CPU-bound:
    run it with ``parse_off_loop``); ``deadline`` is checked every 200 lines."""
    reader = RowReader(fmt, max_record_chars)
    rows: list[dict[str, Any]] = []
    for number, line in enumerate(sample.decode("utf-8-sig", errors="replace").splitlines(keepends=True)):
        if deadline is not None and number % 200 == 0:
            deadline.check()
        found = reader.feed(line)
        if found is not None:
            rows.append(found[1])
            if len(rows) >= PREVIEW_ROWS:
                break
    return reader.header or sorted({k for r in rows for k in r}), rows


async def _sample(upload: UploadFile, size: int) -> bytes:
    """The first ``size`` bytes of the upload, cut after its last complete line."""
    sample = await upload.read(size)
    await upload.seek(0)
    cut = sample.rfind(b"\n")
    return sample[:cut + 1] if cut >= 0 and len(sample) == size else sample


async def create_import(tenant: Tenant, ids: IdAllocator, obj: ObjectDefinition, upload: UploadFile,
                        fields: dict[str, str], *, limit: int, budget: ParseBudget, actor_id: str,
                        too_large: str | None = None,
                        now: datetime) -> dict[str, Any]:
    fmt = _format(upload, fields.get("format"))
    mapping = _mapping(fields.get("mapping"))
    matching = fields.get("matching_attribute") or None
    header, _rows = await parse_off_loop(budget, sample_rows, await _sample(upload, PREVIEW_BYTES), fmt,
                                         budget.max_record_chars)
    if fmt == "csv" and not header:
        raise BadRequest("The CSV file has no header row")
    plan_import(obj, header, mapping, matching, fmt)  # refuse bad mappings before storing anything
    (import_id,) = await ids.take(tenant.conn, 1)
    await tenant.fetch(
        "INSERT INTO imports (workspace_id, id, object_id, format, mapping, matching_attribute, status, "
        "created_by_id, created_at, updated_at) VALUES ($1, $2, $3, $4, $5::jsonb, $6, 'uploading', $7, $8, $8)",
        import_id, obj.id, fmt, orjson.dumps(mapping or {}).decode(), matching, actor_id, now)
    size = await store_file(tenant, "imports", import_id, upload.file, limit=limit, too_large=too_large)
    await tenant.fetch("UPDATE imports SET status = 'pending', total_bytes = $3 WHERE workspace_id = $1 AND id = $2",
                       import_id, size)
    row: dict[str, Any] = dict(await get_import(tenant, str(import_id)))
    return row


async def preview(obj: ObjectDefinition, upload: UploadFile, fields: dict[str, str], *,
                  budget: ParseBudget) -> dict[str, Any]:
    fmt = _format(upload, fields.get("format"))
    return await parse_off_loop(budget, analyze_sample, obj, await _sample(upload, PREVIEW_BYTES), fmt,
                                budget.max_record_chars)


def analyze_sample(obj: ObjectDefinition, sample: bytes, fmt: str, max_record_chars: int, *,
                   deadline: Deadline | None = None) -> dict[str, Any]:
    """The preview of the start of a file: each column's guessed type, samples and matching
    attribute (pure, CPU-bound: run it with ``parse_off_loop``)."""
    header, rows = sample_rows(sample, fmt, max_record_chars, deadline=deadline)
    columns = []
    for name in header[:PREVIEW_COLUMNS]:
        if deadline is not None:
            deadline.check()
        samples = [str(r.get(name)) for r in rows if r.get(name) not in (None, "")][:5]
        guess = obj.attribute(name.strip().lower().replace(" ", "_"))
        columns.append({"name": name, "inferred_type": infer_type([str(r.get(name) or "") for r in rows]),
                        "samples": samples, "suggested_attribute": guess.slug if guess else None})
    return {"format": fmt, "rows_sampled": len(rows), "columns": columns}


def import_to_json(row: Any, schema: WorkspaceSchema) -> dict[str, Any]:
    obj = schema.object_by_id(row["object_id"])
    out = {"id": str(row["id"]), "object": obj.slug if obj else None, "format": row["format"],
           "status": row["status"], "matching_attribute": row["matching_attribute"],
           "total_bytes": row["total_bytes"], "processed": row["processed_rows"], "created": row["created_count"],
           "updated": row["updated_count"], "failed": row["failed_count"], "error": row["error"],
           "created_at": iso(row["created_at"]), "completed_at": iso(row["completed_at"])}
    return {k: v for k, v in out.items() if v is not None}


async def get_import(tenant: Tenant, raw_id: str) -> Any:
    import_id = parse_id(raw_id)
    row = await tenant.fetchrow("SELECT * FROM imports WHERE workspace_id = $1 AND id = $2",
                                import_id) if import_id is not None else None
    if row is None:
        raise NotFound("Import not found")
    return row


async def import_errors(tenant: Tenant, raw_id: str, limit: int) -> list[dict[str, Any]]:
    row = await get_import(tenant, raw_id)
    errors = await tenant.fetch(
        "SELECT row_number, column_name, message FROM import_errors WHERE workspace_id = $1 AND import_id = $2 "
        "ORDER BY row_number LIMIT $3", row["id"], limit)
    return [{"row": e["row_number"], "column": e["column_name"], "message": e["message"]} for e in errors]


def errors_csv(errors: list[dict[str, Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["row", "column", "message"])
    for error in errors:
        writer.writerow([error["row"], escape_formula(error["column"]), escape_formula(error["message"])])
    return buffer.getvalue().encode()


async def create_export(tenant: Tenant, ids: IdAllocator, schema: WorkspaceSchema, object_slug: str | None,
                        fmt: str, now: datetime, retention: timedelta) -> dict[str, Any]:
    if object_slug is not None and (schema.object(object_slug) is None):
        raise NotFound(f"Object '{object_slug[:80]}' not found")
    (export_id,) = await ids.take(tenant.conn, 1)
    await tenant.fetch(
        "INSERT INTO exports (workspace_id, id, object_slug, format, created_at, updated_at) "
        "VALUES ($1, $2, $3, $4, $5, $5)", export_id, object_slug, fmt, now)
    return await get_export(tenant, str(export_id), retention)


async def get_export(tenant: Tenant, raw_id: str, retention: timedelta) -> dict[str, Any]:
    export_id = parse_id(raw_id)
    row = await tenant.fetchrow("SELECT * FROM exports WHERE workspace_id = $1 AND id = $2",
                                export_id) if export_id is not None else None
    if row is None:
        raise NotFound("Export not found")
    counts = row["counts"]
    out = {"id": str(row["id"]), "object": row["object_slug"], "format": row["format"], "status": row["status"],
           "size_bytes": row["size_bytes"], "counts": orjson.loads(counts) if isinstance(counts, str) else counts,
           "error": row["error"], "created_at": iso(row["created_at"]), "completed_at": iso(row["completed_at"])}
    if row["status"] in ("completed", "expired") and row["completed_at"] is not None:
        out["expires_at"] = iso(row["completed_at"] + retention)
    if row["status"] == "completed":
        out["download_url"] = f"/api/developers/v1/exports/{row['id']}/download"
    return {k: v for k, v in out.items() if v is not None}
