"""Custom notification rules: a description read into a rule, refused when unreadable or badly
scheduled, listed, read, deleted, and invisible to other workspaces."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest

from tests.conftest import Workspace, WorkspaceFactory
from tests.spec import assert_matches

SWITCH = "tell me when a customer mentions switching to a competitor"


async def test_create_read_list_delete(ws: Workspace) -> None:
    created = await ws.post("/v1/notifications/custom", {"description": SWITCH})
    assert created.status_code == 200, created.text
    rule = created.json()
    assert_matches("developer.CustomNotificationRuleResponse", rule)
    assert rule["prompt"] == SWITCH and rule["is_enabled"] is True and rule["schedule"] == "*/15 * * * *"
    assert rule["name"] == "A customer mentions switching to a competitor"
    assert "switching to a competitor" in rule["interpretation"]
    assert isinstance(rule["id"], str) and rule["created_at"].endswith("Z")
    fetched = await ws.get(f"/v1/notifications/custom/{rule['id']}")
    assert fetched.status_code == 200 and fetched.json() == rule
    other = (await ws.post("/v1/notifications/custom", {"description": "notify me about Kubernetes",
                                                        "name": "K8s", "schedule": "0 9 * * 1-5",
                                                        "is_enabled": False})).json()
    assert (other["name"], other["schedule"], other["is_enabled"]) == ("K8s", "0 9 * * 1-5", False)
    listed = await ws.get("/v1/notifications/custom")
    assert_matches("developer.ListCustomNotificationRulesResponse", listed.json())
    assert [r["id"] for r in listed.json()["rules"]] == [rule["id"], other["id"]]
    deleted = await ws.delete(f"/v1/notifications/custom/{rule['id']}")
    assert deleted.status_code == 200 and deleted.content == b""
    assert (await ws.get(f"/v1/notifications/custom/{rule['id']}")).status_code == 404
    again = await ws.delete(f"/v1/notifications/custom/{rule['id']}")
    assert again.status_code == 404 and again.json()["code"] == 404
    assert [r["id"] for r in (await ws.get("/v1/notifications/custom")).json()["rules"]] == [other["id"]]


@pytest.mark.parametrize(("body", "says"), [
    ({"description": "tell me"}, "names nothing to look for"),
    ({"description": "notify me about stuff"}, "names nothing to look for"),
    ({"description": "!!!"}, "names nothing to look for"),
    ({"description": SWITCH, "schedule": "61 * * * *"}, "minute field allows 0-59"),
    ({"description": SWITCH, "schedule": "* * *"}, "5 fields"),
    ({"description": SWITCH, "schedule": "0 0 31 2 *"}, "never fires"),
    ({"description": SWITCH, "schedule": "*/0 * * * *"}, "step"),
    ({"description": "x" * 1001}, "description"),
    ({"description": ""}, "description"),
    ({}, "description"),
    ({"description": 5}, "description"),
    ({"description": SWITCH, "extra": True}, "extra"),
])
async def test_bad_rules_are_400_saying_why_and_write_nothing(ws: Workspace, db: asyncpg.Connection,
                                                             body: Any, says: str) -> None:
    response = await ws.post("/v1/notifications/custom", body)
    assert response.status_code == 400, response.text
    text = response.text
    assert response.json()["code"] == 400 and says in text, text
    assert await db.fetchval("SELECT count(*) FROM notification_rules WHERE workspace_id = $1", int(ws.id)) == 0


async def test_unknown_and_malformed_ids_are_404(ws: Workspace) -> None:
    for raw in ("1", "abc", "99999999999999999999", "-1"):
        assert (await ws.get(f"/v1/notifications/custom/{raw}")).status_code == 404
        assert (await ws.delete(f"/v1/notifications/custom/{raw}")).status_code == 404


async def test_another_workspace_sees_none_of_it(ws: Workspace, make_workspace: WorkspaceFactory) -> None:
    other = await make_workspace("other")
    rule = (await ws.post("/v1/notifications/custom", {"description": SWITCH})).json()
    assert (await other.get(f"/v1/notifications/custom/{rule['id']}")).status_code == 404
    assert (await other.delete(f"/v1/notifications/custom/{rule['id']}")).status_code == 404
    assert (await other.get("/v1/notifications/custom")).json() == {"rules": []}
    assert (await ws.get(f"/v1/notifications/custom/{rule['id']}")).status_code == 200


async def test_scopes(ws: Workspace) -> None:
    reader = await ws.new_key(["notification.read"])
    refused = await ws.post("/v1/notifications/custom", {"description": SWITCH}, key=reader)
    assert refused.status_code == 403
    assert (await ws.get("/v1/notifications/custom", key=reader)).status_code == 200


async def test_rules_are_capped_per_workspace(ws: Workspace, app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    state = app.state.tessera
    lowered = state.settings.model_copy(update={"max_notification_rules_per_workspace": 2})
    monkeypatch.setattr(state, "settings", lowered)
    for _ in range(2):
        assert (await ws.post("/v1/notifications/custom", {"description": SWITCH})).status_code == 200
    refused = await ws.post("/v1/notifications/custom", {"description": SWITCH})
    assert refused.status_code == 409 and "MAX_NOTIFICATION_RULES_PER_WORKSPACE" in refused.json()["message"]
    first = (await ws.get("/v1/notifications/custom")).json()["rules"][0]
    await ws.delete(f"/v1/notifications/custom/{first['id']}")
    assert (await ws.post("/v1/notifications/custom", {"description": SWITCH})).status_code == 200
