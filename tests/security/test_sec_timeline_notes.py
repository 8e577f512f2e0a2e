"""Audit item 3: the timeline served to ``record.read`` shows a note's id and title, never its
content (that needs ``note.read``), and an archived note's content never appears there."""

from __future__ import annotations

from typing import Any

from tests.conftest import Workspace

SECRET = "salary band 7, do not share"


async def _timeline(ws: Workspace, record_id: str, key: str | None = None, **params: Any) -> list[dict[str, Any]]:
    response = await ws.get(f"/v1/records/{record_id}/timeline", key=key, params={"aggregate": "false", **params})
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return [e for e in data if e["resource_type"] == "note"]


async def _person_with_note(ws: Workspace) -> tuple[str, str]:
    person = await ws.post("/v1/objects/person", {"attributes": {"name": "Grace Hopper"}})
    record_id = person.json()["id"]
    note = await ws.post("/v1/notes", {"title": "Review", "content": SECRET, "entity_id": record_id})
    assert note.status_code == 200, note.text
    return record_id, note.json()["id"]


async def test_record_read_sees_note_titles_not_content(ws: Workspace) -> None:
    record_id, note_id = await _person_with_note(ws)
    await ws.patch(f"/v1/notes/{note_id}", {"content": SECRET + " (revised)"})
    records_only = await ws.new_key(["record.read"])

    events = await _timeline(ws, record_id, key=records_only)

    assert [e["event_type"] for e in events] == ["updated", "created"]
    assert SECRET not in str(events)
    assert events[1]["event_payload"]["note"] == {"id": note_id, "title": "Review"}
    assert events[0]["event_payload"]["field_changes"] == [{"field_name": "content"}]


async def test_note_read_sees_content_until_the_note_is_archived(ws: Workspace) -> None:
    record_id, note_id = await _person_with_note(ws)
    both = await ws.new_key(["record.read", "note.read"])

    assert (await _timeline(ws, record_id, key=both))[0]["event_payload"]["note"]["content"] == SECRET

    assert (await ws.delete(f"/v1/notes/{note_id}")).status_code == 200
    events = await _timeline(ws, record_id, key=both)
    assert [e["event_type"] for e in events] == ["archived", "created"]
    assert SECRET not in str(events)
    assert SECRET not in str(await _timeline(ws, record_id, aggregate="true"))
