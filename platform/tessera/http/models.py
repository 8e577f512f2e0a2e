"""Models only the HTTP boundary uses (the error body); the shared building blocks of request and
response models live in ``tessera.wire``."""

from __future__ import annotations

from tessera.wire import ResponseModel


class ErrorItem(ResponseModel):
    path: str
    message: str


class ErrorResponse(ResponseModel):
    code: int
    message: str
    errors: list[ErrorItem] | None = None
