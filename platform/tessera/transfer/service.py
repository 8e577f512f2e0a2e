"""Import and export jobs as the API sees them: accept an upload, report progress and errors,
hand out finished exports."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO, Literal, TypedDict

import anyio.to_thread
import orjson

from schema_registry.definitions import ObjectDefinition
from schema_registry.workspace import WorkspaceSchema
from tessera.db.ids import IdAllocator
from tessera.db.tenant import Tenant
from tessera.errors import BadRequest, FieldError, NotFound
from tessera.transfer import repository
from tessera.transfer.cells import infer_type
from tessera.transfer.files import store_file
from tessera.transfer.imports import RowReader, plan_import
from tessera.transfer.parsing import Deadline, ParseBudget, parse_off_loop
from tessera.transfer.repository import ExportJob, ImportJob, ImportRowError
from tessera.wire import JsonObject, JsonValue

PREVIEW_BYTES = 1024 * 1024
PREVIEW_ROWS = 50
PREVIEW_COLUMNS = 1000
"""A preview describes at most this many columns (the first ones of the header)."""
IMPORT_JOB = "process_import"
EXPORT_JOB = "process_export"

FileFormat = Literal["csv", "jsonl"]


@dataclass(frozen=True, slots=True)
class Upload:
    """A file sent to be imported: its name and media type as the client gave them ('' when it
    gave none), and its content, a seekable binary file (spooled to disk when large)."""

    filename: str
    content_type: str
    file: BinaryIO


@dataclass(frozen=True, slots=True)
class ImportOptions:
    """The text fields of an import's upload form."""

    format: FileFormat | None
    """None: guessed from the file's name and media type."""
    mapping: dict[str, str] | None
    """Column -> attribute (``attribute.member``); None: columns named like attribute slugs."""
    matching_attribute: str | None
    """The unique attribute rows upsert by; None: every row creates a record."""


class PreviewColumn(TypedDict):
    name: str
    inferred_type: str
    samples: list[str]
    suggested_attribute: str | None


class ImportPreview(TypedDict):
    """``PreviewResponse``."""

    format: str
    rows_sampled: int
    columns: list[PreviewColumn]


def given_format(given: str | None) -> FileFormat | None:
    """The ``format`` field of an upload form (None when it is empty or missing)."""
    if given == "csv":
        return "csv"
    if given == "jsonl":
        return "jsonl"
    if given:
        raise BadRequest("format must be csv or jsonl", errors=[FieldError("format", "csv or jsonl")])
    return None


def file_format(upload: Upload, given: FileFormat | None) -> FileFormat:
    """The format the client gave, else the one the file's name or media type says (CSV by default)."""
    if given is not None:
        return given
    name = upload.filename.lower()
    if name.endswith((".jsonl", ".ndjson")) or "ndjson" in upload.content_type:
        return "jsonl"
    return "csv"


def parse_mapping(raw: str | None) -> dict[str, str] | None:
    """A ``mapping`` field: a JSON object of column -> attribute (None when empty or missing)."""
    if not raw:
        return None
    try:
        parsed: JsonValue = orjson.loads(raw)
    except orjson.JSONDecodeError as err:
        raise BadRequest("mapping must be a JSON object of column -> attribute",
                         errors=[FieldError("mapping", "not JSON")]) from err
    if not isinstance(parsed, dict) or not all(isinstance(v, str) for v in parsed.values()):
        raise BadRequest("mapping must be a JSON object of column -> attribute",
                         errors=[FieldError("mapping", "not an object of strings")])
    return {k: v for k, v in parsed.items() if isinstance(v, str)}


def import_options(fields: Mapping[str, str]) -> ImportOptions:
    """The import form's ``format``, ``mapping`` (a JSON object) and ``matching_attribute``;
    ``BadRequest`` naming the field that is wrong, ``format`` first."""
    return ImportOptions(given_format(fields.get("format")), parse_mapping(fields.get("mapping")),
                         fields.get("matching_attribute") or None)


def sample_rows(sample: bytes, fmt: str, max_record_chars: int, *, deadline: Deadline | None = None,
                ) -> tuple[list[str], list[JsonObject]]:
    """The header and the first ``PREVIEW_ROWS`` rows of the start of a file (pure, CPU-bound:
    run it with ``parse_off_loop``); ``deadline`` is checked every 200 lines."""
    reader = RowReader(fmt, max_record_chars)
    rows: list[JsonObject] = []
    for number, line in enumerate(sample.decode("utf-8-sig", errors="replace").splitlines(keepends=True)):
        if deadline is not None and number % 200 == 0:
            deadline.check()
        found = reader.feed(line)
        if found is not None:
            rows.append(found[1])
            if len(rows) >= PREVIEW_ROWS:
                break
    return reader.header or sorted({k for r in rows for k in r}), rows


