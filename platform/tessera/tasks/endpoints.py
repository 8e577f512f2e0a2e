"""HTTP handlers of tasks."""

from __future__ import annotations

from typing import Any

from tessera.http.context import RequestContext
from tessera.tasks.service import TaskService, task_to_json


async def _service(ctx: RequestContext) -> TaskService:
    return TaskService(await ctx.tenant(), ctx.changes, webhooks=(await ctx.schema()).webhooks)


async def create_task(ctx: RequestContext) -> dict[str, Any]:
    return task_to_json(await (await _service(ctx)).create(ctx.body))


async def get_task(ctx: RequestContext) -> dict[str, Any]:
    return task_to_json(await (await _service(ctx)).get(ctx.path["task_id"]))


async def update_task(ctx: RequestContext) -> dict[str, Any]:
    return task_to_json(await (await _service(ctx)).update(ctx.path["task_id"], ctx.body))


async def delete_task(ctx: RequestContext) -> None:
    await (await _service(ctx)).archive(ctx.path["task_id"])


async def list_tasks(ctx: RequestContext) -> dict[str, Any]:
    query = ctx.query
    rows, total = await (await _service(ctx)).list(query)  # one row more than the page, if there is one
    has_more = len(rows) > query.limit
    rows = rows[:query.limit]
    out: dict[str, Any] = {"data": [task_to_json(r) for r in rows], "has_more": has_more, "total": total}
    if has_more:
        out["next_offset"] = query.offset + len(rows)
    return out
