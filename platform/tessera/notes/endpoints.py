"""HTTP handlers of notes."""

from __future__ import annotations

from typing import Any

from tessera.http.context import RequestContext
from tessera.notes.service import NoteService, note_to_json


async def _service(ctx: RequestContext) -> NoteService:
    return NoteService(await ctx.tenant(), ctx.changes, webhooks=(await ctx.schema()).webhooks)


async def create_note(ctx: RequestContext) -> dict[str, Any]:
    return note_to_json(await (await _service(ctx)).create(ctx.body))


async def get_note(ctx: RequestContext) -> dict[str, Any]:
    return note_to_json(await (await _service(ctx)).get(ctx.path["note_id"]))


async def update_note(ctx: RequestContext) -> dict[str, Any]:
    return note_to_json(await (await _service(ctx)).update(ctx.path["note_id"], ctx.body))


async def delete_note(ctx: RequestContext) -> None:
    await (await _service(ctx)).archive(ctx.path["note_id"])


async def list_notes(ctx: RequestContext) -> dict[str, Any]:
    rows = await (await _service(ctx)).list(ctx.query.entity_id, ctx.query.include_archived)
    return {"data": [note_to_json(r) for r in rows]}
