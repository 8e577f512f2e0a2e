"""Every route in the route table refuses a key that lacks its scope (403 naming the scope).
Generated from the table, so new routes are covered without touching this file."""

from __future__ import annotations

import re

import pytest

from tessera.routes import ENDPOINTS
from tessera.scopes import SCOPES
from tests.conftest import Workspace, WorkspaceFactory

_PARAM = re.compile(r"{[^}]+}")


@pytest.fixture(scope="module")
async def keys_without(make_workspace: WorkspaceFactory) -> tuple[Workspace, dict[str, str]]:
    ws = await make_workspace()
    keys = {}
    for scope in sorted({e.scope for e in ENDPOINTS}):
        keys[scope] = await ws.new_key([s for s in SCOPES if s != scope])
    return ws, keys


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: f"{e.method} {e.path}")
async def test_route_refuses_key_without_its_scope(endpoint: object, keys_without: tuple[Workspace, dict[str, str]]
                                                   ) -> None:
    ws, keys = keys_without
    path = _PARAM.sub("1", endpoint.path)  # type: ignore[attr-defined]
    response = await ws.request(endpoint.method, path, key=keys[endpoint.scope], json={})  # type: ignore[attr-defined]
    assert response.status_code == 403, response.text
    assert endpoint.scope in response.json()["message"]  # type: ignore[attr-defined]


def test_every_route_declares_a_known_scope() -> None:
    assert all(e.scope in SCOPES for e in ENDPOINTS)
