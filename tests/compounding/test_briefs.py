"""Entity briefs and the workspace playbook over HTTP: a brief cites every kind of context about its
record; recompiling unchanged inputs keeps the version, a change makes a new one with its history;
private briefs are their key's alone; another workspace sees nothing; bad input is a 4xx."""

from __future__ import annotations

import asyncio
import dataclasses
import re
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from tessera.compounding.rules import NewRule, upsert_rule
from tessera.db.tenant import Tenant
from tests.conftest import Workspace, WorkspaceFactory
from tests.context.test_context import EMAIL, processed
from workers.deps import DEPS_KEY, deps

pytestmark = pytest.mark.usefixtures("worker")


async def seeded_person(ws: Workspace) -> dict[str, Any]:
    """Sarah Chen (a person with attributes), the TechFlow email read by the worker (insights and
    her works-at relationship), a note about her and an open task."""
    person = (await ws.post("/v1/objects/person", {"attributes": {
        "name": "Sarah Chen", "email_addresses": ["sarah.chen@techflow.io"], "job_title": "VP Engineering"}})).json()
    artifact_id = (await ws.post("/v1/context/text", {"content": EMAIL, "context": "Inbound email"})).json()[
        "artifact_id"]
    assert (await processed(ws, artifact_id))["status"] == "completed"
    note = (await ws.post("/v1/notes", {"title": "Discovery call", "content": "Wants SSO before the pilot.",
                                        "entity_id": person["id"]})).json()
    task = (await ws.post("/v1/tasks", {"title": "Send the SOC 2 report", "entity_ids": [person["id"]],
                                        "priority": "high"})).json()
    return {"person": person, "artifact_id": artifact_id, "note": note, "task": task}


async def compile_brief(ws: Workspace, context_id: str, *, key: str | None = None, private: bool = False
                        ) -> dict[str, Any]:
    body: dict[str, Any] = {"context_id": context_id}
    if private:
        body["is_private"] = True
    response = await ws.post("/v1/playbooks/compile", body, key=key)
    assert response.status_code == 200, response.text
    compiled: dict[str, Any] = response.json()
    return compiled


def cited(content: str, kind: str) -> list[str]:
    return re.findall(rf"\[{kind} (\d+)\]", content)


async def test_a_brief_cites_attributes_relationships_insights_notes_tasks_and_timeline(ws: Workspace) -> None:
    seed = await seeded_person(ws)
    person_id = seed["person"]["id"]
    brief = await compile_brief(ws, person_id)
    assert brief["status"] == "created" and brief["version"] == 1 and brief["scope_type"] == 1
    assert brief["title"] == "Sarah Chen" and brief["context_id"] == person_id and brief["is_private"] is False
    content = brief["content"]
    for heading in ("## Summary", "## Attributes", "## Relationships", "## Recent insights", "## Notes",
                    "## Open tasks", "## Timeline highlights"):
        assert heading in content, heading
    assert "VP Engineering" in content and person_id in cited(content, "record")
    relationships = (await ws.get(f"/v1/records/{person_id}/relationships")).json()["data"]
    assert relationships and relationships[0]["id"] in cited(content, "relationship") and "TechFlow" in content
    insights = (await ws.get("/v1/insights?last=1h")).json()["data"]
    about_her = {i["id"] for i in insights if any(e["id"] == person_id for e in i["entities"])}
    assert about_her and about_her & set(cited(content, "insight"))
    assert str(seed["artifact_id"]) in cited(content, "artifact")
    assert set(cited(content, "note")) == {seed["note"]["id"]} and "Wants SSO" in content
    assert set(cited(content, "task")) == {seed["task"]["id"]} and "priority high" in content
    timeline = (await ws.get(f"/v1/records/{person_id}/timeline")).json()["data"]
    assert set(cited(content, "timeline")) <= {e["id"] for e in timeline} and cited(content, "timeline")
    # The same document by id, by record and as markdown.
    by_id = (await ws.get(f"/v1/playbooks/{brief['id']}")).json()
    by_context = (await ws.get(f"/v1/playbooks/by-context/{person_id}")).json()
    assert by_id == by_context and by_id["content"] == content
    download = await ws.get(f"/v1/playbooks/{brief['id']}/download")
    assert download.status_code == 200 and download.headers["content-type"].startswith("text/markdown")
    assert download.text == content


