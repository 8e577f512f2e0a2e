"""HTTP handlers of tasks: parse, call the service, serialize."""

from __future__ import annotations

from tessera.http.context import RequestContext
from tessera.tasks.models import CreateTaskRequest, ListTasksQuery, UpdateTaskRequest
from tessera.tasks.serialize import TaskPageJson, task_page_to_json, task_to_json
from tessera.tasks.service import TaskService
from tessera.wire import JsonObject, parse_id


async def _service(ctx: RequestContext) -> TaskService:
    return TaskService(await ctx.tenant(), ctx.changes, webhooks=(await ctx.schema()).webhooks)


async def create_task(ctx: RequestContext[CreateTaskRequest, None]) -> JsonObject:
    return task_to_json(await (await _service(ctx)).create(ctx.body))


async def get_task(ctx: RequestContext[None, None]) -> JsonObject:
    return task_to_json(await (await _service(ctx)).get(parse_id(ctx.path["task_id"])))


async def update_task(ctx: RequestContext[UpdateTaskRequest, None]) -> JsonObject:
    return task_to_json(await (await _service(ctx)).update(parse_id(ctx.path["task_id"]), ctx.body))


async def delete_task(ctx: RequestContext[None, None]) -> None:
    await (await _service(ctx)).archive(parse_id(ctx.path["task_id"]))


async def list_tasks(ctx: RequestContext[None, ListTasksQuery]) -> TaskPageJson:
    query = ctx.query
    tasks, total = await (await _service(ctx)).list(query)
    return task_page_to_json(tasks, total, limit=query.limit, offset=query.offset)
