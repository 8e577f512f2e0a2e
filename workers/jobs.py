"""The life of a job row, the same for every kind of job that is a row in PostgreSQL: artifacts
(context extraction), AI list jobs, imports, exports, integration syncs, compounding jobs and
notification evaluations.

The row is the job; its arq queue entry only nudges a worker (Redis keeps nothing on disk). A run
goes through these steps, all here, parameterised by its ``JobKind``:

- **lease** (``leased``): the run holds its row's lease, a PostgreSQL session advisory lock on
  the worker process's lease connection (``workers.leases``), from before it claims the row until
  it returns. It needs no renewal: it lasts as long as the process's session, and a new session
  takes back what a lost one held. A second copy of a job whose lease is held elsewhere skips.
- **claim** (``claim``): its own transaction marks the row ``processing`` and counts the start in
  ``attempts``; a row started ``MAX_CLAIMS`` times without finishing (its worker died every time)
  is marked ``failed`` instead.
- the job's work, whose last transaction marks the row ``completed``;
- or **fail** (``fail``): back to ``pending`` to be retried, or ``failed`` after ``MAX_ATTEMPTS``,
  with an ``error`` the user may read: ``workers.job_errors.describe_failure``'s generic sentence,
  never the exception's text.
- **requeue** (``requeue_stranded``, a cron job): rows left ``pending`` (their queue entry was
  lost) or ``processing`` by a worker that is gone (``stranded``: nobody holds the lease) are
  queued again. Every job is idempotent, so one that runs twice writes once.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, cast

import structlog
from arq.typing import WorkerCoroutine
from sqlalchemy import text
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from workers.deps import deps
from workers.job_errors import describe_failure
from workers.leases import lease_key_sql

log = structlog.get_logger(__name__)

MAX_ATTEMPTS = 3  # failures the job saw itself
MAX_CLAIMS = 10  # starts in all, including those a dead worker never finished


@dataclass(frozen=True, slots=True)
class JobKind:
    """A kind of job: the table of its rows, the arq function that runs one, and the prefix of its
    arq job ids (``artifact:123``; the API queues the job under the same id)."""

    table: str
    function: str
    prefix: str

    def job_id(self, row_id: int) -> str:
        return f"{self.prefix}:{row_id}"


ARTIFACT = JobKind("artifacts", "process_artifact", "artifact")
AI_LIST = JobKind("ai_list_jobs", "process_list_job", "list")
IMPORT = JobKind("imports", "process_import", "import")
EXPORT = JobKind("exports", "process_export", "export")
BRIEF_REFRESH = JobKind("brief_refreshes", "refresh_briefs", "briefs")
INTEGRATION_SYNC = JobKind("integration_syncs", "sync_integration", "integration_sync")
COMPOUNDING = JobKind("compounding_jobs", "process_compounding_job", "compounding")
NOTIFY = JobKind("notification_runs", "evaluate_notifications", "notify")
JOB_KINDS = (ARTIFACT, AI_LIST, IMPORT, EXPORT, BRIEF_REFRESH, INTEGRATION_SYNC, COMPOUNDING, NOTIFY)


def _table(kind: JobKind) -> str:
    """The kind's table, for SQL text: only the tables of ``JOB_KINDS`` ever reach a statement."""
    if kind not in JOB_KINDS:
        raise ValueError(kind)
    return kind.table


Job = Callable[[dict[str, Any], int, int], Coroutine[Any, Any, str]]


def leased(kind: JobKind) -> Callable[[Job], WorkerCoroutine]:
    """Run an ``(ctx, workspace_id, row_id)`` job only while holding its row's lease; without it
    (a live worker runs the job) the run returns ``"skipped"``."""
    _table(kind)

    def wrap(job: Job) -> WorkerCoroutine:
        @functools.wraps(job)
        async def run(ctx: dict[str, Any], workspace_id: int, row_id: int) -> str:
            async with deps(ctx).leases.hold(kind.table, row_id) as held:
                if not held:
                    log.info("job_running_elsewhere", table=kind.table, id=row_id)
                    return "skipped"
                return await job(ctx, workspace_id, row_id)

        return cast(WorkerCoroutine, run)

    return wrap


