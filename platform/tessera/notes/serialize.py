"""Notes as the API shows them (``developer.NoteResponse``, the webhook body, ``field_changes``).
Built as ordered JSON objects: unset optional fields are left out, as the spec shows them."""

from __future__ import annotations

from typing import TypedDict

from tessera.notes.repository import Note
from tessera.wire import JsonObject, JsonValue, iso


class NoteListJson(TypedDict):
    """``developer.ListNotesResponse``."""

    data: list[JsonObject]


def note_to_json(note: Note) -> JsonObject:
    """``developer.NoteResponse``."""
    out: JsonObject = {
        "id": str(note.id), "title": note.title, "content": note.content,
        "entity_id": str(note.entity_id) if note.entity_id is not None else None,
        "created_by": note.created_by, "created_by_id": note.created_by_id, "created_at": iso(note.created_at),
        "updated_at": iso(note.updated_at), "archived_at": iso(note.archived_at)}
    return {k: v for k, v in out.items() if v is not None}


def note_list_to_json(notes: list[Note]) -> NoteListJson:
    return {"data": [note_to_json(n) for n in notes]}


def _compared(note: Note) -> dict[str, JsonValue]:
    """The fields an update reports a change of, as they are shown."""
    return {"title": note.title, "content": note.content,
            "entity_id": str(note.entity_id) if note.entity_id is not None else None}


def field_changes(before: Note, after: Note) -> list[JsonObject]:
    """``field_changes`` of an update: each compared field whose value differs, old and new."""
    old, new = _compared(before), _compared(after)
    return [{"field_name": name, "old_value": old[name], "new_value": new[name]}
            for name in old if old[name] != new[name]]
