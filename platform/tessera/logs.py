"""Structured logging: one JSON object per line (or a console rendering for humans), with the
request id bound by the HTTP middleware. A last processor scrubs anything shaped like an API key
or a bearer token, so a secret cannot reach a log line even by accident."""

from __future__ import annotations

import logging
import re
import sys

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

_SECRET = re.compile(r"sk-[A-Za-z0-9]{20,}|(?i:bearer)\s+[A-Za-z0-9._~+/=-]{8,}")


def _scrub(value: object) -> object:
    """``value`` with secrets replaced, inside strings, dicts, lists and tuples; anything else as is."""
    if isinstance(value, str):
        return _SECRET.sub("[REDACTED]", value)
    if isinstance(value, dict):
        return {k: _scrub(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_scrub(v) for v in value]
    return value


def scrub_secrets(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    return {key: _scrub(value) for key, value in event_dict.items()}


def configure_logging(level: str = "INFO", fmt: str = "json") -> None:
    """Route structlog and the standard library (uvicorn, arq, alembic) through one renderer."""
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        scrub_secrets,
    ]
    renderer: Processor = (structlog.processors.JSONRenderer() if fmt == "json"
                           else structlog.dev.ConsoleRenderer(colors=False))
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        foreign_pre_chain=shared,
    ))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("uvicorn.access",):
        logging.getLogger(noisy).disabled = True
    # A line per Meilisearch/webhook call, and two per job (the search sweep runs every second):
    # failures still show.
    for chatty in ("httpx", "httpcore", "arq.worker", "arq.jobs"):
        logging.getLogger(chatty).setLevel(max(logging.WARNING, root.level))
    logging.getLogger("uvicorn.error").propagate = True
