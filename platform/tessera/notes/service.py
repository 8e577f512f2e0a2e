"""Notes: markdown text optionally attached to one record, archived instead of deleted."""

from __future__ import annotations

from typing import Any

from tessera.changes import Changes
from tessera.context import memory
from tessera.db.id_order import creation_page
from tessera.db.sql import Params
from tessera.db.tenant import Tenant
from tessera.errors import NotFound
from tessera.notes.events import NoteEvent
from tessera.wire import iso, parse_id

LIST_CAP = 200
_COLUMNS = ("id, title, content, entity_id, created_by, created_by_id, created_at, updated_at, archived_at")


def note_to_json(row: Any) -> dict[str, Any]:
    """``developer.NoteResponse``; unset optional fields are left out, as the spec shows them."""
    out = {"id": str(row["id"]), "title": row["title"], "content": row["content"],
            "entity_id": str(row["entity_id"]) if row["entity_id"] is not None else None,
            "created_by": row["created_by"], "created_by_id": row["created_by_id"],
            "created_at": iso(row["created_at"]), "updated_at": iso(row["updated_at"]),
            "archived_at": iso(row["archived_at"])}
    return {k: v for k, v in out.items() if v is not None}


class NoteService:
    def __init__(self, tenant: Tenant, changes: Changes, *, webhooks: bool = False) -> None:
        self.tenant = tenant
        self.changes = changes
        self.ids = changes.ids
        self.actor = changes.actor
        self.now = changes.now
        self.webhooks = webhooks

    async def _record(self, raw: str | None) -> int | None:
        if raw is None:
            return None
        record_id = parse_id(raw)
        row = await self.tenant.fetchrow(
            "SELECT r.id FROM records r JOIN object_definitions o ON o.workspace_id = r.workspace_id "
            "AND o.id = r.object_id WHERE r.workspace_id = $1 AND r.id = $2 AND o.type <> 'list'",
            record_id) if record_id is not None else None
        if row is None:
            raise NotFound("entity_id does not name a record of this workspace")
        return int(row["id"])

    async def get(self, raw_id: str, *, lock: bool = False) -> dict[str, Any]:
        note_id = parse_id(raw_id)
        row = await self.tenant.fetchrow(
            f"SELECT {_COLUMNS} FROM notes WHERE workspace_id = $1 AND id = $2" + (" FOR UPDATE" if lock else ""),
            note_id) if note_id is not None else None
        if row is None:
            raise NotFound("Note not found")
        return dict(row)

    def _event(self, row: dict[str, Any], event_type: str, records: list[int | None],
               changes: list[dict[str, Any]] | None = None) -> None:
        self.changes.add(NoteEvent(event_type, row["id"], note_to_json(row), row["title"], row["content"],
                                   sorted({r for r in records if r is not None}), changes), webhooks=self.webhooks)

    async def create(self, body: Any) -> dict[str, Any]:
        entity_id = await self._record(body.entity_id)
        (note_id,) = await self.ids.take(self.tenant.conn, 1)
        row = dict(await self.tenant.fetchrow(
            f"INSERT INTO notes (workspace_id, id, title, content, entity_id, created_by, created_by_id, created_at, "
            f"updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING {_COLUMNS}",
            note_id, body.title, body.content or "", entity_id, self.actor.name, self.actor.id, self.now))
        self._event(row, "created", [entity_id])
        await self._remember(row)
        return row

    async def _remember(self, row: dict[str, Any]) -> None:
        """The note as a memory item (its title, then its content), dated by its last change."""
        text = "\n".join(part for part in (row["title"], row["content"]) if part)
        await memory.remember(self.tenant, self.changes, "note", row["id"], text, context="Note", created_at=self.now,
                              entity_ids=[row["entity_id"]] if row["entity_id"] is not None else [])

    async def update(self, raw_id: str, body: Any) -> dict[str, Any]:
        before = await self.get(raw_id, lock=True)
        changes = body.model_dump(exclude_unset=True)
        after = dict(before)
        if changes.get("title") is not None:
            after["title"] = changes["title"]
        if changes.get("content") is not None:
            after["content"] = changes["content"]
        if "entity_id" in changes:
            after["entity_id"] = await self._record(changes["entity_id"])
        diff = [{"field_name": f, "old_value": _plain(before[f]), "new_value": _plain(after[f])}
                for f in ("title", "content", "entity_id") if before[f] != after[f]]
        if not diff:
            return before
        row = dict(await self.tenant.fetchrow(
            f"UPDATE notes SET title = $3, content = $4, entity_id = $5, updated_at = $6 "
            f"WHERE workspace_id = $1 AND id = $2 RETURNING {_COLUMNS}",
            before["id"], after["title"], after["content"], after["entity_id"], self.now))
        self._event(row, "updated", [before["entity_id"], row["entity_id"]], diff)
        await self._remember(row)
        return row

    async def archive(self, raw_id: str) -> None:
        row = await self.get(raw_id, lock=True)
        if row["archived_at"] is None:
            await self.tenant.fetch("UPDATE notes SET archived_at = $3, updated_at = $3 "
                                    "WHERE workspace_id = $1 AND id = $2", row["id"], self.now)
            self._event(row, "archived", [row["entity_id"]])
            await memory.forget(self.tenant, self.changes, "note", row["id"])

    async def list(self, entity_id: str | None, include_archived: bool) -> list[dict[str, Any]]:
        params = Params()
        where = "workspace_id = $1" + ("" if include_archived else " AND archived_at IS NULL")
        if entity_id is not None:
            record_id = parse_id(entity_id)
            if record_id is None:
                return []
            where += f" AND entity_id = {params.add(record_id)}"
        rows = await creation_page(self.tenant, f"SELECT {_COLUMNS} FROM notes WHERE {where}", params,
                                   newest_first=True, limit=LIST_CAP)
        return [dict(r) for r in rows]


def _plain(value: Any) -> Any:
    return str(value) if isinstance(value, int) else value
