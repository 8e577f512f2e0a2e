"""Agent skills compiled from playbook rules: markdown whose YAML frontmatter names the trigger,
confidence, the Tessera endpoints used, the people in the evidence and the workspace's real object
and attribute slugs; compile is idempotent unless forced; another workspace sees nothing."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest

from tessera.briefs.skills import parse_frontmatter
from tests.compounding.test_briefs import add_rules, rule
from tests.conftest import Workspace, WorkspaceFactory


async def compile_skills(ws: Workspace, body: dict[str, Any] | None = None) -> dict[str, Any]:
    response = await ws.post("/v1/agent/skills/compile", body if body is not None else {})
    assert response.status_code == 200, response.text
    done: dict[str, Any] = response.json()
    return done


async def test_skills_are_grounded_in_the_rules_people_and_schema(ws: Workspace, app: Any) -> None:
    person = (await ws.post("/v1/objects/person", {"attributes": {"name": "Sarah Chen"}})).json()
    await ws.post("/v1/objects/company/attributes", {"name": "Security review status", "slug": "security_review",
                                                     "type": "text"})
    await add_rules(app, ws, rule("security", 0.7, evidence=[
        {"insight_id": "12", "record_id": person["id"], "quote": "we need a security review"}],
        trigger="a company raises a security review", action="send the SOC 2 report within a day"))
    done = await compile_skills(ws)
    assert (done["created"], done["updated"], done["unchanged"], done["removed"], done["total"]) == (1, 0, 0, 0, 1)
    skill = done["data"][0]
    assert skill["slug"] == "security-review" and skill["name"] == "security-review" and skill["version"] == 1
    full = (await ws.get(f"/v1/agent/skills/{skill['id']}")).json()
    download = await ws.get(f"/v1/agent/skills/{skill['id']}/download")
    assert download.status_code == 200 and download.headers["content-type"].startswith("text/markdown")
    assert download.text == full["content"]
    front = parse_frontmatter(download.text)
    assert (front["name"], front["trigger"], front["confidence"]) == (
        "security-review", "a company raises a security review", 0.7)
    tools = {(t["method"], t["path"]) for t in front["tools"]}
    assert {("POST", "/v1/tasks"), ("GET", "/v1/playbooks/by-context/{context_id}"), ("POST", "/v1/notes")} <= tools
    assert front["people"] == [{"id": person["id"], "name": "Sarah Chen", "object": "person"}]
    objects = {o["slug"]: o["attributes"] for o in front["objects"]}
    assert set(objects) == {"person", "company"}
    assert "security_review" in objects["company"] and "name" in objects["company"]
    assert "## Steps" in download.text and f"[record {person['id']}]" in download.text
    assert (await ws.get("/v1/agent/skills/by-slug/security-review")).json()["id"] == skill["id"]


async def test_compile_is_idempotent_unless_forced(ws: Workspace, app: Any, db: asyncpg.Connection) -> None:
    await add_rules(app, ws, rule("security", 0.7), rule("pricing", 0.9, title="Pricing pushback",
                                                             trigger="the price is too high",
                                                             action="offer the annual plan"))
    first = await compile_skills(ws)
    assert first["created"] == 2 and [s["slug"] for s in first["data"]] == ["pricing-pushback", "security-review"]
    again = await compile_skills(ws)
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 2)
    assert [s["updated_at"] for s in again["data"]] == [s["updated_at"] for s in first["data"]]
    forced = await compile_skills(ws, {"force": True})
    assert (forced["created"], forced["updated"], forced["unchanged"]) == (0, 2, 0)
    assert {s["version"] for s in forced["data"]} == {2}
    await add_rules(app, ws, rule("security", 0.8, action="send the SOC 2 report and the pen test summary"))
    changed = await compile_skills(ws)
    assert (changed["updated"], changed["unchanged"]) == (1, 1)
    security = (await ws.get("/v1/agent/skills/by-slug/security-review")).json()
    assert security["version"] == 3 and "pen test summary" in security["content"]
    await db.execute("UPDATE playbook_rules SET status = 'retired' WHERE workspace_id = $1 AND fingerprint = "
                     "'pricing'", int(ws.id))
    retired = await compile_skills(ws)
    assert (retired["removed"], retired["unchanged"], retired["total"]) == (1, 1, 1)
    assert (await ws.get("/v1/agent/skills/by-slug/pricing-pushback")).status_code == 404
    listed = (await ws.get("/v1/agent/skills?limit=1&offset=0")).json()
    assert (listed["total"], [s["slug"] for s in listed["data"]], listed["has_more"]) == (1, ["security-review"], False)


async def test_rules_with_the_same_title_get_distinct_slugs(ws: Workspace, app: Any) -> None:
    await add_rules(app, ws, rule("a", 0.9), rule("b", 0.5, action="loop in the security engineer"))
    slugs = [s["slug"] for s in (await compile_skills(ws))["data"]]
    assert slugs[0] == "security-review" and slugs[1].startswith("security-review-") and len(set(slugs)) == 2


async def test_another_workspace_sees_no_skill(make_workspace: WorkspaceFactory, app: Any) -> None:
    a, b = await make_workspace(), await make_workspace()
    await add_rules(app, a, rule("security", 0.7))
    skill = (await compile_skills(a))["data"][0]
    for path in (f"/v1/agent/skills/{skill['id']}", f"/v1/agent/skills/{skill['id']}/download",
                 "/v1/agent/skills/by-slug/security-review"):
        assert (await b.get(path)).status_code == 404, path
    assert (await b.get("/v1/agent/skills")).json()["data"] == []
    assert (await compile_skills(b))["total"] == 0
    assert (await a.get(f"/v1/agent/skills/{skill['id']}")).status_code == 200


@pytest.mark.parametrize(("method", "path", "body", "status"), [
    ("POST", "/v1/agent/skills/compile", {"force": "yes"}, 400),
    ("POST", "/v1/agent/skills/compile", {"force": True, "all": True}, 400),
    ("GET", "/v1/agent/skills?limit=0", None, 400),
    ("GET", "/v1/agent/skills?limit=500", None, 400),
    ("GET", "/v1/agent/skills?offset=x", None, 400),
    ("GET", "/v1/agent/skills/999999999", None, 404),
    ("GET", "/v1/agent/skills/nope/download", None, 404),
    ("GET", "/v1/agent/skills/by-slug/nope", None, 404),
])
async def test_bad_skill_input_is_a_clear_4xx(ws: Workspace, db: asyncpg.Connection, method: str, path: str,
                                              body: Any, status: int) -> None:
    response = await ws.request(method, path, json=body)
    assert response.status_code == status and response.json()["code"] == status, response.text
    assert await db.fetchval("SELECT count(*) FROM agent_skills WHERE workspace_id = $1", int(ws.id)) == 0


async def test_scopes(ws: Workspace) -> None:
    reader = await ws.new_key(["playbook.read"])
    assert (await ws.post("/v1/agent/skills/compile", {}, key=reader)).status_code == 403
    assert (await ws.post("/v1/playbooks/compile", {}, key=reader)).status_code == 403
    assert (await ws.get("/v1/agent/skills", key=reader)).status_code == 200
    other = await ws.new_key(["record.read"])
    assert (await ws.get("/v1/playbooks", key=other)).status_code == 403
