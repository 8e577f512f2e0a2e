"""AI list jobs: read a description ("fintech companies with more than 50 employees"), turn it
into a filter plus full-text terms, collect candidates and rank them with reasons."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
import structlog

from schema_registry.query import QueryError, parse_filter
from search.client import SearchUnavailable
from tessera.db.id_order import creation_page
from tessera.db.sql import Params
from tessera.db.tenant import Tenant
from tessera.records.cursor import CursorCodec
from tessera.records.listing import RecordQuery
from tessera.records.repository import get_records
from tessera.records.values import primary_value, read_attributes
from workers.deps import WorkerDeps, deps
from workers.job_errors import JobFailure
from workers.jobs import AI_LIST, claim, fail, leased

log = structlog.get_logger(__name__)
MAX_CANDIDATES = 500


async def _candidates(tenant: Tenant, worker: WorkerDeps, obj: Any, node: Any, terms: tuple[str, ...]
                      ) -> list[int]:
    ids: list[int] | None = None
    if node is not None:
        codec = CursorCodec(b"list-job", tenant.workspace_id, "list")
        page = await RecordQuery(tenant, obj, node=node, sorts=[], codec=codec).page(
            limit=MAX_CANDIDATES, offset=0, cursor=None)
        ids = [row.id for row in page.rows]
    if terms:
        try:
            hits, _ = await worker.search.search(tenant.workspace_id, " ".join(terms), [obj], limit=200)
            found = [int(h.id) for h in hits.get(obj.slug, [])]
        except SearchUnavailable:
            found = []
        if found:
            ids = found if ids is None else [i for i in ids if i in set(found)] or ids
    if ids is None:
        params = Params()
        select = f"SELECT id FROM records WHERE workspace_id = $1 AND object_id = {params.add(obj.id)}"
        rows = await creation_page(tenant, select, params, newest_first=False, limit=MAX_CANDIDATES)
        ids = [r["id"] for r in rows]
    return ids[:MAX_CANDIDATES]


@leased(AI_LIST)
async def process_list_job(ctx: dict[str, Any], workspace_id: int, job_id: int) -> str:
    """arq job: build one AI list (idempotent: a finished job is left alone)."""
    from workers.intelligence.list_interpreter import interpret_list_query, rank_candidates

    worker = deps(ctx)
    db = worker.engine
    job = await claim(db, AI_LIST, workspace_id, job_id)
    if job is None:
        return "skipped"
    try:
        async with db.begin() as conn:
            tenant = Tenant(conn, workspace_id)
            schema = await worker.schemas_cache.for_write(tenant)
            obj = schema.object("person" if job["object_type"] == "contact" else "company")
            if obj is None:
                raise JobFailure(f"this workspace has no {job['object_type']} object")
            interpretation = interpret_list_query(job["query"], job["object_type"], obj)
            node = None
            explanation = interpretation.explanation
            if interpretation.filter:
                try:
                    node = parse_filter(obj, interpretation.filter)
                except QueryError as err:  # the interpreter proposed something the schema refuses
                    explanation += f" (filter dropped: {err.message})"
            ids = await _candidates(tenant, worker, obj, node, interpretation.terms)
            rows = await get_records(tenant, ids)
            insights: dict[int, list[str]] = {}
            if rows:
                params = Params()
                for insight in await tenant.fetch(
                        "SELECT content, entity_ids FROM insights WHERE workspace_id = $1 "
                        f"AND entity_ids && {params.add([r.id for r in rows], 'bigint[]')} AND merged_into IS NULL "
                        "ORDER BY confidence DESC, created_at DESC, id DESC LIMIT 2000", *params.values):
                    for entity in insight["entity_ids"]:
                        insights.setdefault(entity, []).append(insight["content"])
            candidates = [(r.id, primary_value(obj, r.data), read_attributes(obj, r.data), insights.get(r.id, []))
                          for r in rows]
            ranked = rank_candidates(candidates, interpretation.terms, job["result_limit"])
            by_id = {c[0]: c for c in candidates}
            entities = [{"id": str(e.id), "name": by_id[int(e.id)][1], "type": job["object_type"], "reason": e.reason,
                         "highlights": list(e.highlights), "attributes": by_id[int(e.id)][2]} for e in ranked]
            now = datetime.now(UTC)
            params = Params()
            this_job = params.add(job_id)
            told = params.add(explanation)
            plan = params.add(orjson.dumps({"filter": interpretation.filter,
                                            "terms": list(interpretation.terms)}).decode(), "jsonb")
            found = params.add(orjson.dumps({"entities": entities}).decode(), "jsonb")
            at = params.add(now)
            await tenant.fetch(
                f"UPDATE ai_list_jobs SET status = 'completed', interpretation = {told}, plan = {plan}, "
                f"result = {found}, error = NULL, completed_at = {at}, updated_at = {at} "
                f"WHERE workspace_id = $1 AND id = {this_job} AND status <> 'completed'", *params.values)
    except Exception as err:  # report any failure on the job itself
        log.warning("list_job_failed", job_id=job_id, error_type=type(err).__name__)
        await fail(db, AI_LIST, workspace_id, job_id, job["attempts"], err)
        return "failed"
    return "completed"
