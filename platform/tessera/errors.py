"""The one exception tree of the service. Each error knows its HTTP status; the HTTP boundary
(``tessera.http.errors``) turns any of them into ``{"code", "message"[, "errors"]}``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tessera.wire import JsonObject


@dataclass(frozen=True, slots=True)
class FieldError:
    """One problem with one input value; ``path`` reads like ``attributes.email_addresses[0]``."""

    path: str
    message: str

    def as_json(self) -> JsonObject:
        return {"path": self.path, "message": self.message}


class TesseraError(Exception):
    status = 500
    default_message = "Internal server error"

    def __init__(self, message: str | None = None, *, errors: list[FieldError] | None = None) -> None:
        self.message = message or self.default_message
        self.errors = errors or []
        super().__init__(self.message)

    def as_json(self) -> JsonObject:
        """The contract's error body ``{"code", "message"[, "errors"]}`` (also per item of a batch)."""
        body: JsonObject = {"code": self.status, "message": self.message}
        if self.errors:
            body["errors"] = [e.as_json() for e in self.errors]
        return body


class BadRequest(TesseraError):
    status = 400
    default_message = "Bad request"


class Unauthorized(TesseraError):
    status = 401
    default_message = "Missing or invalid API key"


class Forbidden(TesseraError):
    status = 403
    default_message = "Forbidden"


class NotFound(TesseraError):
    status = 404
    default_message = "Not found"


class Conflict(TesseraError):
    status = 409
    default_message = "Conflict"


class Gone(TesseraError):
    status = 410
    default_message = "Gone"


class PayloadTooLarge(TesseraError):
    status = 413
    default_message = "Request body too large"


class UnsupportedMediaType(TesseraError):
    status = 415
    default_message = "Request body must be JSON (Content-Type: application/json)"


class TooManyRequests(TesseraError):
    status = 429
    default_message = "Rate limit exceeded"

    def __init__(self, message: str | None = None, *, retry_after: int = 1) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ServiceUnavailable(TesseraError):
    status = 503
    default_message = "Service temporarily unavailable, retry shortly"

    def __init__(self, message: str | None = None, *, retry_after: int = 1) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class SearchUnavailable(ServiceUnavailable):
    """Full-text search cannot answer; callers fall back to PostgreSQL."""

    default_message = "Search is temporarily unavailable"
