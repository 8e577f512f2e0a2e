"""The outermost ASGI layer: request ids, structured access logs, the body-size limit and the
last-resort 500 (a JSON body, never a stack trace)."""

from __future__ import annotations

import logging
import os
import re
import time

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tessera.errors import PayloadTooLarge
from tessera.jsonio import dump_json

log = structlog.get_logger("tessera.access")
_ACCESS = logging.getLogger("tessera.access")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class RequestMiddleware:
    def __init__(self, app: ASGIApp, *, max_body_bytes: int, upload_max_bytes: int = 0,
                 upload_paths: re.Pattern[str] | None = None) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.upload_max_bytes = upload_max_bytes
        self.upload_paths = upload_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        supplied = headers.get(b"x-request-id", b"").decode("latin-1")
        request_id = supplied if supplied and _REQUEST_ID.match(supplied) else os.urandom(16).hex()
        scope["tessera.request_id"] = request_id
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status_holder = {"status": 500, "started": False}
        rid_header = (b"x-request-id", request_id.encode())

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                status_holder["started"] = True
                message = {**message, "headers": [*message.get("headers", []), rid_header]}
            await send(message)

        limit = self.max_body_bytes
        if self.upload_paths is not None and self.upload_paths.search(scope["path"]):
            limit = self.upload_max_bytes  # file uploads (imports) have their own, larger cap
        length = headers.get(b"content-length")
        too_large = False
        if length is not None:
            try:
                too_large = int(length) > limit
            except ValueError:
                too_large = False
        received = 0

        async def receive_wrapper() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise PayloadTooLarge(f"Request body larger than {limit} bytes")
            return message

        try:
            if too_large:
                await _send_error(send_wrapper, 413, f"Request body larger than {limit} bytes")
            else:
                await self.app(scope, receive_wrapper, send_wrapper)
        except Exception as err:
            log.exception("unhandled_error", error_type=type(err).__name__)
            if not status_holder["started"]:
                await _send_error(send_wrapper, 500, "Internal server error")
        finally:
            principal = scope.get("tessera.principal")
            if _ACCESS.isEnabledFor(logging.INFO):  # building the event is the costly part
                log.info(
                    "request",
                    method=scope["method"],
                    path=scope["path"],
                    status=status_holder["status"],
                    duration_ms=round((time.perf_counter() - started) * 1000, 2),
                    workspace_id=str(principal.workspace_id) if principal else None,
                    api_key_id=str(principal.api_key_id) if principal else None,
                )


async def _send_error(send: Send, status: int, message: str) -> None:
    body = dump_json({"code": status, "message": message})
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