async def test_recompiling_unchanged_keeps_the_version_a_change_makes_a_new_one(ws: Workspace) -> None:
    person = (await ws.post("/v1/objects/person", {"attributes": {"name": "Ada Park"}})).json()
    first = await compile_brief(ws, person["id"])
    again = await compile_brief(ws, person["id"])
    assert again["status"] == "unchanged" and again["version"] == 1 and again["id"] == first["id"]
    assert (again["input_hash"], again["updated_at"]) == (first["input_hash"], first["updated_at"])
    await ws.post("/v1/notes", {"title": "Budget approved", "entity_id": person["id"]})
    changed = await compile_brief(ws, person["id"])
    assert changed["status"] == "updated" and changed["version"] == 2 and changed["input_hash"] != first["input_hash"]
    await ws.patch(f"/v1/records/{person['id']}", {"attributes": {"job_title": "CTO"}})
    third = await compile_brief(ws, person["id"])
    assert third["version"] == 3 and "CTO" in third["content"]
    history = (await ws.get(f"/v1/playbooks/{first['id']}/history")).json()
    assert history["version"] == 3 and [v["version"] for v in history["data"]] == [3, 2, 1]
    latest, middle, oldest = history["data"]
    assert oldest["summary"] == "First version." and oldest["input_hash"] == first["input_hash"]
    assert "Notes" in middle["changes"]["added"] and "Notes" in middle["summary"]
    assert "Attributes" in latest["changes"]["changed"] and latest["changes"]["removed"] == []
    assert [v["version"] for v in (await ws.get(f"/v1/playbooks/{first['id']}/history?limit=1")).json()["data"]] \
        == [3]


async def test_private_briefs_are_seen_only_by_the_key_that_compiled_them(ws: Workspace) -> None:
    person = (await ws.post("/v1/objects/person", {"attributes": {"name": "Lee Kim"}})).json()
    mine = await ws.new_key(["playbook.read", "playbook.write"])
    theirs = await ws.new_key(["playbook.read", "playbook.write"])
    private = await compile_brief(ws, person["id"], key=mine, private=True)
    assert private["scope_type"] == 3 and private["is_private"] is True
    assert (await ws.get(f"/v1/playbooks/{private['id']}", key=mine)).status_code == 200
    for key in (theirs, None):
        assert (await ws.get(f"/v1/playbooks/{private['id']}", key=key)).status_code == 404
        assert (await ws.get(f"/v1/playbooks/{private['id']}/download", key=key)).status_code == 404
        assert (await ws.get(f"/v1/playbooks/{private['id']}/history", key=key)).status_code == 404
        assert (await ws.get(f"/v1/playbooks/by-context/{person['id']}", key=key)).status_code == 404
        listed = (await ws.get("/v1/playbooks", key=key)).json()["data"]
        assert private["id"] not in {b["id"] for b in listed}
    assert (await ws.get(f"/v1/playbooks/by-context/{person['id']}", key=mine)).json()["id"] == private["id"]
    assert [b["id"] for b in (await ws.get("/v1/playbooks?scope_type=3", key=mine)).json()["data"]] \
        == [private["id"]]
    # A shared brief of the same record is a separate document, and the one by-context prefers.
    shared = await compile_brief(ws, person["id"], key=theirs)
    assert shared["id"] != private["id"] and shared["scope_type"] == 1
    assert (await ws.get(f"/v1/playbooks/by-context/{person['id']}", key=mine)).json()["id"] == shared["id"]


