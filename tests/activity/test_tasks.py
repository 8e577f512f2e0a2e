"""Tasks: fields, completion, entity links, filters, pagination, archive semantics."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Workspace, WorkspaceFactory
from tests.spec import assert_matches


async def _person(ws: Workspace, name: str = "Ann") -> str:
    return str((await ws.post("/v1/objects/person", {"attributes": {"name": name}})).json()["id"])


async def test_task_lifecycle(ws: Workspace) -> None:
    ann = await _person(ws)
    response = await ws.post("/v1/tasks", {
        "title": "Follow up", "description": "Discuss renewal", "priority": "high",
        "due_date": "2026-03-01T09:00:00+01:00", "entity_ids": [ann], "assignee_ids": ["50", "50", "51"]})
    assert response.status_code == 200, response.text
    task = response.json()
    assert_matches("developer.TaskResponse", task)
    assert task["due_date"] == "2026-03-01T08:00:00Z"
    assert task["entity_ids"] == [ann] and task["assignee_ids"] == ["50", "51"]
    assert task["priority"] == "high" and task["is_completed"] is False and "completed_at" not in task
    assert task["created_by"] == "developer_api" and task["created_by_id"]
    done = (await ws.patch(f"/v1/tasks/{task['id']}", {"is_completed": True})).json()
    assert done["is_completed"] is True and done["completed_at"] is not None
    reopened = (await ws.patch(f"/v1/tasks/{task['id']}", {"is_completed": False, "priority": "",
                                                           "description": ""})).json()
    assert "completed_at" not in reopened and reopened["priority"] == "unspecified"
    assert reopened["description"] == ""
    assert (await ws.delete(f"/v1/tasks/{task['id']}")).status_code == 200
    archived = (await ws.get(f"/v1/tasks/{task['id']}")).json()
    assert archived["archived_at"].endswith("Z")
    assert task["id"] not in [t["id"] for t in (await ws.get("/v1/tasks")).json()["data"]]
    assert task["id"] in [t["id"] for t in (await ws.get("/v1/tasks?include_archived=true")).json()["data"]]


@pytest.mark.parametrize("body", [
    {}, {"title": ""}, {"title": "   "}, {"title": "x", "priority": "critical"}, {"title": "x", "due_date": "tomorrow"},
    {"title": "x", "due_date": "2026-02-30T00:00:00Z"}, {"title": "x", "entity_ids": "1"},
    {"title": "x", "assignee_ids": [1]}, {"title": "x" * 501},
])
async def test_invalid_tasks_are_400(ws: Workspace, body: dict[str, object]) -> None:
    assert (await ws.post("/v1/tasks", body)).status_code == 400
    assert (await ws.get("/v1/tasks")).json()["total"] == 0


async def test_unknown_or_foreign_entity_is_404(ws: Workspace, make_workspace: WorkspaceFactory) -> None:
    other = await make_workspace()
    theirs = await _person(other)
    assert (await ws.post("/v1/tasks", {"title": "x", "entity_ids": [theirs]})).status_code == 404
    assert (await ws.post("/v1/tasks", {"title": "x", "entity_ids": ["123"]})).status_code == 404
    assert (await ws.get("/v1/tasks")).json()["total"] == 0
    task = (await other.post("/v1/tasks", {"title": "theirs"})).json()
    assert (await ws.get(f"/v1/tasks/{task['id']}")).status_code == 404
    assert (await ws.patch(f"/v1/tasks/{task['id']}", {"title": "mine"})).status_code == 404
    assert (await ws.delete(f"/v1/tasks/{task['id']}")).status_code == 404


async def test_filters_and_pagination(ws: Workspace) -> None:
    ann, bob = await _person(ws, "Ann"), await _person(ws, "Bob")
    made = []
    for i in range(7):
        body = {"title": f"Call #{i}", "description": "quarterly review" if i % 2 else "intro",
                "entity_ids": [ann] if i < 4 else [bob], "assignee_ids": ["u1"] if i % 3 == 0 else ["u2"]}
        made.append((await ws.post("/v1/tasks", body)).json()["id"])
    await ws.patch(f"/v1/tasks/{made[0]}", {"is_completed": True})
    listing = (await ws.get("/v1/tasks?limit=3")).json()
    assert_matches("developer.ListTasksResponse", listing)
    assert listing["total"] == 7 and listing["has_more"] is True and listing["next_offset"] == 3
    assert [t["id"] for t in listing["data"]] == made[::-1][:3]
    rest = (await ws.get("/v1/tasks?limit=3&offset=6")).json()
    assert rest["has_more"] is False and "next_offset" not in rest and len(rest["data"]) == 1
    assert (await ws.get(f"/v1/tasks?entity_id={ann}")).json()["total"] == 4
    assert (await ws.get("/v1/tasks?assignee_id=u1")).json()["total"] == 3
    assert (await ws.get("/v1/tasks?is_completed=true")).json()["total"] == 1
    assert (await ws.get("/v1/tasks?is_completed=false")).json()["total"] == 6
    assert (await ws.get("/v1/tasks?search=QUARTERLY")).json()["total"] == 3
    assert (await ws.get("/v1/tasks?search=%25")).json()["total"] == 0
    combined = (await ws.get(f"/v1/tasks?entity_id={bob}&search=review&is_completed=false")).json()
    assert combined["total"] == 1
    for bad in ("limit=0", "limit=501", "offset=-1", "is_completed=maybe", "bogus=1"):
        assert (await ws.get(f"/v1/tasks?{bad}")).status_code == 400, bad


async def test_totals_stop_at_the_cap_and_paging_goes_on(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    from tessera.tasks import repository

    monkeypatch.setattr(repository, "COUNT_CAP", 4)
    made = [(await ws.post("/v1/tasks", {"title": f"T{i}"})).json()["id"] for i in range(6)]
    first = (await ws.get("/v1/tasks?limit=3")).json()
    assert first["total"] == 4 and first["has_more"] is True and first["next_offset"] == 3
    beyond = (await ws.get("/v1/tasks?limit=2&offset=4")).json()
    assert [t["id"] for t in beyond["data"]] == made[::-1][4:] and beyond["has_more"] is False
    middle = (await ws.get("/v1/tasks?limit=2&offset=2")).json()
    assert middle["has_more"] is True and middle["next_offset"] == 4


async def test_few_matches_are_gathered_first_with_the_same_answers(ws: Workspace,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Below the cap the matches are gathered through their indexes, then sorted; above it the id
    index is walked. Both plans give the same pages."""
    from tessera.tasks import repository

    ann = await _person(ws, "Ann")
    for i in range(9):
        await ws.post("/v1/tasks", {"title": f"{'Renewal call' if i % 3 else 'Invoice'} {i}",
                                    "entity_ids": [ann] if i % 2 else []})
    queries = ["search=renewal", f"entity_id={ann}", f"search=call&entity_id={ann}", "search=nothing-like-it", ""]
    answers = {}
    for plan, few in (("gather", repository.FEW), ("walk", 0)):
        monkeypatch.setattr(repository, "FEW", few)
        answers[plan] = [[(await ws.get(f"/v1/tasks?{q}&limit=2&offset={o}")).json() for o in (0, 2, 4)]
                         for q in queries]
    assert answers["gather"] == answers["walk"]
    assert [t["title"] for t in answers["gather"][0][0]["data"]] == ["Renewal call 8", "Renewal call 7"]
    assert answers["gather"][0][0]["total"] == 6 and answers["gather"][1][0]["total"] == 4


