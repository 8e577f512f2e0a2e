"""HTTP handlers of compounding jobs: parse, call the service, serialize."""

from __future__ import annotations

from tessera import quotas
from tessera.compounding import service
from tessera.compounding.models import TriggerJobRequest
from tessera.compounding.serialize import job_to_json, trigger_to_json
from tessera.http.context import RequestContext
from tessera.wire import JsonObject


async def trigger_job(ctx: RequestContext[TriggerJobRequest, None]) -> JsonObject:
    tenant = await ctx.tenant()
    await quotas.check_running(tenant, "compounding_jobs", quotas.Quota(
        ctx.state.settings.max_running_jobs_per_workspace, "compounding jobs", "MAX_RUNNING_JOBS_PER_WORKSPACE"))
    _, run_id = await service.trigger_job(tenant, ctx.changes, ctx.body.job_type, dry_run=ctx.body.dry_run)
    return trigger_to_json(run_id, ctx.body.job_type, ctx.workspace_id, ctx.body.dry_run)


async def get_job(ctx: RequestContext[None, None]) -> JsonObject:
    job = await service.get_job(await ctx.tenant(), service.parse_run_id(ctx.path["job_run_id"]))
    return job_to_json(job, ctx.workspace_id)