async def test_another_workspace_sees_nothing(make_workspace: WorkspaceFactory) -> None:
    a, b = await make_workspace(), await make_workspace()
    person = (await a.post("/v1/objects/person", {"attributes": {"name": "Only A"}})).json()
    brief = await compile_brief(a, person["id"])
    assert (await b.post("/v1/playbooks/compile", {"context_id": person["id"]})).status_code == 404
    for path in (f"/v1/playbooks/{brief['id']}", f"/v1/playbooks/{brief['id']}/download",
                 f"/v1/playbooks/{brief['id']}/history", f"/v1/playbooks/by-context/{person['id']}"):
        assert (await b.get(path)).status_code == 404, path
    assert brief["id"] not in (await b.get("/v1/playbooks")).text
    assert (await a.get(f"/v1/playbooks/{brief['id']}")).status_code == 200


@pytest.mark.parametrize(("method", "path", "body", "status"), [
    ("POST", "/v1/playbooks/compile", {"context_id": 12}, 400),
    ("POST", "/v1/playbooks/compile", {"context_id": ""}, 400),
    ("POST", "/v1/playbooks/compile", {"context_id": "1", "extra": True}, 400),
    ("POST", "/v1/playbooks/compile", {"context_id": "1", "is_private": "yes"}, 400),
    ("POST", "/v1/playbooks/compile", {"is_private": True}, 400),
    ("POST", "/v1/playbooks/compile", {"context_id": "999999999"}, 404),
    ("POST", "/v1/playbooks/compile", {"context_id": "not-an-id"}, 404),
    ("GET", "/v1/playbooks?scope_type=4", None, 400),
    ("GET", "/v1/playbooks?limit=0", None, 400),
    ("GET", "/v1/playbooks?limit=201", None, 400),
    ("GET", "/v1/playbooks?offset=-1", None, 400),
    ("GET", "/v1/playbooks?colour=red", None, 400),
    ("GET", "/v1/playbooks/999999999", None, 404),
    ("GET", "/v1/playbooks/abc/download", None, 404),
    ("GET", "/v1/playbooks/999999999/history?limit=0", None, 400),
    ("GET", "/v1/playbooks/workspace/no-such-playbook", None, 404),
])
async def test_bad_input_is_a_clear_4xx(ws: Workspace, db: asyncpg.Connection, method: str, path: str,
                                        body: Any, status: int) -> None:
    response = await ws.request(method, path, json=body)
    assert response.status_code == status, response.text
    assert response.json()["code"] == status and response.json()["message"]
    assert await db.fetchval("SELECT count(*) FROM briefs WHERE workspace_id = $1 AND scope_type <> 2",
                             int(ws.id)) == 0


async def test_by_context_is_404_until_a_brief_is_compiled(ws: Workspace) -> None:
    person = (await ws.post("/v1/objects/person", {"attributes": {"name": "No Brief"}})).json()
    response = await ws.get(f"/v1/playbooks/by-context/{person['id']}")
    assert response.status_code == 404 and "compile" in response.json()["message"]
    await ws.delete(f"/v1/records/{person['id']}")
    assert (await ws.post("/v1/playbooks/compile", {"context_id": person["id"]})).status_code == 404


def rule(fingerprint: str, confidence: float, **changes: Any) -> NewRule:
    fields: dict[str, Any] = {
        "fingerprint": fingerprint, "pattern_id": None, "title": "Security review",
        "trigger": "a prospect raises a security review", "action": "send the SOC 2 report within a day",
        "evidence": [{"insight_id": "12", "quote": "they need a security review"}], "support": 12,
        "confidence": confidence, **changes}
    return NewRule(**fields)


async def add_rules(app: Any, ws: Workspace, *rules: NewRule) -> None:
    async with app.state.tessera.engine.begin() as conn:
        for item in rules:
            await upsert_rule(Tenant(conn, int(ws.id)), item, datetime.now(UTC))


