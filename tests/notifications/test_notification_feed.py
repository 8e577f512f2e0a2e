"""The feed, end to end with a real worker: a custom rule raises an item for a matching artifact
and none for another, context alerts follow the enabled types, ``since`` and ``limit`` page the
feed, a repeated run never duplicates, and each workspace sees only its own items."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest

from tests.conftest import Workspace, WorkspaceFactory
from tests.notifications.notification_waiting import feed, feed_until, processed, run_done
from tests.spec import assert_matches

pytestmark = pytest.mark.usefixtures("worker")

SWITCH = "tell me when a customer mentions switching to a competitor"
MATCHING = "Acme's CTO said they are evaluating a move to Salesforce next quarter."
NOT_MATCHING = "Acme renewed for two years."
RISKY = ("Globex signed the contract yesterday and wants to move forward with the pilot. "
         "Their CFO warned that the budget is at risk and they might cancel next quarter.")


def _rule_items(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [i for i in items if i["type"] == "custom_rule"]


async def _quiet(ws: Workspace) -> None:
    """No context alerts (the rule under test is then the only source of items)."""
    assert (await ws.patch("/v1/notifications/preferences", {"enabled_types": []})).status_code == 200


async def test_a_custom_rule_raises_an_item_for_a_matching_artifact_only(ws: Workspace,
                                                                        db: asyncpg.Connection) -> None:
    await _quiet(ws)
    rule = (await ws.post("/v1/notifications/custom", {"description": SWITCH})).json()
    quiet = await processed(ws, NOT_MATCHING)
    assert (await run_done(db, ws, quiet))["status"] == "completed"
    assert await feed(ws) == []
    artifact_id = await processed(ws, MATCHING)
    run = await run_done(db, ws, artifact_id)
    assert run["status"] == "completed" and run["items_created"] == 1
    (item,) = await feed(ws)
    assert_matches("developer.NotificationFeedResponse", {"items": [item]})
    assert item["type"] == "custom_rule" and item["status"] == "unread"
    content = item["content"]
    assert content["rule_id"] == rule["id"] and content["source"] == f"artifact:{artifact_id}"
    assert content["important_items"], content
    assert all(entry["artifact_id"] == str(artifact_id) for entry in content["important_items"])
    assert any("Salesforce" in entry["content"] for entry in content["important_items"])
    assert all("switching to a competitor" in entry["reason"] for entry in content["important_items"])


@pytest.mark.parametrize("text", [
    "They plan to migrate to HubSpot after the summer.",
    "Initech told us they are looking at alternative vendors for next year.",
    "Umbrella might take their business elsewhere if the price goes up.",
])
async def test_paraphrases_match(ws: Workspace, db: asyncpg.Connection, text: str) -> None:
    await _quiet(ws)
    await ws.post("/v1/notifications/custom", {"description": SWITCH})
    await run_done(db, ws, await processed(ws, text))
    assert len(_rule_items(await feed(ws))) == 1


async def test_a_repeated_run_never_duplicates(ws: Workspace, db: asyncpg.Connection, worker: Any) -> None:
    await _quiet(ws)
    await ws.post("/v1/notifications/custom", {"description": SWITCH})
    artifact_id = await processed(ws, MATCHING)
    await run_done(db, ws, artifact_id)
    assert len(await feed(ws)) == 1
    # The run is done again from scratch (as after a crash between its commit and its report).
    run_id = await db.fetchval("UPDATE notification_runs SET status = 'pending' WHERE workspace_id = $1 "
                               "AND artifact_id = $2 RETURNING id", int(ws.id), artifact_id)
    from workers.notification_jobs import evaluate_notifications

    assert await evaluate_notifications(worker.ctx, int(ws.id), run_id) == "completed"
    assert len(await feed(ws)) == 1
    assert await db.fetchval("SELECT count(*) FROM notifications WHERE workspace_id = $1", int(ws.id)) == 1


async def test_context_alerts_follow_the_enabled_types(ws: Workspace, db: asyncpg.Connection) -> None:
    assert (await ws.patch("/v1/notifications/preferences",
                           {"enabled_types": ["risk"], "frequency_minutes": 0})).status_code == 200
    artifact_id = await processed(ws, RISKY)
    await run_done(db, ws, artifact_id)
    (alert,) = await feed_until(ws, lambda items: any(i["type"] == "context_alert" for i in items))
    assert alert["type"] == "context_alert"
    cited = alert["content"]["important_items"]
    assert cited and {c["type"] for c in cited} == {"risk"}, cited
    assert all(c["artifact_id"] == str(artifact_id) and c["insight_id"] for c in cited)
    # buying signals only: the next batch has no risk (and no risk is ever alerted twice)
    await ws.patch("/v1/notifications/preferences", {"enabled_types": ["buying_signal"]})
    second = await processed(ws, "Initech wants to move forward with the pilot and asked for a formal quote.")
    await run_done(db, ws, second)
    items = await feed_until(ws, lambda items: len(items) == 2)
    newest = items[0]["content"]["important_items"]
    assert {c["type"] for c in newest} == {"buying_signal"}
    assert str(second) in {c["artifact_id"] for c in newest}


async def test_no_alert_types_no_alerts(ws: Workspace, db: asyncpg.Connection) -> None:
    await ws.patch("/v1/notifications/preferences", {"enabled_types": [], "frequency_minutes": 0})
    await run_done(db, ws, await processed(ws, RISKY))
    assert await feed(ws) == []


async def test_frequency_bounds_the_batches(ws: Workspace, db: asyncpg.Connection) -> None:
    await ws.patch("/v1/notifications/preferences", {"enabled_types": ["risk"], "frequency_minutes": 60})
    await run_done(db, ws, await processed(ws, RISKY))
    await feed_until(ws, lambda items: len(items) == 1)
    await run_done(db, ws, await processed(ws, "Umbrella is unhappy with the outage and may churn."))
    assert len(await feed(ws)) == 1  # held for the next batch, an hour after the first


async def test_stage_changes_raise_alerts(ws: Workspace) -> None:
    await ws.patch("/v1/notifications/preferences", {"enabled_types": ["stage_change"], "frequency_minutes": 0})
    assert (await ws.post("/v1/objects/company/attributes",
                          {"name": "Stage", "slug": "stage", "type": "text"})).status_code == 200
    record = (await ws.post("/v1/objects/company", {"attributes": {"name": "Acme", "stage": "Lead"}})).json()
    assert (await ws.patch(f"/v1/records/{record['id']}", {"attributes": {"stage": "Won"}})).status_code == 200
    await ws.patch(f"/v1/records/{record['id']}", {"attributes": {"description": "Not a stage"}})
    items = await feed_until(ws, lambda items: any(i["content"]["entity_changes"] for i in items))
    changes = [c for i in items for c in i["content"]["entity_changes"]]
    assert [(c["record_id"], c["field"], c["old_value"], c["new_value"]) for c in changes] == [
        (record["id"], "stage", "Lead", "Won")]
    assert changes[0]["timeline_event_id"] and changes[0]["name"] == "Acme"


async def test_since_and_limit_page_the_feed_and_mark_read(ws: Workspace, db: asyncpg.Connection) -> None:
    await _quiet(ws)
    for description in (SWITCH, "notify me when Salesforce is mentioned", "alert me when someone mentions a move"):
        assert (await ws.post("/v1/notifications/custom", {"description": description})).status_code == 200
    await run_done(db, ws, await processed(ws, MATCHING))
    everything = await feed(ws)
    assert len(everything) == 3 and all(i["status"] == "unread" for i in everything)
    assert [i["sent_at"] for i in everything] == sorted((i["sent_at"] for i in everything), reverse=True)
    assert len({i["sent_at"] for i in everything}) == 3
    newest_two = await feed(ws, "?limit=2")
    assert [i["id"] for i in newest_two] == [i["id"] for i in everything[:2]]
    oldest = everything[-1]
    after = await feed(ws, f"?since={oldest['sent_at']}&limit=1")
    assert [i["id"] for i in after] == [everything[1]["id"]]
    rest = await feed(ws, f"?since={after[0]['sent_at']}")
    assert [i["id"] for i in rest] == [everything[0]["id"]]
    statuses = {i["id"]: i["status"] for i in await feed(ws)}
    assert statuses == {oldest["id"]: "read", everything[1]["id"]: "read", everything[0]["id"]: "unread"}
    for bad in ("?limit=0", "?limit=51", "?limit=x", "?since=yesterday", "?since=2026-13-01T00:00:00Z", "?x=1"):
        response = await ws.get("/v1/notifications/feed" + bad)
        assert response.status_code == 400, (bad, response.text)


async def test_workspaces_see_only_their_own_feed(ws: Workspace, make_workspace: WorkspaceFactory,
                                                  db: asyncpg.Connection) -> None:
    other = await make_workspace("other")
    for each in (ws, other):
        await _quiet(each)
    await ws.post("/v1/notifications/custom", {"description": SWITCH})
    await run_done(db, ws, await processed(ws, MATCHING))
    # the other workspace says the same thing but has no rule: nothing for it, nothing of ws's
    await run_done(db, other, await processed(other, MATCHING))
    assert len(await feed(ws)) == 1
    assert await feed(other) == []


async def test_notification_webhooks(ws: Workspace, db: asyncpg.Connection) -> None:
    from tests.receiver import running_receiver

    await _quiet(ws)
    async with running_receiver() as receiver:
        hook = await ws.post("/v1/webhooks", {"url": receiver.url, "events": ["notification.created"]})
        assert hook.status_code == 200, hook.text
        await ws.post("/v1/notifications/custom", {"description": SWITCH})
        await run_done(db, ws, await processed(ws, MATCHING))
        await receiver.wait_for(1, within=20)
        import orjson

        body = orjson.loads(receiver.requests[0].body)
        (item,) = await feed(ws)
        assert body["type"] == "notification.created" and body["data"]["id"] == item["id"]
        assert body["data"]["content"]["rule_id"] == item["content"]["rule_id"]


async def test_a_key_may_subscribe_only_with_notification_read(ws: Workspace) -> None:
    key = await ws.new_key(["webhook.write", "webhook.read"])
    refused = await ws.post("/v1/webhooks", {"url": "https://example.com/h", "events": ["notification.created"]},
                            key=key)
    assert refused.status_code == 403 and "notification.read" in refused.json()["message"]


async def test_digest(ws: Workspace, db: asyncpg.Connection) -> None:
    await ws.patch("/v1/notifications/preferences", {"enabled_types": ["digest"], "frequency_minutes": 0})
    await run_done(db, ws, await processed(ws, RISKY))
    items = await feed_until(ws, lambda items: any(i["type"] == "digest" for i in items))
    digest = next(i for i in items if i["type"] == "digest")
    assert digest["content"]["important_items"] and digest["content"]["title"].startswith("Digest")
    assert all(c["kind"] == "insight" and c["insight_id"] for c in digest["content"]["important_items"])


async def test_scheduled_rules_read_record_changes_and_notes(ws: Workspace, db: asyncpg.Connection) -> None:
    await _quiet(ws)
    k8s = (await ws.post("/v1/notifications/custom", {"description": "let me know when Kubernetes is mentioned",
                                                      "schedule": "0 * * * *"})).json()
    stage = (await ws.post("/v1/notifications/custom", {"description": "tell me when a deal stage changes",
                                                        "schedule": "@daily"})).json()
    due = await db.fetchval("SELECT next_run_at FROM notification_rules WHERE workspace_id = $1 AND id = $2",
                            int(ws.id), int(k8s["id"]))
    assert due.minute == 0 and due.second == 0
    await ws.post("/v1/objects/company/attributes", {"name": "Stage", "slug": "stage", "type": "text"})
    record = (await ws.post("/v1/objects/company", {"attributes": {"name": "Acme", "stage": "Lead"}})).json()
    await ws.patch(f"/v1/records/{record['id']}", {"attributes": {"stage": "Won"}})
    note = (await ws.post("/v1/notes", {"title": "Infra call", "content": "They run Kubernetes on bare metal.",
                                        "entity_id": record["id"]})).json()
    await ws.post("/v1/notes", {"title": "Other", "content": "Lunch was good."})
    # their schedules come due (the hour, the day): the worker's next sweep evaluates them
    await db.execute("UPDATE notification_rules SET next_run_at = now() WHERE workspace_id = $1", int(ws.id))
    items = await feed_until(ws, lambda items: len(items) == 2)
    by_rule = {i["content"]["rule_id"]: i for i in items}
    (cited,) = by_rule[k8s["id"]]["content"]["important_items"]
    assert cited["kind"] == "note" and cited["note_id"] == note["id"] and "Kubernetes" in cited["content"]
    (change,) = by_rule[stage["id"]]["content"]["entity_changes"]
    assert (change["record_id"], change["field"], change["new_value"]) == (record["id"], "stage", "Won")
    later = await db.fetchval("SELECT next_run_at FROM notification_rules WHERE workspace_id = $1 AND id = $2",
                              int(ws.id), int(stage["id"]))
    assert later.hour == 0 and later.minute == 0
