"""HTTP handlers of imports, exports and workspace erasure."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import anyio
from starlette.datastructures import UploadFile
from starlette.responses import Response, StreamingResponse

from schema_registry.definitions import ObjectDefinition
from schema_registry.workspace import WorkspaceSchema
from tessera import quotas
from tessera.clock import utcnow
from tessera.errors import Conflict, Forbidden, NotFound
from tessera.http.context import RequestContext
from tessera.http.idempotency import HEADER, erasure_receipt_hash, request_fingerprint, upload_fingerprint
from tessera.http.uploads import read_upload
from tessera.redis_client import JobArg
from tessera.transfer import service
from tessera.transfer.files import read_chunks
from tessera.transfer.models import CreateExportRequest, ErrorsQuery
from tessera.transfer.parsing import ParseBudget
from tessera.transfer.serialize import (
    ImportErrorsJson,
    export_to_json,
    import_errors_csv,
    import_errors_to_json,
    import_to_json,
)
from tessera.wire import JsonObject, parse_id
from tessera.workspaces import ErasureReceipt, erase_workspace

_MEDIA = {"jsonl": "application/x-ndjson", "csv": "text/csv", "zip": "application/zip"}


def _enqueue_after_commit(ctx: RequestContext, job: str, job_id: str, *args: JobArg) -> None:
    async def enqueue() -> None:
        await ctx.state.redis.enqueue(job, *args, job_id=job_id)

    ctx.uow.after_commit(enqueue)


def _parse_budget(ctx: RequestContext) -> ParseBudget:
    settings = ctx.state.settings
    limiter = ctx.state.extras.get("parse_limiter")
    if limiter is None:  # one per API process, made on its event loop
        limiter = ctx.state.extras["parse_limiter"] = anyio.CapacityLimiter(settings.parse_max_threads)
    return ParseBudget(settings.parse_time_budget_seconds, settings.import_max_record_chars, limiter)


async def _check_job_quotas(ctx: RequestContext, table: str, what: str) -> int:
    """429 when the workspace runs its most jobs of this kind, 409 when its stored files are at
    their limit; returns the bytes it may still store."""
    settings, tenant = ctx.state.settings, await ctx.tenant()
    await quotas.check_running(tenant, table, quotas.Quota(
        settings.max_running_jobs_per_workspace, what, "MAX_RUNNING_JOBS_PER_WORKSPACE"))
    return await quotas.file_room(tenant, quotas.Quota(
        settings.max_stored_file_bytes_per_workspace, "bytes of files", "MAX_STORED_FILE_BYTES_PER_WORKSPACE"))


def _retention(ctx: RequestContext) -> timedelta:
    return timedelta(days=ctx.state.settings.export_retention_days)


def _object(ctx: RequestContext, schema: WorkspaceSchema) -> ObjectDefinition:
    obj = schema.object(ctx.path["slug"])
    if obj is None or obj.is_list:
        raise NotFound(f"Object '{ctx.path['slug'][:80]}' not found")
    return obj


async def _upload_room(ctx: RequestContext) -> tuple[int, str | None]:
    """The most bytes this upload may have, and what to say past them (None: the upload limit)."""
    room = await _check_job_quotas(ctx, "imports", "imports")
    limit = ctx.state.settings.import_max_bytes
    if room >= limit:
        return limit, None
    return room, (f"The file would take this workspace past its limit of "
                  f"{ctx.state.settings.max_stored_file_bytes_per_workspace} bytes of stored import and export "
                  f"files (MAX_STORED_FILE_BYTES_PER_WORKSPACE)")


def _upload(file: UploadFile) -> service.Upload:
    return service.Upload(file.filename or "", file.content_type or "", file.file)


async def _replayed_upload(ctx: RequestContext, upload: UploadFile, fields: dict[str, str]) -> Response | None:
    """The first answer to this Idempotency-Key when it was sent with the same upload; 409 when
    with another one; None when it is new (the answer is then stored under it)."""
    pending = ctx.pending_upload
    if pending is None:
        return None
    url = ctx.request.url
    fingerprint = await anyio.to_thread.run_sync(upload_fingerprint, ctx.request.method, url.path, url.query,
                                                 fields, upload.filename or "", upload.file)
    replay = await pending.begin(await ctx.tenant(), fingerprint)
    if replay is None:
        return None
    return Response(replay.body, status_code=replay.status_code, media_type="application/json",
                    headers={"Idempotent-Replayed": "true"})


async def create_import(ctx: RequestContext[None, None]) -> JsonObject | Response:
    schema = await ctx.schema()
    obj = _object(ctx, schema)
    # Without an Idempotency-Key the quotas are checked before the body is read; with one, a
    # replay of an import that is still running must not be refused by them, so after.
    room = await _upload_room(ctx) if ctx.pending_upload is None else None
    async with read_upload(ctx.request) as (upload, fields):
        replayed = await _replayed_upload(ctx, upload, fields)
        if replayed is not None:
            return replayed
        limit, too_large = room or await _upload_room(ctx)
        job = await service.create_import(await ctx.tenant(), ctx.state.ids, obj, _upload(upload),
                                          service.import_options(fields), limit=limit, too_large=too_large,
                                          budget=_parse_budget(ctx), actor_id=str(ctx.principal.api_key_id),
                                          now=utcnow(ctx.state.clock))
    _enqueue_after_commit(ctx, service.IMPORT_JOB, f"import:{job.id}", ctx.workspace_id, job.id)
    return import_to_json(job, schema)


async def preview_import(ctx: RequestContext[None, None]) -> service.ImportPreview:
    obj = _object(ctx, await ctx.schema())
    async with read_upload(ctx.request) as (upload, fields):
        return await service.preview(obj, _upload(upload), service.given_format(fields.get("format")),
                                     budget=_parse_budget(ctx))


async def get_import(ctx: RequestContext[None, None]) -> JsonObject:
    job = await service.get_import(await ctx.tenant(), parse_id(ctx.path["id"]))
    return import_to_json(job, await ctx.schema())


async def import_errors(ctx: RequestContext[None, ErrorsQuery]) -> ImportErrorsJson | Response:
    errors = await service.import_errors(await ctx.tenant(), parse_id(ctx.path["id"]), ctx.query.limit)
    if ctx.query.format == "csv":
        return Response(import_errors_csv(errors), media_type="text/csv",
                        headers={"Content-Disposition": f"attachment; filename=import-{ctx.path['id']}-errors.csv"})
    return import_errors_to_json(errors)


async def create_export(ctx: RequestContext[CreateExportRequest, None]) -> JsonObject:
    if ctx.body.object is None:
        missing = sorted({"task.read", "note.read"} - ctx.principal.scopes)
        if missing:
            raise Forbidden(f"Exporting the whole workspace needs the scopes {', '.join(missing)} too")
    await _check_job_quotas(ctx, "exports", "exports")
    job = await service.create_export(await ctx.tenant(), ctx.state.ids, await ctx.schema(), ctx.body.object,
                                      ctx.body.format, utcnow(ctx.state.clock))
    _enqueue_after_commit(ctx, service.EXPORT_JOB, f"export:{job.id}", ctx.workspace_id, job.id)
    return export_to_json(job, _retention(ctx))


async def get_export(ctx: RequestContext[None, None]) -> JsonObject:
    job = await service.get_export(await ctx.tenant(), parse_id(ctx.path["id"]))
    return export_to_json(job, _retention(ctx))


async def download_export(ctx: RequestContext[None, None]) -> StreamingResponse:
    job = await service.get_export(await ctx.tenant(), parse_id(ctx.path["id"]))
    if job.status == "expired":
        raise Conflict(f"The export expired (its file is kept {ctx.state.settings.export_retention_days:g} days, "
                       f"EXPORT_RETENTION_DAYS); create a new export")
    if job.status != "completed":
        raise Conflict(f"The export is {job.status}; download it once it is completed")
    kind = "zip" if job.format == "csv" and job.object_slug is None else job.format
    db, workspace_id, export_id = ctx.state.engine, ctx.workspace_id, job.id

    async def body() -> AsyncIterator[bytes]:
        async for chunk in read_chunks(db, "exports", workspace_id, export_id):
            yield chunk

    return StreamingResponse(body(), media_type=_MEDIA[kind], headers={
        "Content-Disposition": f"attachment; filename=tessera-export-{export_id}.{kind}",
        "Content-Length": str(job.size_bytes)})


def erasure_receipt(ctx: RequestContext[None, None]) -> ErasureReceipt | None:
    """The receipt a ``DELETE /v1/workspace`` with an Idempotency-Key leaves behind."""
    raw_key = ctx.request.headers.get(HEADER)
    if raw_key is None:
        return None
    now = utcnow(ctx.state.clock)
    token = ctx.request.headers.get("authorization", "").partition(" ")[2].strip()
    return ErasureReceipt(
        receipt_hash=erasure_receipt_hash(ctx.state.settings.key_pepper.get_secret_value().encode(), token, raw_key),
        request_hash=request_fingerprint(ctx.request.method, ctx.request.url.path, ctx.request.url.query,
                                         ctx.raw_body),
        erased_at=now, expires_at=now + timedelta(hours=ctx.state.settings.idempotency_ttl_hours))


async def delete_workspace(ctx: RequestContext[None, None]) -> Response:
    await ctx.uow.rollback()  # erasure runs in its own transaction
    await erase_workspace(ctx.state.engine, ctx.state.redis, ctx.workspace_id, receipt=erasure_receipt(ctx))
    ctx.state.authenticator.invalidate()
    # A Response, not None: the endpoint wrapper stores idempotent answers in the workspace's own
    # table, which is gone; the erasure kept its receipt instead.
    return Response(status_code=200)