async def claim(db: AsyncEngine, kind: JobKind, workspace_id: int, row_id: int) -> dict[str, Any] | None:
    """Mark a pending or processing row ``processing`` and count the start, in a transaction of
    its own (the API shows it at once). The row as claimed; None when it is done, or failed, or
    was started ``MAX_CLAIMS`` times already (it is marked failed now)."""
    table = _table(kind)
    async with db.begin() as conn:
        row = (await conn.execute(text(
            f"UPDATE {table} SET status = 'processing', attempts = attempts + 1, updated_at = now() "
            f"WHERE workspace_id = :ws AND id = :id AND status IN ('pending', 'processing') RETURNING *"),
            {"ws": workspace_id, "id": row_id})).mappings().first()
        if row is not None and row["attempts"] > MAX_CLAIMS:  # its worker died every time: give up
            await conn.execute(text(
                f"UPDATE {table} SET status = 'failed', error = :e, updated_at = now() "
                f"WHERE workspace_id = :ws AND id = :id"),
                {"e": f"the worker stopped {MAX_CLAIMS} times while running this job", "ws": workspace_id,
                 "id": row_id})
            return None
    return dict(row) if row else None


async def fail(db: AsyncEngine, kind: JobKind, workspace_id: int, row_id: int, attempts: int, err: BaseException,
               *, prefix: str = "", final: bool = False) -> None:
    """Record that the run that made start ``attempts`` failed with ``err``: the row goes back to
    ``pending`` (the sweep retries it), or to ``failed`` once ``MAX_ATTEMPTS`` runs failed, at once
    when ``final`` (the job's input is at fault: it would fail the same way again). Its ``error`` is
    ``prefix`` and ``describe_failure``'s sentence (cut at 500 characters). A completed row is left
    as it is."""
    if final:
        attempts = MAX_ATTEMPTS
    reason = prefix + describe_failure(err, will_retry=attempts < MAX_ATTEMPTS)
    status = "failed" if attempts >= MAX_ATTEMPTS else "pending"
    async with db.begin() as conn:
        await conn.execute(text(
            f"UPDATE {_table(kind)} SET status = :s, error = :e, updated_at = now() "
            f"WHERE workspace_id = :ws AND id = :id AND status <> 'completed'"),
            {"s": status, "e": reason[:500], "ws": workspace_id, "id": row_id})


async def stranded(conn: AsyncConnection, kind: JobKind) -> list[Row[Any]]:
    """Rows of ``kind`` to queue again (``workspace_id``, ``id``): pending for more than 10 s (their
    queue entry was lost), or processing while no living worker holds the job's lease. Run it in a
    transaction: the lease probes are transaction-level locks and end with it."""
    table = _table(kind)
    rows = list((await conn.execute(text(
        f"SELECT workspace_id, id FROM {table} WHERE workspace_id IS NOT NULL AND "
        f"status = 'pending' AND updated_at < now() - interval '10 seconds' LIMIT 500"))).all())
    # OFFSET 0 keeps the lock probe off rows the other conditions rule out.
    rows += (await conn.execute(text(
        f"SELECT workspace_id, id FROM (SELECT workspace_id, id FROM {table} "
        f"WHERE workspace_id IS NOT NULL AND status = 'processing' LIMIT 500 OFFSET 0) AS p "
        f"WHERE pg_try_advisory_xact_lock({lease_key_sql(table, 'p.id')})"))).all()
    return rows


async def requeue_stranded(ctx: dict[str, Any]) -> int:
    """Cron: queue again the jobs of every kind that ``stranded`` finds (a lost queue entry, a dead
    worker). Returns how many were queued."""
    worker = deps(ctx)
    count = 0
    async with worker.engine.connect() as conn:
        for kind in JOB_KINDS:
            async with conn.begin():
                rows = await stranded(conn, kind)
            for row in rows:
                count += await worker.redis_client.requeue(kind.function, row.workspace_id, row.id,
                                                           job_id=kind.job_id(row.id))
    return count
