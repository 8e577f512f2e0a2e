"""HTTP handlers of context, insights, ask, AI lists and the graph: parse, call the service, serialize."""

from __future__ import annotations

from datetime import timedelta

from sse_starlette import EventSourceResponse
from starlette.responses import HTMLResponse, Response

from tessera import quotas
from tessera.clock import utcnow
from tessera.context import artifacts, stream
from tessera.context.ask import ask
from tessera.context.graph import GraphJson, build_graph, graph_html
from tessera.context.insights import list_insights, window
from tessera.context.models import (
    AddContextTextRequest,
    CreateAIListJobRequest,
    GraphQuery,
    IncludeAttributesQuery,
    InsightsQuery,
    QueryContextRequest,
)
from tessera.context.serialize import (
    ArtifactCreatedJson,
    ArtifactJson,
    AskJson,
    InsightListJson,
    ListJobCreatedJson,
    ListJobReplyJson,
    artifact_to_json,
    insight_list_to_json,
    list_job_created,
    list_job_reply,
)
from tessera.errors import ServiceUnavailable
from tessera.http.context import RequestContext
from tessera.wire import parse_id


async def add_context(ctx: RequestContext[AddContextTextRequest, None]) -> ArtifactCreatedJson:
    await quotas.check_running(await ctx.tenant(), "artifacts", quotas.Quota(
        ctx.state.settings.max_pending_artifacts_per_workspace, "context artifacts",
        "MAX_PENDING_ARTIFACTS_PER_WORKSPACE"))
    artifact_id = await artifacts.create_artifact(await ctx.tenant(), ctx.changes, content=ctx.body.content,
                                                  context=ctx.body.context)
    return {"artifact_id": artifact_id}


async def get_artifact(ctx: RequestContext[None, None]) -> ArtifactJson:
    return artifact_to_json(await artifacts.get_artifact(await ctx.tenant(), parse_id(ctx.path["artifact_id"])))


async def list_insights_endpoint(ctx: RequestContext[None, InsightsQuery]) -> InsightListJson:
    start, end = window(ctx.query, utcnow(ctx.state.clock))
    found = await list_insights(await ctx.tenant(), await ctx.schema(), start=start, end=end, limit=ctx.query.limit)
    return insight_list_to_json(found, ctx.workspace_id)


async def stream_insights(ctx: RequestContext[None, None]) -> EventSourceResponse:
    headers = ctx.request.headers
    return await stream.stream_insights(ctx.state, ctx.principal, await ctx.schema(),
                                        authorization=headers.get("authorization"),
                                        after=parse_id(headers.get("last-event-id", "")))


async def ask_endpoint(ctx: RequestContext[QueryContextRequest, None]) -> AskJson:
    if ctx.state.intelligence is None:
        raise ServiceUnavailable("No reasoner is configured in this process")
    async with ctx.state.ask_gate.slot(ctx.workspace_id):
        return await ask(await ctx.tenant(), await ctx.schema(), ctx.state.search, ctx.state.intelligence,
                         ctx.state.memory, ctx.body.query, ctx.body.session_id, utcnow(ctx.state.clock),
                         timedelta(hours=ctx.state.settings.ask_session_ttl_hours))


async def create_list_job(ctx: RequestContext[CreateAIListJobRequest, None]) -> ListJobCreatedJson:
    await quotas.check_running(await ctx.tenant(), "ai_list_jobs", quotas.Quota(
        ctx.state.settings.max_running_jobs_per_workspace, "AI list jobs", "MAX_RUNNING_JOBS_PER_WORKSPACE"))
    job_id = await artifacts.create_list_job(await ctx.tenant(), ctx.changes, ctx.body)
    return list_job_created(job_id)


async def get_list_job(ctx: RequestContext[None, IncludeAttributesQuery]) -> ListJobReplyJson:
    job = await artifacts.get_list_job(await ctx.tenant(), parse_id(ctx.path["job_id"]))
    return list_job_reply(job, ctx.query.include_attributes)


async def graph(ctx: RequestContext[None, GraphQuery]) -> GraphJson | Response:
    data = await build_graph(await ctx.tenant(), await ctx.schema(), ctx.query.limit)
    accept = ctx.request.headers.get("accept", "")
    if ctx.query.format == "html" or ("text/html" in accept and "application/json" not in accept):
        return HTMLResponse(graph_html(data))
    return data
