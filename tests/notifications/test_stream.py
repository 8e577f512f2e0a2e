"""Feed items on the insight stream: a ``notification.created`` event for keys that may read
notifications, nothing for those that may not."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from tests.conftest import WorkspaceFactory
from tests.context.test_stream import next_event, servers, stream

pytestmark = pytest.mark.usefixtures("worker")
__all__ = ["servers"]  # the API processes the stream is read from (a module fixture)


async def _events_until(lines: Any, wanted: str, within: float = 40) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            event = await next_event(lines, within=max(0.5, deadline - time.monotonic()))
        except (AssertionError, TimeoutError):
            break
        seen.append(event)
        if event.get("event") == wanted:
            break
    return seen


async def test_feed_items_are_streamed_to_keys_that_may_read_them(servers: list[str],
                                                                   make_workspace: WorkspaceFactory) -> None:
    ws = await make_workspace()
    await ws.patch("/v1/notifications/preferences", {"enabled_types": []})
    rule = (await ws.post("/v1/notifications/custom",
                          {"description": "tell me when a customer mentions switching to a competitor"})).json()
    insights_only = await ws.new_key(["insight.stream"])
    async with stream(servers[0], ws.key) as response, stream(servers[1], insights_only) as other:
        lines, other_lines = response.aiter_lines(), other.aiter_lines()
        async with httpx.AsyncClient() as http:
            posted = await http.post(servers[1] + "/api/developers/v1/context/text",
                                     json={"content": "Acme's CTO said they are evaluating a move to Salesforce."},
                                     headers={"Authorization": f"Bearer {ws.key}"})
            assert posted.status_code == 200
        events = await _events_until(lines, "notification.created")
        assert events and events[-1]["event"] == "notification.created", events
        item = events[-1]["data"]
        assert item["type"] == "custom_rule" and item["content"]["rule_id"] == rule["id"]
        assert "id" not in events[-1]  # Last-Event-ID stays an insight id
        feed = (await ws.get("/v1/notifications/feed")).json()["items"]
        assert [i["id"] for i in feed] == [item["id"]]
        others = await _events_until(other_lines, "notification.created", within=3)
        assert "notification.created" not in {e.get("event") for e in others}
