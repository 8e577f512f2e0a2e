"""HTTP handlers of notes: parse, call the service, serialize."""

from __future__ import annotations

from tessera.http.context import RequestContext
from tessera.notes.models import CreateNoteRequest, ListNotesQuery, UpdateNoteRequest
from tessera.notes.serialize import NoteListJson, note_list_to_json, note_to_json
from tessera.notes.service import NoteService
from tessera.wire import JsonObject, parse_id


async def _service(ctx: RequestContext) -> NoteService:
    return NoteService(await ctx.tenant(), ctx.changes, webhooks=(await ctx.schema()).webhooks)


async def create_note(ctx: RequestContext[CreateNoteRequest, None]) -> JsonObject:
    return note_to_json(await (await _service(ctx)).create(ctx.body))


async def get_note(ctx: RequestContext[None, None]) -> JsonObject:
    return note_to_json(await (await _service(ctx)).get(parse_id(ctx.path["note_id"])))


async def update_note(ctx: RequestContext[UpdateNoteRequest, None]) -> JsonObject:
    return note_to_json(await (await _service(ctx)).update(parse_id(ctx.path["note_id"]), ctx.body))


async def delete_note(ctx: RequestContext[None, None]) -> None:
    await (await _service(ctx)).archive(parse_id(ctx.path["note_id"]))


async def list_notes(ctx: RequestContext[None, ListNotesQuery]) -> NoteListJson:
    return note_list_to_json(await (await _service(ctx)).list(ctx.query))
