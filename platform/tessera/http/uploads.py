"""Reading an uploaded file: a ``multipart/form-data`` body with one ``file`` field and a few
short text fields, its errors translated to ``BadRequest``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.datastructures import UploadFile
from starlette.requests import Request

from tessera.errors import BadRequest, FieldError


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
