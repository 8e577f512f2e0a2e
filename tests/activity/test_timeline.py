"""Record timelines: events of the record, its list entries, tasks and notes; cursors; bursts;
attribute history and the $changed operator."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.conftest import FakeClock, Workspace, WorkspaceFactory
from tests.spec import assert_matches


async def _walk(ws: Workspace, record_id: str, limit: int, aggregate: bool = False) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = f"limit={limit}&aggregate={'true' if aggregate else 'false'}" + (f"&cursor={cursor}" if cursor else "")
        page = (await ws.get(f"/v1/records/{record_id}/timeline?{query}")).json()
        seen.extend(page["data"])
        if not page["has_next_page"]:
            return seen
        cursor = page["next_cursor"]


async def test_timeline_collects_all_activity(ws: Workspace) -> None:
    rid = (await ws.post("/v1/objects/person", {"attributes": {"name": "Tia", "job_title": "A"}})).json()["id"]
    await ws.patch(f"/v1/records/{rid}", {"attributes": {"job_title": "B"}})
    lst = (await ws.post("/v1/objects/person/lists", {"name": "L", "slug": "l"})).json()
    await ws.post(f"/v1/lists/{lst['id']}", {"parent_id": rid})
    task = (await ws.post("/v1/tasks", {"title": "Call", "entity_ids": [rid]})).json()
    await ws.delete(f"/v1/tasks/{task['id']}")
    await ws.post("/v1/notes", {"title": "Met", "content": "hi", "entity_id": rid})
    page = (await ws.get(f"/v1/records/{rid}/timeline")).json()
    assert_matches("developer.TimelineResponse", page)
    kinds = [(e["resource_type"], e["event_type"]) for e in page["data"]]
    assert kinds == [("note", "created"), ("task", "archived"), ("task", "created"), ("list_item", "created"),
                     ("entity", "updated"), ("entity", "created")]
    updated = page["data"][4]
    assert updated["event_payload"]["field_changes"] == [{"field_name": "job_title", "old_value": "A",
                                                          "new_value": "B"}]
    assert updated["event_payload"]["entity"]["name"] == "Tia"
    assert page["data"][2]["event_payload"]["task"]["title"] == "Call"
    assert page["data"][0]["created_by"] == "developer_api"


async def test_cursor_walks_every_event_once_under_concurrent_writes(ws: Workspace) -> None:
    rid = (await ws.post("/v1/objects/person", {"attributes": {"name": "Busy"}})).json()["id"]
    for i in range(30):
        await ws.patch(f"/v1/records/{rid}", {"attributes": {"job_title": f"t{i}"}})
    before = {e["id"] for e in await _walk(ws, rid, 100)}
    assert len(before) == 31

    async def writer() -> None:
        for i in range(20):
            await ws.patch(f"/v1/records/{rid}", {"attributes": {"job_title": f"w{i}"}})

    walked, _ = await asyncio.gather(_walk(ws, rid, 4), writer())
    ids = [e["id"] for e in walked]
    assert len(ids) == len(set(ids)), "an event was returned twice"
    assert before <= set(ids), "an event that existed before the walk was skipped"
    assert ids == sorted(ids, key=int, reverse=True)


async def test_cursor_is_bound_to_workspace_and_record(ws: Workspace, make_workspace: WorkspaceFactory) -> None:
    rid = (await ws.post("/v1/objects/person", {"attributes": {"name": "A"}})).json()["id"]
    for i in range(3):
        await ws.patch(f"/v1/records/{rid}", {"attributes": {"job_title": f"t{i}"}})
    cursor = (await ws.get(f"/v1/records/{rid}/timeline?limit=1")).json()["next_cursor"]
    other_record = (await ws.post("/v1/objects/person", {"attributes": {"name": "B"}})).json()["id"]
    assert (await ws.get(f"/v1/records/{other_record}/timeline?cursor={cursor}")).status_code == 400
    assert (await ws.get(f"/v1/records/{rid}/timeline?cursor={cursor[:-2]}xx")).status_code == 400
    other = await make_workspace()
    assert (await other.get(f"/v1/records/{rid}/timeline")).status_code == 404
    for bad in ("limit=0", "limit=101"):
        assert (await ws.get(f"/v1/records/{rid}/timeline?{bad}")).status_code == 400


async def test_bursts_are_folded(ws: Workspace, fake_clock: FakeClock) -> None:
    rid = (await ws.post("/v1/objects/person", {"attributes": {"name": "Agg", "job_title": "v0"}})).json()["id"]
    for i in range(1, 4):
        await ws.patch(f"/v1/records/{rid}", {"attributes": {"job_title": f"v{i}"}})
    fake_clock.advance(120)
    await ws.patch(f"/v1/records/{rid}", {"attributes": {"job_title": "late"}})
    events = (await ws.get(f"/v1/records/{rid}/timeline")).json()["data"]
    assert [e["is_aggregated"] for e in events] == [False, True, False]
    burst = events[1]
    assert len(burst["children"]) == 3
    assert burst["event_payload"]["field_changes"] == [{"field_name": "job_title", "old_value": "v0",
                                                        "new_value": "v3"}]
    flat = await _walk(ws, rid, 50, aggregate=False)
    assert len(flat) == 5


async def test_attribute_history_and_changed_operator(ws: Workspace, fake_clock: FakeClock) -> None:
    await ws.post("/v1/objects", {"name": "Deal", "slug": "deal", "type": "deal"})
    await ws.post("/v1/objects/deal/attributes", {
        "name": "Stage", "slug": "stage", "type": "select",
        "options": {"select_options": [{"name": "Open"}, {"name": "Won"}, {"name": "Lost"}]}})
    await ws.post("/v1/objects/deal/attributes", {"name": "Name", "slug": "name", "type": "text"})
    won_late = (await ws.post("/v1/objects/deal", {"attributes": {"name": "A", "stage": "Open"}})).json()["id"]
    won_early = (await ws.post("/v1/objects/deal", {"attributes": {"name": "B", "stage": "Open"}})).json()["id"]
    lost = (await ws.post("/v1/objects/deal", {"attributes": {"name": "C", "stage": "Open"}})).json()["id"]
    await ws.patch(f"/v1/records/{won_early}", {"attributes": {"stage": "Won"}})
    await ws.patch(f"/v1/records/{won_early}", {"attributes": {"stage": "Lost"}})
    fake_clock.advance(86_400 * 10)
    await ws.patch(f"/v1/records/{won_late}", {"attributes": {"stage": "Won"}})
    await ws.patch(f"/v1/records/{lost}", {"attributes": {"stage": "Lost"}})

    history = (await ws.get(f"/v1/records/{won_early}/attributes/stage/history")).json()["data"]
    assert [h["value"] for h in history] == ["Open", "Won", "Lost"]
    assert history[0]["active_until"] == history[1]["active_from"]
    assert history[-1]["active_until"] is None
    assert all(h["actor"]["type"] == "developer_api" for h in history)

    from datetime import UTC, datetime, timedelta

    since = (datetime.now(UTC) + timedelta(days=5)).date().isoformat()

    async def matching(changed: dict[str, Any]) -> set[str]:
        body = {"filter": {"stage": {"$changed": changed}}}
        response = await ws.post("/v1/objects/deal/records", body)
        assert response.status_code == 200, response.text
        return {r["id"] for r in response.json()["data"]}

    assert await matching({"to": "Won"}) == {won_early, won_late}
    assert await matching({"to": "Won", "since": since}) == {won_late}
    assert await matching({"from": "Open", "to": "Lost"}) == {lost}
    assert await matching({"from": "Won"}) == {won_early}
    assert (await ws.post("/v1/objects/deal/records", {"filter": {"stage": {"$changed": {"to": "Nope"}}}})
            ).status_code == 400
    assert (await ws.get(f"/v1/records/{won_early}/attributes/nope/history")).status_code == 404
