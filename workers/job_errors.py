"""What a failed job tells its user: one sentence that names the cause in the user's terms and
says whether the job will run again, never the exception's own text. A driver's message holds
hosts, ports, SQL and parameters; a remote model's holds its URL. Those go to the worker's log
(as the exception's type), not to ``GET /v1/imports/{id}`` or an artifact's ``error``."""

from __future__ import annotations

import asyncio
import ssl

import httpx
from redis import exceptions as redis_errors
from sqlalchemy import exc as sa_errors

from tessera.errors import TesseraError
from workers.intelligence.llm import LLMError


class JobFailure(Exception):
    """A failure a job explains itself (``the object was deleted``): its text is shown as is."""


def _cause(err: BaseException) -> str:
    if isinstance(err, (TesseraError, JobFailure)):
        return str(getattr(err, "message", None) or err)
    if isinstance(err, (sa_errors.OperationalError, sa_errors.InterfaceError, sa_errors.DisconnectionError)):
        return "the database was unavailable"
    if isinstance(err, sa_errors.SQLAlchemyError):
        return "the database refused a statement"
    if isinstance(err, redis_errors.RedisError):
        return "the job queue was unavailable"
    if isinstance(err, (httpx.HTTPError, LLMError)):
        return "the language model was unavailable"
    if isinstance(err, (OSError, ssl.SSLError, asyncio.TimeoutError, TimeoutError, ConnectionError)):
        # asyncpg raises OSError subclasses ("Connect call failed ('10.0.0.5', 5432)") when the
        # database cannot be reached: this is what a job most often meets.
        return "a service the job needs was unavailable"
    return "an internal error occurred"


def describe_failure(err: BaseException, *, will_retry: bool) -> str:
    """The ``error`` of a job that failed with ``err``: generic, with what happens next."""
    cause = _cause(err)
    if isinstance(err, (TesseraError, JobFailure)):
        return cause
    return f"{cause}; the job will retry" if will_retry else f"{cause}; the job stopped after its last attempt"
