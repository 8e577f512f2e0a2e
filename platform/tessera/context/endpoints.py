"""HTTP handlers of context, insights, ask, AI lists and the graph."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from starlette.responses import HTMLResponse, Response

from tessera import quotas
from tessera.clock import utcnow
from tessera.context import artifacts
from tessera.context.ask import ask
from tessera.context.graph import build_graph, graph_html
from tessera.context.insights import list_insights, window
from tessera.errors import ServiceUnavailable
from tessera.http.context import RequestContext


async def add_context(ctx: RequestContext) -> dict[str, Any]:
    await quotas.check_running(await ctx.tenant(), "artifacts", quotas.Quota(
        ctx.state.settings.max_pending_artifacts_per_workspace, "context artifacts",
        "MAX_PENDING_ARTIFACTS_PER_WORKSPACE"))
    artifact_id = await artifacts.create_artifact(await ctx.tenant(), ctx.changes, content=ctx.body.content,
                                                  context=ctx.body.context)
    return {"artifact_id": artifact_id}


async def get_artifact(ctx: RequestContext) -> dict[str, Any]:
    return await artifacts.get_artifact(await ctx.tenant(), ctx.path["artifact_id"])


async def list_insights_endpoint(ctx: RequestContext) -> dict[str, Any]:
    start, end = window(ctx.query, utcnow(ctx.state.clock))
    data = await list_insights(await ctx.tenant(), await ctx.schema(), start=start, end=end, limit=ctx.query.limit)
    return {"data": data}


async def ask_endpoint(ctx: RequestContext) -> dict[str, Any]:
    if ctx.state.intelligence is None:
        raise ServiceUnavailable("No reasoner is configured in this process")
    async with ctx.state.ask_gate.slot(ctx.workspace_id):
        return await ask(await ctx.tenant(), await ctx.schema(), ctx.state.search, ctx.state.intelligence,
                         ctx.state.memory, ctx.body.query, ctx.body.session_id, utcnow(ctx.state.clock),
                         timedelta(hours=ctx.state.settings.ask_session_ttl_hours))


async def create_list_job(ctx: RequestContext) -> dict[str, Any]:
    await quotas.check_running(await ctx.tenant(), "ai_list_jobs", quotas.Quota(
        ctx.state.settings.max_running_jobs_per_workspace, "AI list jobs", "MAX_RUNNING_JOBS_PER_WORKSPACE"))
    job_id = await artifacts.create_list_job(await ctx.tenant(), ctx.changes, ctx.body)
    message = {"job_id": str(job_id), "status": "pending"}
    return {"message": message, **message}


async def get_list_job(ctx: RequestContext) -> dict[str, Any]:
    message = await artifacts.get_list_job(await ctx.tenant(), ctx.path["job_id"], ctx.query.include_attributes)
    return {"message": message, **message}


async def graph(ctx: RequestContext) -> dict[str, Any] | Response:
    data = await build_graph(await ctx.tenant(), await ctx.schema(), ctx.query.limit)
    accept = ctx.request.headers.get("accept", "")
    if ctx.query.format == "html" or ("text/html" in accept and "application/json" not in accept):
        return HTMLResponse(graph_html(data))
    return data
