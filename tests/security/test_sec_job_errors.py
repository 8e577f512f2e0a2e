"""Audit item 16: a failed job's ``error`` (artifacts, imports, exports, AI lists) names the cause
in the user's terms and whether the job will retry; it never carries the exception's text, where
drivers put hosts, ports, SQL and parameters."""

from __future__ import annotations

import dataclasses
from typing import Any

import asyncpg
import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tessera.settings import Settings
from tests.conftest import Workspace
from tests.isolated import free_port
from tests.security.support import until_status
from workers.job_errors import JobFailure, describe_failure

LEAKS = ("127.0.0.1", "5432", "[SQL", "asyncpg", "Errno", "parameters")


async def unreachable_database() -> OSError:
    """What asyncpg raises when the database host does not answer: its text names the address."""
    port = free_port()
    try:
        await asyncpg.connect(f"postgresql://postgres@127.0.0.1:{port}/nothing", timeout=5)
    except OSError as err:
        assert f"127.0.0.1', {port}" in str(err) or str(port) in str(err), str(err)
        return err
    raise AssertionError("a closed port accepted a connection")


class UnreachableExtractor:
    """An extractor whose backing service is down, as a remote model or a database would be."""

    async def extract(self, content: str, context: str | None = None) -> Any:
        raise await unreachable_database()


@pytest.mark.usefixtures("worker")
async def test_an_artifact_whose_service_is_down_reports_a_generic_error(ws: Workspace, db: asyncpg.Connection,
                                                                         settings: Settings) -> None:
    from workers.context_jobs import process_artifact
    from workers.deps import DEPS_KEY, deps
    from workers.lifecycle import shutdown, startup

    artifact_id = (await ws.post("/v1/context/text", {"content": "Ada Lovelace joined Acme."})).json()["artifact_id"]
    await until_status(ws, f"/v1/context/artifacts/{artifact_id}", ("completed", "failed"))
    await db.execute("UPDATE artifacts SET status = 'pending', attempts = 0 WHERE workspace_id = $1 AND id = $2",
                     int(ws.id), artifact_id)
    ctx: dict[str, Any] = {"settings": settings}
    await startup(ctx)
    try:
        ctx[DEPS_KEY] = dataclasses.replace(deps(ctx), extractor=UnreachableExtractor())
        assert await process_artifact(ctx, int(ws.id), artifact_id) == "failed"
    finally:
        await shutdown(ctx)
    body = (await ws.get(f"/v1/context/artifacts/{artifact_id}")).json()
    assert body["status"] == "pending", body
    assert body["error"] == "extraction failed: a service the job needs was unavailable; the job will retry", body
    assert not [leak for leak in LEAKS if leak in body["error"]]


@pytest.mark.usefixtures("worker")
async def test_an_export_of_a_deleted_object_fails_at_once_saying_so(ws: Workspace, db: asyncpg.Connection,
                                                                      settings: Settings) -> None:
    """Our own explanations are kept, and a failure that cannot pass on a retry is not retried."""
    from workers.lifecycle import shutdown, startup
    from workers.transfer_jobs import process_export

    export = (await ws.post("/v1/exports", {"object": "person", "format": "csv"})).json()
    await until_status(ws, f"/v1/exports/{export['id']}", ("completed", "failed"))
    await db.execute("UPDATE exports SET status = 'pending', attempts = 0, object_slug = 'deleted_object' "
                     "WHERE workspace_id = $1 AND id = $2", int(ws.id), int(export["id"]))
    ctx: dict[str, Any] = {"settings": settings}
    await startup(ctx)
    try:
        assert await process_export(ctx, int(ws.id), int(export["id"])) == "failed"
    finally:
        await shutdown(ctx)
    body = (await ws.get(f"/v1/exports/{export['id']}")).json()
    assert (body["status"], body["error"]) == ("failed", "the object was deleted"), body


async def test_driver_queue_and_model_errors_are_described_without_their_text(settings: Settings) -> None:
    """Real failures of each dependency (not hand-written messages): the text each carries would
    tell a tenant where the services run; what the job shows does not."""
    failures: list[BaseException] = [await unreachable_database()]
    engine = create_async_engine(settings.sqlalchemy_url)
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT * FROM no_such_table WHERE secret = :s"), {"s": "p@ss"})
    except Exception as err:  # sqlalchemy.exc.ProgrammingError: "[SQL: ...] [parameters: ...]"
        assert "[SQL" in str(err)
        failures.append(err)
    finally:
        await engine.dispose()
    redis = Redis(host="127.0.0.1", port=free_port(), socket_connect_timeout=2)
    try:
        await redis.ping()
    except Exception as err:  # redis.exceptions.ConnectionError naming the address
        assert "127.0.0.1" in str(err)
        failures.append(err)
    finally:
        await redis.aclose()
    async with httpx.AsyncClient() as http:
        try:
            await http.get(f"http://127.0.0.1:{free_port()}/v1/chat/completions")
        except httpx.HTTPError as err:
            failures.append(err)
    assert len(failures) == 4
    described = [describe_failure(err, will_retry=True) for err in failures]
    assert described == ["a service the job needs was unavailable; the job will retry",
                         "the database refused a statement; the job will retry",
                         "the job queue was unavailable; the job will retry",
                         "the language model was unavailable; the job will retry"]
    assert describe_failure(failures[0], will_retry=False).endswith("the job stopped after its last attempt")
    assert describe_failure(JobFailure("the file holds no rows"), will_retry=True) == "the file holds no rows"