def _read_start(file: BinaryIO, size: int) -> bytes:
    """The first ``size`` bytes of ``file``, cut after its last complete line; the file is left
    at its start (blocking I/O)."""
    sample = file.read(size)
    file.seek(0)
    cut = sample.rfind(b"\n")
    return sample[:cut + 1] if cut >= 0 and len(sample) == size else sample


async def _sample(upload: Upload, size: int) -> bytes:
    """The first ``size`` bytes of the upload, cut after its last complete line."""
    return await anyio.to_thread.run_sync(_read_start, upload.file, size)


async def create_import(tenant: Tenant, ids: IdAllocator, obj: ObjectDefinition, upload: Upload,
                        options: ImportOptions, *, limit: int, budget: ParseBudget, actor_id: str,
                        too_large: str | None = None, now: datetime) -> ImportJob:
    """Check the file's header against the mapping, then store the file (at most ``limit``
    bytes, ``PayloadTooLarge`` saying ``too_large`` past them): the import waits for a worker."""
    fmt = file_format(upload, options.format)
    sample = await _sample(upload, PREVIEW_BYTES)
    header, _rows = await parse_off_loop(
        budget, lambda deadline: sample_rows(sample, fmt, budget.max_record_chars, deadline=deadline))
    if fmt == "csv" and not header:
        raise BadRequest("The CSV file has no header row")
    # refuse bad mappings before storing anything
    plan_import(obj, header, options.mapping, options.matching_attribute, fmt)
    (import_id,) = await ids.take(tenant.conn, 1)
    await repository.insert_import(tenant, import_id, object_id=obj.id, fmt=fmt, mapping=options.mapping or {},
                                   matching_attribute=options.matching_attribute, actor_id=actor_id, now=now)
    size = await store_file(tenant, "imports", import_id, upload.file, limit=limit, too_large=too_large)
    await repository.mark_uploaded(tenant, import_id, size)
    return await get_import(tenant, import_id)


async def preview(obj: ObjectDefinition, upload: Upload, fmt: FileFormat | None, *,
                  budget: ParseBudget) -> ImportPreview:
    chosen = file_format(upload, fmt)
    sample = await _sample(upload, PREVIEW_BYTES)
    return await parse_off_loop(
        budget, lambda deadline: analyze_sample(obj, sample, chosen, budget.max_record_chars, deadline=deadline))


def analyze_sample(obj: ObjectDefinition, sample: bytes, fmt: str, max_record_chars: int, *,
                   deadline: Deadline | None = None) -> ImportPreview:
    """The preview of the start of a file: each column's guessed type, samples and matching
    attribute (pure, CPU-bound: run it with ``parse_off_loop``)."""
    header, rows = sample_rows(sample, fmt, max_record_chars, deadline=deadline)
    columns: list[PreviewColumn] = []
    for name in header[:PREVIEW_COLUMNS]:
        if deadline is not None:
            deadline.check()
        samples = [str(r.get(name)) for r in rows if r.get(name) not in (None, "")][:5]
        guess = obj.attribute(name.strip().lower().replace(" ", "_"))
        columns.append({"name": name, "inferred_type": infer_type([str(r.get(name) or "") for r in rows]),
                        "samples": samples, "suggested_attribute": guess.slug if guess else None})
    return {"format": fmt, "rows_sampled": len(rows), "columns": columns}


async def get_import(tenant: Tenant, import_id: int | None) -> ImportJob:
    """The import, or 404 (also for an id that cannot be one of ours: ``import_id`` None)."""
    job = await repository.get_import(tenant, import_id) if import_id is not None else None
    if job is None:
        raise NotFound("Import not found")
    return job


async def import_errors(tenant: Tenant, import_id: int | None, limit: int) -> list[ImportRowError]:
    """The first ``limit`` rows the import refused (404 for an unknown import)."""
    job = await get_import(tenant, import_id)
    return await repository.import_errors(tenant, job.id, limit)


async def create_export(tenant: Tenant, ids: IdAllocator, schema: WorkspaceSchema, object_slug: str | None,
                        fmt: str, now: datetime) -> ExportJob:
    """A pending export of one object's records (``object_slug``) or of the whole workspace."""
    if object_slug is not None and (schema.object(object_slug) is None):
        raise NotFound(f"Object '{object_slug[:80]}' not found")
    (export_id,) = await ids.take(tenant.conn, 1)
    await repository.insert_export(tenant, export_id, object_slug=object_slug, fmt=fmt, now=now)
    return await get_export(tenant, export_id)


async def get_export(tenant: Tenant, export_id: int | None) -> ExportJob:
    """The export, or 404 (also for an id that cannot be one of ours: ``export_id`` None)."""
    job = await repository.get_export(tenant, export_id) if export_id is not None else None
    if job is None:
        raise NotFound("Export not found")
    return job
