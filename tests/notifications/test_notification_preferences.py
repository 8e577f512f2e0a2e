"""Notification preferences: defaults, a PATCH round trip, and bad input refused without a write."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Workspace
from tests.spec import assert_matches


async def test_defaults_then_round_trip(ws: Workspace) -> None:
    first = await ws.get("/v1/notifications/preferences")
    assert first.status_code == 200
    assert_matches("developer.NotificationPreferencesResponse", first.json())
    assert first.json() == {"frequency_minutes": 15, "enabled_types": ["buying_signal", "risk", "stage_change"],
                            "digest_enabled": False}
    changed = await ws.patch("/v1/notifications/preferences",
                             {"frequency_minutes": 60, "enabled_types": ["risk", "objection", "risk"]})
    assert changed.status_code == 200, changed.text
    assert_matches("developer.NotificationPreferencesResponse", changed.json())
    assert changed.json() == {"frequency_minutes": 60, "enabled_types": ["risk", "objection"],
                              "digest_enabled": False}
    assert (await ws.get("/v1/notifications/preferences")).json() == changed.json()
    # digest_enabled and the "digest" type are one switch
    digest = (await ws.patch("/v1/notifications/preferences", {"digest_enabled": True})).json()
    assert digest == {"frequency_minutes": 60, "enabled_types": ["risk", "objection", "digest"],
                      "digest_enabled": True}
    off = (await ws.patch("/v1/notifications/preferences", {"enabled_types": ["risk"]})).json()
    assert off["digest_enabled"] is False and off["enabled_types"] == ["risk"]
    assert (await ws.patch("/v1/notifications/preferences", {})).json() == off
    none = (await ws.patch("/v1/notifications/preferences", {"enabled_types": [], "frequency_minutes": 0})).json()
    assert none == {"frequency_minutes": 0, "enabled_types": [], "digest_enabled": False}


@pytest.mark.parametrize("body", [
    {"frequency_minutes": -1}, {"frequency_minutes": 10_081}, {"frequency_minutes": "15"},
    {"frequency_minutes": 1.5}, {"enabled_types": ["risk", "weather"]}, {"enabled_types": "risk"},
    {"enabled_types": [1]}, {"digest_enabled": "yes"}, {"digest_enabled": True, "enabled_types": ["risk"]},
    {"unknown": 1}, [],
])
async def test_bad_bodies_are_400_and_change_nothing(ws: Workspace, body: Any) -> None:
    await ws.patch("/v1/notifications/preferences", {"frequency_minutes": 30})
    before = (await ws.get("/v1/notifications/preferences")).json()
    response = await ws.patch("/v1/notifications/preferences", body)
    assert response.status_code == 400, response.text
    assert response.json()["code"] == 400 and response.json()["message"]
    assert (await ws.get("/v1/notifications/preferences")).json() == before


async def test_a_body_is_required(ws: Workspace) -> None:
    response = await ws.request("PATCH", "/v1/notifications/preferences")
    assert response.status_code == 400 and response.json()["code"] == 400


async def test_unknown_type_is_named(ws: Workspace) -> None:
    response = await ws.patch("/v1/notifications/preferences", {"enabled_types": ["risk", "weather"]})
    assert "weather" in response.json()["message"]
    assert response.json()["errors"][0]["path"] == "enabled_types[1]"


async def test_scopes(ws: Workspace) -> None:
    reader = await ws.new_key(["notification.read"])
    assert (await ws.get("/v1/notifications/preferences", key=reader)).status_code == 200
    refused = await ws.patch("/v1/notifications/preferences", {"frequency_minutes": 5}, key=reader)
    assert refused.status_code == 403 and "notification.write" in refused.json()["message"]
    other = await ws.new_key(["record.read"])
    assert (await ws.get("/v1/notifications/feed", key=other)).status_code == 403


async def test_each_workspace_has_its_own(ws: Workspace, make_workspace: Any) -> None:
    other = await make_workspace("other")
    await ws.patch("/v1/notifications/preferences", {"frequency_minutes": 99})
    assert (await other.get("/v1/notifications/preferences")).json()["frequency_minutes"] == 15
