"""Notes: create, update, archive, list filter and cap."""

from __future__ import annotations

from tests.conftest import Workspace, WorkspaceFactory
from tests.spec import assert_matches


async def test_note_lifecycle(ws: Workspace) -> None:
    ann = (await ws.post("/v1/objects/person", {"attributes": {"name": "Ann"}})).json()["id"]
    response = await ws.post("/v1/notes", {"title": "Meeting", "content": "# Roadmap\n- item", "entity_id": ann})
    assert response.status_code == 200, response.text
    note = response.json()
    assert_matches("developer.NoteResponse", note)
    assert note["entity_id"] == ann and note["content"].startswith("# Roadmap")
    patched = (await ws.patch(f"/v1/notes/{note['id']}", {"content": "Updated"})).json()
    assert patched["content"] == "Updated" and patched["title"] == "Meeting"
    listed = (await ws.get(f"/v1/notes?entity_id={ann}")).json()
    assert_matches("developer.ListNotesResponse", listed)
    assert [n["id"] for n in listed["data"]] == [note["id"]]
    assert (await ws.delete(f"/v1/notes/{note['id']}")).status_code == 200
    assert (await ws.get(f"/v1/notes/{note['id']}")).json()["archived_at"].endswith("Z")
    assert (await ws.get("/v1/notes")).json()["data"] == []
    assert len((await ws.get("/v1/notes?include_archived=true")).json()["data"]) == 1


async def test_note_refusals(ws: Workspace, make_workspace: WorkspaceFactory) -> None:
    assert (await ws.post("/v1/notes", {"content": "no title"})).status_code == 400
    assert (await ws.post("/v1/notes", {"title": "x", "content": "y" * 100_001})).status_code == 400
    assert (await ws.post("/v1/notes", {"title": "x", "entity_id": "42"})).status_code == 404
    other = await make_workspace()
    theirs = (await other.post("/v1/notes", {"title": "secret"})).json()
    assert (await ws.get(f"/v1/notes/{theirs['id']}")).status_code == 404
    assert (await ws.patch(f"/v1/notes/{theirs['id']}", {"title": "x"})).status_code == 404
    assert (await ws.get("/v1/notes")).json()["data"] == []


async def test_list_is_capped_at_200_newest_first(ws: Workspace) -> None:
    notes = (await ws.post("/v1/notes", {"title": "first"})).json()
    for i in range(201):
        await ws.post("/v1/notes", {"title": f"n{i}"})
    listed = (await ws.get("/v1/notes")).json()["data"]
    assert len(listed) == 200
    assert listed[0]["title"] == "n200" and notes["id"] not in [n["id"] for n in listed]