async def test_replacing_entities(ws: Workspace) -> None:
    ann, bob = await _person(ws, "Ann"), await _person(ws, "Bob")
    task = (await ws.post("/v1/tasks", {"title": "t", "entity_ids": [ann]})).json()
    updated = (await ws.patch(f"/v1/tasks/{task['id']}", {"entity_ids": [bob]})).json()
    assert updated["entity_ids"] == [bob]
    assert (await ws.get(f"/v1/tasks?entity_id={ann}")).json()["total"] == 0
    await ws.delete(f"/v1/records/{bob}")
    assert (await ws.get(f"/v1/tasks/{task['id']}")).json()["entity_ids"] == []


async def test_a_bulk_load_gets_fresh_planner_statistics(ws: Workspace, db: Any, settings: Any) -> None:
    """The worker's cron re-analyzes a table a bulk load has changed (here: 12,000 tasks)."""
    import asyncio

    from workers.lifecycle import analyze_after_bulk_writes, shutdown, startup

    def stats() -> Any:
        return db.fetchrow("SELECT n_mod_since_analyze, coalesce(last_analyze, last_autoanalyze) AS at "
                           "FROM pg_stat_user_tables WHERE relname = 'tasks'")

    await db.execute("INSERT INTO tasks (workspace_id, id, title, created_by, created_by_id) "
                     "SELECT $1, 9000000000000 + n, 'bulk ' || n, 'developer_api', 'bench' "
                     "FROM generate_series(1, 12000) AS n", int(ws.id))
    for _ in range(50):  # statistics counters reach pg_stat_user_tables within a second or so
        if (await stats())["n_mod_since_analyze"] >= 12000:
            break
        await asyncio.sleep(0.1)
    ctx: dict[str, Any] = {"settings": settings}
    await startup(ctx)  # a worker's engine: not bound to one workspace
    try:
        await analyze_after_bulk_writes(ctx)
    finally:
        await shutdown(ctx)
    after = await stats()
    assert after["n_mod_since_analyze"] < 12000 and after["at"] is not None