async def test_the_workspace_playbook_lists_the_rules_and_follows_them(ws: Workspace, app: Any) -> None:
    assert (await ws.get("/v1/playbooks?scope_type=2")).json()["data"] == []
    await add_rules(app, ws, rule("security", 0.7), rule("pricing", 0.9, title="Pricing pushback",
                                                             trigger="a buyer says the price is too high",
                                                             action="offer the annual plan discount"))
    listed = (await ws.get("/v1/playbooks?scope_type=2")).json()["data"]
    assert [(b["slug"], b["scope_type"], b["version"]) for b in listed] == [("playbook", 2, 1)]
    playbook = (await ws.get("/v1/playbooks/workspace/playbook")).json()
    assert playbook["id"] == listed[0]["id"] and playbook["version"] == 1
    content = playbook["content"]
    assert content.index("Pricing pushback") < content.index("Security review")  # most confident first
    assert "**When** a prospect raises a security review, **then** send the SOC 2 report within a day" in content
    assert "Support: 12 · confidence 0.70" in content and "[insight 12]" in content
    await add_rules(app, ws, rule("security", 0.8, support=14))
    changed = (await ws.get("/v1/playbooks/workspace/playbook")).json()
    assert changed["version"] == 2 and "Support: 14 · confidence 0.80" in changed["content"]
    history = (await ws.get(f"/v1/playbooks/{changed['id']}/history")).json()["data"]
    assert history[0]["changes"]["changed"] == ["Security review"]
    # Compiling without a context_id compiles the playbook too (unchanged here).
    compiled = (await ws.post("/v1/playbooks/compile", {})).json()
    assert (compiled["id"], compiled["status"], compiled["version"]) == (changed["id"], "unchanged", 2)


async def test_enough_new_context_recompiles_a_brief_in_the_worker(ws: Workspace, worker: Any,
                                                                   db: asyncpg.Connection) -> None:
    person = (await ws.post("/v1/objects/person", {"attributes": {"name": "Rae Singh"}})).json()
    brief = await compile_brief(ws, person["id"])
    worker_deps = deps(worker.ctx)
    eager = worker_deps.settings.model_copy(update={"brief_refresh_threshold": 2, "brief_refresh_quiet_seconds": 0})
    ctx = {DEPS_KEY: dataclasses.replace(worker_deps, settings=eager)}
    from workers.brief_jobs import schedule_brief_refreshes

    later = datetime.now(UTC) + timedelta(minutes=5)
    await ws.post("/v1/notes", {"title": "Asked about SSO", "entity_id": person["id"]})
    await schedule_brief_refreshes(ctx, now=later)
    assert await db.fetchval("SELECT count(*) FROM brief_refreshes WHERE workspace_id = $1", int(ws.id)) == 0
    await ws.post("/v1/notes", {"title": "Wants a pilot in March", "entity_id": person["id"]})
    await schedule_brief_refreshes(ctx, now=later)
    deadline = time.monotonic() + 20
    while (row := await db.fetchrow("SELECT status, compiled, changed, brief_ids FROM brief_refreshes "
                                    "WHERE workspace_id = $1", int(ws.id)))["status"] != "completed":
        assert time.monotonic() < deadline, dict(row)
        await asyncio.sleep(0.1)
    assert (row["compiled"], row["changed"], list(row["brief_ids"])) == (1, 1, [int(brief["id"])])
    refreshed = (await ws.get(f"/v1/playbooks/{brief['id']}")).json()
    assert refreshed["version"] == 2 and "Wants a pilot in March" in refreshed["content"]
    # Considered now: the next sweep finds nothing due, and queues no second job.
    await schedule_brief_refreshes(ctx, now=later)
    assert await db.fetchval("SELECT count(*) FROM brief_refreshes WHERE workspace_id = $1", int(ws.id)) == 1
    # A finished job run again is skipped; a retried one (back to pending) writes no second version.
    from workers.brief_jobs import refresh_briefs

    row_id = await db.fetchval("SELECT id FROM brief_refreshes WHERE workspace_id = $1", int(ws.id))
    assert await refresh_briefs(worker.ctx, int(ws.id), row_id) == "skipped"
    await db.execute("UPDATE brief_refreshes SET status = 'pending' WHERE workspace_id = $1", int(ws.id))
    assert await refresh_briefs(worker.ctx, int(ws.id), row_id) == "completed"
    retried = await db.fetchrow("SELECT status, compiled, changed FROM brief_refreshes WHERE workspace_id = $1",
                                int(ws.id))
    assert tuple(retried) == ("completed", 1, 0)
    assert (await ws.get(f"/v1/playbooks/{brief['id']}")).json()["version"] == 2
