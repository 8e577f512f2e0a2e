"""Notes: markdown text optionally attached to one record, archived instead of deleted."""

from __future__ import annotations

from dataclasses import replace

from tessera.changes import Changes
from tessera.context import memory
from tessera.db.tenant import Tenant
from tessera.errors import NotFound
from tessera.notes import repository
from tessera.notes.events import NoteEvent
from tessera.notes.models import CreateNoteRequest, ListNotesQuery, UpdateNoteRequest
from tessera.notes.repository import Note
from tessera.notes.serialize import field_changes, note_to_json
from tessera.wire import JsonObject, parse_id

LIST_CAP = 200


class NoteService:
    def __init__(self, tenant: Tenant, changes: Changes, *, webhooks: bool = False) -> None:
        self.tenant = tenant
        self.changes = changes
        self.ids = changes.ids
        self.actor = changes.actor
        self.now = changes.now
        self.webhooks = webhooks

    async def _record(self, raw: str | None) -> int | None:
        """The record ``raw`` names (None for none); 404 unless it is a record of this workspace."""
        if raw is None:
            return None
        record_id = parse_id(raw)
        if record_id is None or not await repository.linkable_record(self.tenant, record_id):
            raise NotFound("entity_id does not name a record of this workspace")
        return record_id

    async def get(self, note_id: int | None, *, lock: bool = False) -> Note:
        """The note, or 404 (also for an id that cannot be one of ours: ``note_id`` None)."""
        note = await repository.get_note(self.tenant, note_id, lock=lock) if note_id is not None else None
        if note is None:
            raise NotFound("Note not found")
        return note

    def _event(self, note: Note, event_type: str, records: list[int | None],
               changes: list[JsonObject] | None = None) -> None:
        self.changes.add(NoteEvent(event_type, note.id, note_to_json(note), note.title, note.content,
                                   sorted({r for r in records if r is not None}), changes), webhooks=self.webhooks)

    async def create(self, request: CreateNoteRequest) -> Note:
        entity_id = await self._record(request.entity_id)
        (note_id,) = await self.ids.take(self.tenant.conn, 1)
        note = await repository.insert_note(self.tenant, note_id, title=request.title, content=request.content or "",
                                            entity_id=entity_id, actor=self.actor, now=self.now)
        self._event(note, "created", [entity_id])
        await self._remember(note)
        return note

    async def _remember(self, note: Note) -> None:
        """The note as a memory item (its title, then its content), dated by its last change."""
        text = "\n".join(part for part in (note.title, note.content) if part)
        await memory.remember(self.tenant, self.changes, "note", note.id, text, context="Note", created_at=self.now,
                              entity_ids=[note.entity_id] if note.entity_id is not None else [])

    async def update(self, note_id: int | None, request: UpdateNoteRequest) -> Note:
        """Apply the fields the request sets (``entity_id`` null drops the record); a request
        that changes nothing writes nothing."""
        before = await self.get(note_id, lock=True)
        after = before
        if request.title is not None:
            after = replace(after, title=request.title)
        if request.content is not None:
            after = replace(after, content=request.content)
        if "entity_id" in request.model_fields_set:
            after = replace(after, entity_id=await self._record(request.entity_id))
        diff = field_changes(before, after)
        if not diff:
            return before
        note = await repository.update_note(self.tenant, after, self.now)
        self._event(note, "updated", [before.entity_id, note.entity_id], diff)
        await self._remember(note)
        return note

    async def archive(self, note_id: int | None) -> None:
        note = await self.get(note_id, lock=True)
        if note.archived_at is None:
            await repository.archive_note(self.tenant, note.id, self.now)
            self._event(note, "archived", [note.entity_id])
            await memory.forget(self.tenant, self.changes, "note", note.id)

    async def list(self, query: ListNotesQuery) -> list[Note]:
        """The newest ``LIST_CAP`` notes (about ``query.entity_id`` when given)."""
        record_id = None
        if query.entity_id is not None:
            record_id = parse_id(query.entity_id)
            if record_id is None:  # cannot name a record of ours: no note is about it
                return []
        return await repository.list_notes(self.tenant, record_id=record_id, include_archived=query.include_archived,
                                           limit=LIST_CAP)
