"""The vendor MCP client's brief, playbook and skill tools (``nex-crm/wuphf`` ``mcp/dist/tools/``
``playbooks.js``, ``skills.js``, ``brief-sync.js``, ``skill-sync.js``) against Tessera: each tool's
exact HTTP calls (paths, query strings as ``URLSearchParams`` builds them, bodies) and the fields it
reads from the answers."""

from __future__ import annotations

import re
from typing import Any

import httpx
import orjson

from tests.compounding.test_briefs import add_rules, rule
from tests.conftest import Workspace


async def call(ws: Workspace, method: str, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
    """As ``client.js`` sends it: Bearer key, a JSON body with its content type only when there is one."""
    headers = {"Authorization": f"Bearer {ws.key}"}
    content = None
    if body is not None:
        headers["Content-Type"] = "application/json"
        content = orjson.dumps(body)
    return await ws.http.request(method, "/api/developers" + path, headers=headers, content=content)


async def get_json(ws: Workspace, path: str) -> Any:
    response = await call(ws, "GET", path)
    assert response.status_code == 200, (path, response.text)
    return response.json()


async def get_raw(ws: Workspace, path: str) -> str:
    """``client.getRaw``: the body as text."""
    response = await call(ws, "GET", path)
    assert response.status_code == 200, (path, response.text)
    return response.text


def slugify(title: str) -> str:
    """brief-sync.js's file name for an entity or private brief."""
    out = re.sub(r"[^a-z0-9\s-]", "", title.lower())
    return re.sub(r"-+", "-", re.sub(r"\s+", "-", out))[:80]


async def test_playbook_tools(ws: Workspace, app: Any) -> None:
    person = (await ws.post("/v1/objects/person", {"attributes": {"name": "Dana Ruiz"}})).json()
    # get_entity_brief before any compile: a 404 the tool turns into "No brief exists ... yet".
    assert (await call(ws, "GET", f"/v1/playbooks/by-context/{person['id']}")).status_code == 404
    # compile_brief: {"context_id"}, and {"context_id", "is_private": true}.
    shared = (await call(ws, "POST", "/v1/playbooks/compile", {"context_id": person["id"]})).json()
    private = (await call(ws, "POST", "/v1/playbooks/compile", {"context_id": person["id"], "is_private": True})).json()
    assert shared["scope_type"] == 1 and private["scope_type"] == 3 and shared["id"] != private["id"]
    await add_rules(app, ws, rule("security", 0.7))
    # list_briefs: no parameters, each alone, and all three in URLSearchParams order.
    everything = await get_json(ws, "/v1/playbooks")
    assert {b["scope_type"] for b in everything["data"]} == {1, 2, 3}
    assert [b["id"] for b in (await get_json(ws, "/v1/playbooks?scope_type=1"))["data"]] == [shared["id"]]
    assert len((await get_json(ws, "/v1/playbooks?limit=2"))["data"]) == 2
    assert len((await get_json(ws, "/v1/playbooks?offset=2"))["data"]) == 1
    page = await get_json(ws, "/v1/playbooks?scope_type=2&limit=10&offset=0")
    assert [b["slug"] for b in page["data"]] == ["playbook"]
    # get_brief, get_entity_brief, get_workspace_playbook, download_brief.
    assert (await get_json(ws, f"/v1/playbooks/{shared['id']}"))["content"] == shared["content"]
    assert (await get_json(ws, f"/v1/playbooks/by-context/{person['id']}"))["id"] == shared["id"]
    playbook = await get_json(ws, "/v1/playbooks/workspace/playbook")
    assert playbook["scope_type"] == 2 and "Security review" in playbook["content"]
    assert (await get_raw(ws, f"/v1/playbooks/{playbook['id']}/download")).startswith("# Workspace playbook")
    # get_brief_history: without and with limit.
    assert [v["version"] for v in (await get_json(ws, f"/v1/playbooks/{shared['id']}/history"))["data"]] == [1]
    assert len((await get_json(ws, f"/v1/playbooks/{shared['id']}/history?limit=1"))["data"]) == 1


async def test_brief_sync_tools(ws: Workspace, app: Any) -> None:
    person = (await ws.post("/v1/objects/person", {"attributes": {"name": "Lenny Ortiz"}})).json()
    await call(ws, "POST", "/v1/playbooks/compile", {"context_id": person["id"]})
    await call(ws, "POST", "/v1/playbooks/compile", {"context_id": person["id"], "is_private": True})
    await add_rules(app, ws, rule("security", 0.7))
    # sync_briefs: the list, then each brief's download, filed by scope_type under slug or title.
    synced = await get_json(ws, "/v1/playbooks?limit=200")
    files: dict[str, str] = {}
    for brief in synced["data"]:
        assert isinstance(brief["id"], str) and isinstance(brief["input_hash"], str) and brief["updated_at"]
        folder = {2: "workspace", 3: "private"}.get(brief["scope_type"], "entities")
        name = brief["slug"] if brief["scope_type"] == 2 and brief["slug"] else slugify(brief["title"])
        files[f"{folder}/{name}.md"] = await get_raw(ws, f"/v1/playbooks/{brief['id']}/download")
    assert set(files) == {"entities/lenny-ortiz.md", "private/lenny-ortiz.md", "workspace/playbook.md"}
    assert files["entities/lenny-ortiz.md"].startswith("# Lenny Ortiz")
    # A second sync skips what kept its input_hash.
    again = {b["id"]: b["input_hash"] for b in (await get_json(ws, "/v1/playbooks?limit=200"))["data"]}
    assert again == {b["id"]: b["input_hash"] for b in synced["data"]}
    # read_brief's fallback: the list (limit 50), matched by title, then downloaded.
    listed = (await get_json(ws, "/v1/playbooks?limit=50"))["data"]
    match = next(b for b in listed if "lenny" in b["title"].lower())
    assert "Lenny Ortiz" in await get_raw(ws, f"/v1/playbooks/{match['id']}/download")


async def test_skill_and_skill_sync_tools(ws: Workspace, app: Any) -> None:
    await add_rules(app, ws, rule("security", 0.7), rule("pricing", 0.9, title="Pricing pushback",
                                                          action="offer the annual plan"))
    # compile_skills: {} and {"force": true}.
    compiled = (await call(ws, "POST", "/v1/agent/skills/compile", {})).json()
    assert compiled["created"] == 2
    assert (await call(ws, "POST", "/v1/agent/skills/compile", {"force": True})).json()["updated"] == 2
    # list_skills: no parameters, limit, offset, both.
    assert len((await get_json(ws, "/v1/agent/skills"))["data"]) == 2
    assert len((await get_json(ws, "/v1/agent/skills?limit=1"))["data"]) == 1
    assert len((await get_json(ws, "/v1/agent/skills?offset=1"))["data"]) == 1
    first = (await get_json(ws, "/v1/agent/skills?limit=1&offset=0"))["data"][0]
    # get_skill, get_skill_by_slug, download_skill.
    assert (await get_json(ws, f"/v1/agent/skills/{first['id']}"))["slug"] == first["slug"]
    assert (await get_json(ws, f"/v1/agent/skills/by-slug/{first['slug']}"))["id"] == first["id"]
    assert (await get_raw(ws, f"/v1/agent/skills/{first['id']}/download")).startswith("---\n")
    # sync_skills: the list (limit 200), each downloaded as <slug>.md unless updated_at is unchanged.
    state = {}
    for skill in (await get_json(ws, "/v1/agent/skills?limit=200"))["data"]:
        state[skill["id"]] = skill["updated_at"]
        assert (await get_raw(ws, f"/v1/agent/skills/{skill['id']}/download")).startswith("---\nname: ")
    await call(ws, "POST", "/v1/agent/skills/compile", {})
    assert {s["id"]: s["updated_at"] for s in (await get_json(ws, "/v1/agent/skills?limit=200"))["data"]} == state
    # read_skill: by-slug (404 for a partial name), then the list (limit 50) matched on slug or title.
    assert (await call(ws, "GET", "/v1/agent/skills/by-slug/pricing")).status_code == 404
    listed = (await get_json(ws, "/v1/agent/skills?limit=50"))["data"]
    match = next(s for s in listed if "pricing" in s["slug"].lower() or "pricing" in s["title"].lower())
    assert "Pricing pushback" in await get_raw(ws, f"/v1/agent/skills/{match['id']}/download")
