"""Models of import, export and workspace-erasure endpoints."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from tessera.wire import QueryModel, RequestModel, ResponseModel


class ImportResponse(ResponseModel):
    id: str
    object: str
    format: str
    status: str
    matching_attribute: str | None = None
    total_bytes: int
    processed: int
    created: int
    updated: int
    failed: int
    error: str | None = None
    created_at: str
    completed_at: str | None = None


class PreviewColumn(ResponseModel):
    name: str
    inferred_type: str
    samples: list[str]
    suggested_attribute: str | None = None


class PreviewResponse(ResponseModel):
    format: str
    rows_sampled: int
    columns: list[PreviewColumn]


class ErrorsQuery(QueryModel):
    format: Literal["json", "csv"] = "json"
    limit: int = Field(default=1000, ge=1, le=10_000)


class ImportErrorResponse(ResponseModel):
    row: int = Field(description="The row's position among the file's rows, from 1 (the header and blank lines "
                                 "do not count)")
    column: str = Field(description="The column(s) at fault, comma-separated; empty when no column is")
    message: str


class ImportErrorsResponse(ResponseModel):
    data: list[ImportErrorResponse]


class CreateExportRequest(RequestModel):
    object: str | None = Field(default=None, max_length=64, description="One object's records; omit for the whole "
                                                                       "workspace")
    format: Literal["jsonl", "csv"] = "jsonl"


class ExportResponse(ResponseModel):
    id: str
    object: str | None = None
    format: str
    status: str
    size_bytes: int
    counts: dict[str, int]
    error: str | None = None
    created_at: str
    completed_at: str | None = None
    expires_at: str | None = Field(default=None, description="When a completed export's file is deleted "
                                                             "(EXPORT_RETENTION_DAYS after it completed)")
    download_url: str | None = None
