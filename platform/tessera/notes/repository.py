"""SQL for notes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg

from tessera.changes import Actor
from tessera.db.id_order import creation_page
from tessera.db.sql import Params
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
    row = await tenant.fetchrow(
        "SELECT r.id FROM records r JOIN object_definitions o ON o.workspace_id = r.workspace_id "
        "AND o.id = r.object_id WHERE r.workspace_id = $1 AND r.id = $2 AND o.type <> 'list'", record_id)
    return row is not None


async def get_note(tenant: Tenant, note_id: int, *, lock: bool = False) -> Note | None:
    row = await tenant.fetchrow(
        f"SELECT {_COLUMNS} FROM notes WHERE workspace_id = $1 AND id = $2" + (" FOR UPDATE" if lock else ""),
        note_id)
    return _note(row) if row is not None else None


async def insert_note(tenant: Tenant, note_id: int, *, title: str, content: str, entity_id: int | None,
                      actor: Actor, now: datetime) -> Note:
    row = await tenant.fetch_one(
        f"INSERT INTO notes (workspace_id, id, title, content, entity_id, created_by, created_by_id, created_at, "
        f"updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING {_COLUMNS}",
        note_id, title, content, entity_id, actor.name, actor.id, now)
    return _note(row)


async def update_note(tenant: Tenant, note: Note, now: datetime) -> Note:
    """Store ``note``'s title, content and record, changed at ``now``."""
    row = await tenant.fetch_one(
        f"UPDATE notes SET title = $3, content = $4, entity_id = $5, updated_at = $6 "
        f"WHERE workspace_id = $1 AND id = $2 RETURNING {_COLUMNS}",
        note.id, note.title, note.content, note.entity_id, now)
    return _note(row)


async def archive_note(tenant: Tenant, note_id: int, now: datetime) -> None:
    await tenant.fetch("UPDATE notes SET archived_at = $3, updated_at = $3 WHERE workspace_id = $1 AND id = $2",
                       note_id, now)


async def list_notes(tenant: Tenant, *, record_id: int | None, include_archived: bool, limit: int) -> list[Note]:
    """The newest ``limit`` notes (about ``record_id`` when given)."""
    params = Params()
    where = "workspace_id = $1" + ("" if include_archived else " AND archived_at IS NULL")
    if record_id is not None:
        where += f" AND entity_id = {params.add(record_id)}"
    rows = await creation_page(tenant, f"SELECT {_COLUMNS} FROM notes WHERE {where}", params,
                               newest_first=True, limit=limit)
    return [_note(r) for r in rows]
