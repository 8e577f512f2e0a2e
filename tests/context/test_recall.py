"""Memory recall through ``POST /v1/context/ask``: what was remembered comes back, cited, with the
entities it names; sessions carry a conversation; one workspace never sees another's memory."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import asyncpg
import pytest

from tests.conftest import FakeClock, Workspace, WorkspaceFactory
from tests.context.test_context import processed
from tests.spec import assert_matches
from workers.deps import deps

pytestmark = pytest.mark.usefixtures("worker")


async def remembered(ws: Workspace, db: asyncpg.Connection, content: str, context: str | None = None,
                     within: float = 30) -> int:
    """Remember ``content`` and wait until it is processed and indexed for recall."""
    body: dict[str, Any] = {"content": content}
    if context is not None:
        body["context"] = context
    response = await ws.post("/v1/context/text", body)
    assert response.status_code == 200, response.text
    artifact_id: int = response.json()["artifact_id"]
    await processed(ws, artifact_id)
    deadline = time.monotonic() + within
    while await db.fetchval("SELECT count(*) FROM memory_items WHERE workspace_id = $1 AND indexed_at IS NULL",
                            int(ws.id)):
        assert time.monotonic() < deadline, "memory items were not indexed"
        await asyncio.sleep(0.1)
    return artifact_id


async def ask(ws: Workspace, query: str, session_id: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"query": query}
    if session_id is not None:
        body["session_id"] = session_id
    response = await ws.post("/v1/context/ask", body)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    assert_matches("developer.QueryContextResponse", answer)
    return answer


async def test_a_remembered_sentence_is_recalled_and_cited(ws: Workspace, db: asyncpg.Connection) -> None:
    artifact_id = await remembered(ws, db, "My favorite color is blue and I love TypeScript")
    answer = await ask(ws, "What is my favorite color?")
    assert "blue" in answer["answer"].lower(), answer["answer"]
    assert not answer["answer"].startswith("I have no information")
    cited = [s for s in answer["signals_used"] if s.get("type") == "memory"]
    assert cited and cited[0]["artifact_id"] == artifact_id and "blue" in cited[0]["content"]
    assert answer["metadata"]["retrieval"] == "hybrid" and answer["metadata"]["degraded"] is False
    # The same text did not make a company of the programming language.
    companies = (await ws.post("/v1/objects/company/records", {})).json()["data"]
    assert [c["attributes"].get("name") for c in companies] == []


async def test_a_question_memory_cannot_answer_says_so(ws: Workspace, db: asyncpg.Connection) -> None:
    await remembered(ws, db, "My favorite color is blue and I love TypeScript")
    answer = await ask(ws, "What is the name of my dentist?")
    assert answer["answer"].startswith("I have no information on your name of your dentist") or \
        answer["answer"].startswith("I have no information"), answer["answer"]
    assert "blue" not in answer["answer"]
    assert not [s for s in answer["signals_used"] if s.get("type") == "memory"]


async def test_a_newer_fact_replaces_an_older_one(ws: Workspace, db: asyncpg.Connection) -> None:
    await remembered(ws, db, "I live in Paris, in a flat near the Canal Saint-Martin.")
    await remembered(ws, db, "In June I moved from Paris to Berlin; I live in Berlin now.")
    answer = await ask(ws, "Which city do I live in?")
    assert answer["answer"].lower().index("berlin") < answer["answer"].lower().find("canal saint-martin") or \
        "canal saint-martin" not in answer["answer"].lower(), answer["answer"]
    assert "berlin" in answer["answer"].lower()


async def test_entity_references_name_the_people_an_answer_rests_on(ws: Workspace, db: asyncpg.Connection) -> None:
    await remembered(ws, db, "Met Sarah Johnson from Globex on Tuesday. Sarah Johnson prefers calls in the "
                             "morning and wants the renewal quote by Friday.", "Meeting notes")
    answer = await ask(ws, "When does Sarah Johnson prefer calls?")
    assert "morning" in answer["answer"].lower(), answer["answer"]
    references = answer["entity_references"]
    assert references, answer
    sarah = next(r for r in references if r["name"] == "Sarah Johnson")
    assert set(sarah) == {"id", "name", "type", "count"}
    assert isinstance(sarah["id"], int) and sarah["type"] == "PERSON" and sarah["count"] >= 1
    person = (await ws.get(f"/v1/records/{sarah['id']}")).json()
    assert person["attributes"]["name"] == "Sarah Johnson"


async def test_a_session_carries_the_conversation(ws: Workspace, db: asyncpg.Connection, fake_clock: FakeClock,
                                                  make_workspace: WorkspaceFactory) -> None:
    await remembered(ws, db, "Sarah Johnson works at Globex as head of procurement. She joined in 2021.",
                     "Meeting notes")
    await remembered(ws, db, "Kenji Watanabe works at Initech and runs their data platform.", "Meeting notes")
    first = await ask(ws, "Tell me about Sarah Johnson")
    assert "Sarah Johnson" in first["answer"]
    second = await ask(ws, "Where does she work?", first["session_id"])
    assert second["session_id"] == first["session_id"]
    assert "globex" in second["answer"].lower() and "initech" not in second["answer"].lower(), second["answer"]
    assert "Sarah Johnson" in second["metadata"]["resolved_query"]
    # Without the session, "she" names no one.
    alone = await ask(ws, "Where does she work?")
    assert "Sarah Johnson" not in alone["metadata"].get("resolved_query", "")
    # Sessions are per workspace, and expire.
    other = await (await make_workspace("other")).post("/v1/context/ask", {"query": "Where does she work?",
                                                                          "session_id": first["session_id"]})
    assert other.status_code == 404
    fake_clock.advance(25 * 3600)
    expired = await ws.post("/v1/context/ask", {"query": "And Kenji?", "session_id": first["session_id"]})
    assert expired.status_code == 404 and "expired" in expired.json()["message"]


async def test_another_workspace_never_sees_this_memory(ws: Workspace, db: asyncpg.Connection,
                                                       make_workspace: WorkspaceFactory) -> None:
    secret = await remembered(ws, db, "The launch code for Project Aurora is heliotrope-42, and Dana Whitfield "
                                      "owns it.")
    other = await make_workspace("other")
    await remembered(other, db, "Our team offsite is in Lisbon this spring.")
    answer = await ask(other, "What is the launch code for Project Aurora?")
    text = answer["answer"].lower()
    assert "heliotrope" not in text and "dana" not in text, answer["answer"]
    assert all(s.get("artifact_id") != secret for s in answer["signals_used"])
    assert all(r["name"] != "Dana Whitfield" for r in answer["entity_references"])
    assert all(p["source_id"] != secret for p in answer["metadata"]["passages_ranked"])
    mine = await ask(ws, "What is the launch code for Project Aurora?")
    assert "heliotrope-42" in mine["answer"]


async def test_notes_are_remembered_and_archiving_forgets_them(ws: Workspace, db: asyncpg.Connection) -> None:
    created = await ws.post("/v1/notes", {"title": "Parking", "content": "The visitor parking code at the "
                                                                         "Hamburg office is 5521."})
    assert created.status_code == 200, created.text
    note_id = created.json()["id"]
    deadline = time.monotonic() + 30
    while await db.fetchval("SELECT count(*) FROM memory_items WHERE workspace_id = $1 AND indexed_at IS NULL",
                            int(ws.id)):
        assert time.monotonic() < deadline
        await asyncio.sleep(0.1)
    answer = await ask(ws, "What is the visitor parking code at the Hamburg office?")
    assert "5521" in answer["answer"], answer["answer"]
    assert (await ws.delete(f"/v1/notes/{note_id}")).status_code in (200, 204)
    assert await db.fetchval("SELECT count(*) FROM memory_items WHERE workspace_id = $1 AND source_type = 'note'",
                             int(ws.id)) == 0
    after = await ask(ws, "What is the visitor parking code at the Hamburg office?")
    assert "5521" not in after["answer"]


async def test_erasure_removes_the_memory_and_its_index_documents(ws: Workspace, db: asyncpg.Connection,
                                                                  worker: Any) -> None:
    await remembered(ws, db, "The spare key for the Oslo office is in the blue lockbox by the loading dock.")
    index = deps(worker.ctx).memory_index

    async def documents() -> int:
        found = await index.client.fetch_documents(index.index_uid, filter_=f"workspace_id = {int(ws.id)}",
                                                   fields=["id"], limit=100, offset=0)
        return len(found)

    assert await documents() >= 1
    assert (await ws.delete("/v1/workspace")).status_code == 200
    assert await db.fetchval("SELECT count(*) FROM memory_items WHERE workspace_id = $1", int(ws.id)) == 0
    deadline = time.monotonic() + 20
    while await documents():
        assert time.monotonic() < deadline, "the erased workspace's memory documents stayed in Meilisearch"
        await asyncio.sleep(0.1)


async def test_expired_sessions_are_purged(ws: Workspace, db: asyncpg.Connection, worker: Any) -> None:
    from workers.lifecycle import purge_expired

    first = await ask(ws, "What do we know about anything?")
    await db.execute("UPDATE ask_sessions SET updated_at = now() - interval '25 hours' WHERE workspace_id = $1",
                     int(ws.id))
    await purge_expired(worker.ctx)
    assert await db.fetchval("SELECT count(*) FROM ask_sessions WHERE workspace_id = $1 AND id = $2", int(ws.id),
                             first["session_id"]) == 0
