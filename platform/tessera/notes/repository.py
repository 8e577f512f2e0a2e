"""SQL for notes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg

from tessera.changes import Actor
from tessera.db.id_order import creation_page
from tessera.db.sql import WORKSPACE, Params
from tessera.db.tenant import Tenant

_COLUMNS = ("id, title, content, entity_id, created_by, created_by_id, created_at, updated_at, archived_at")


@dataclass(frozen=True, slots=True)
class Note:
    id: int
    title: str
    content: str
    entity_id: int | None
    """The record the note is about, if any."""
    created_by: str
    created_by_id: str
    created_at: datetime
    updated_at: datetime
    archived_at: datetime | None


def _note(row: asyncpg.Record) -> Note:
    return Note(id=row["id"], title=row["title"], content=row["content"], entity_id=row["entity_id"],
                created_by=row["created_by"], created_by_id=row["created_by_id"], created_at=row["created_at"],
                updated_at=row["updated_at"], archived_at=row["archived_at"])


async def linkable_record(tenant: Tenant, record_id: int) -> bool:
    """Whether ``record_id`` is a record of this workspace a note may be about (not a list entry)."""
    params = Params()
    row = await tenant.fetchrow(
        "SELECT r.id FROM records r JOIN object_definitions o ON o.workspace_id = r.workspace_id "
        f"AND o.id = r.object_id WHERE r.workspace_id = $1 AND r.id = {params.add(record_id)} AND o.type <> 'list'",
        *params.values)
    return row is not None


async def get_note(tenant: Tenant, note_id: int, *, lock: bool = False) -> Note | None:
    params = Params()
    row = await tenant.fetchrow(
        f"SELECT {_COLUMNS} FROM notes WHERE workspace_id = $1 AND id = {params.add(note_id)}"
        + (" FOR UPDATE" if lock else ""), *params.values)
    return _note(row) if row is not None else None


async def insert_note(tenant: Tenant, note_id: int, *, title: str, content: str, entity_id: int | None,
                      actor: Actor, now: datetime) -> Note:
    params = Params()
    values = [params.add(v) for v in (note_id, title, content, entity_id, actor.name, actor.id, now)]
    row = await tenant.fetch_one(
        f"INSERT INTO notes (workspace_id, id, title, content, entity_id, created_by, created_by_id, created_at, "
        f"updated_at) VALUES ({WORKSPACE}, {', '.join(values)}, {values[-1]}) RETURNING {_COLUMNS}", *params.values)
    return _note(row)


async def update_note(tenant: Tenant, note: Note, now: datetime) -> Note:
    """Store ``note``'s title, content and record, changed at ``now``."""
    params = Params()
    note_id = params.add(note.id)
    row = await tenant.fetch_one(
        f"UPDATE notes SET title = {params.add(note.title)}, content = {params.add(note.content)}, "
        f"entity_id = {params.add(note.entity_id)}, updated_at = {params.add(now)} "
        f"WHERE workspace_id = $1 AND id = {note_id} RETURNING {_COLUMNS}", *params.values)
    return _note(row)


async def archive_note(tenant: Tenant, note_id: int, now: datetime) -> None:
    params = Params()
    note, at = params.add(note_id), params.add(now)
    await tenant.fetch(f"UPDATE notes SET archived_at = {at}, updated_at = {at} "
                       f"WHERE workspace_id = $1 AND id = {note}", *params.values)


async def list_notes(tenant: Tenant, *, record_id: int | None, include_archived: bool, limit: int) -> list[Note]:
    """The newest ``limit`` notes (about ``record_id`` when given)."""
    params = Params()
    where = "workspace_id = $1" + ("" if include_archived else " AND archived_at IS NULL")
    if record_id is not None:
        where += f" AND entity_id = {params.add(record_id)}"
    rows = await creation_page(tenant, f"SELECT {_COLUMNS} FROM notes WHERE {where}", params,
                               newest_first=True, limit=limit)
    return [_note(r) for r in rows]
