"""Every route of the route table, called by workspace B with workspace A's ids, answers 404 and
changes nothing in A; collection routes never list A's items to B. Generated from the table, and
it asserts that it covers 100% of the routes, so a new route cannot slip past."""

from __future__ import annotations

import re
from typing import Any

import orjson
import pytest

from tessera.routes import ENDPOINTS
from tests.conftest import Workspace, WorkspaceFactory

PARAM = re.compile(r"{([^}]+)}")
SELF_SCOPED = {"deleteWorkspace", "startIntegrationConnect"}
"""Act on the caller's own workspace (the connect path names a type and a provider, not an id):
there is no foreign id to pass."""
# A live event stream cannot be read through the in-process transport; tests/context/test_stream.py
# and tests/events/test_event_stream.py assert that another workspace's stream receives nothing.
STREAMED = {"streamInsights", "streamEvents"}
# Bodies valid enough that only the foreign id can make the request fail.
BODIES: dict[str, Any] = {
    "updateApiKey": {"name": "stolen"}, "updateObjectDefinition": {"name": "stolen"},
    "createRecord": {"attributes": {}}, "upsertRecord": {"matching_attribute": "code", "attributes": {"code": "x"}},
    "createAttributeDefinition": {"name": "X", "slug": "x", "type": "text"},
    "updateAttributeDefinition": {"name": "stolen"}, "createList": {"name": "L", "slug": "stolen-list"},
    "batchRecords": {"records": [{"attributes": {}}]}, "updateRecord": {"attributes": {}},
    "createRelationshipInstance": {"definition_id": "{rel_def}", "entity_1_id": "{record_id}",
                                   "entity_2_id": "{record_id}"},
    "addListMember": {"parent_id": "{b_record}"}, "upsertListMember": {"parent_id": "{b_record}"},
    "updateListRecord": {"attributes": {}}, "updateTask": {"title": "stolen"}, "updateNote": {"title": "stolen"},
    "updateWebhook": {"description": "stolen"},
}


async def _resources(a: Workspace, b: Workspace) -> dict[str, str]:
    ids: dict[str, str] = {}
    await a.post("/v1/objects", {"name": "Matrix", "slug": "matrix-only-a", "type": "custom"})
    attr = (await a.post("/v1/objects/matrix-only-a/attributes", {"name": "Code", "slug": "code", "type": "text",
                                                                   "options": {"is_unique": True}})).json()
    ids["slug"], ids["attr_id"] = "matrix-only-a", attr["id"]
    record = (await a.post("/v1/objects/matrix-only-a", {"attributes": {"code": "a-1"}})).json()
    ids["record_id"] = record["id"]
    person = (await a.post("/v1/objects/person", {"attributes": {"name": "A Person"}})).json()
    lst = (await a.post("/v1/objects/person/lists", {"name": "A list", "slug": "a-list"})).json()
    await a.post(f"/v1/lists/{lst['id']}", {"parent_id": person["id"]})
    ids["list"], ids["list_parent"] = lst["id"], person["id"]
    object_id = (await a.get("/v1/objects/matrix-only-a")).json()["id"]
    definition = (await a.post("/v1/relationships", {"type": "many_to_many", "entity_definition_1_id": object_id,
                                                     "entity_definition_2_id": object_id})).json()
    ids["rel_def"] = definition["id"]
    other = (await a.post("/v1/objects/matrix-only-a", {"attributes": {"code": "a-2"}})).json()
    instance = (await a.post(f"/v1/records/{record['id']}/relationships", {
        "definition_id": definition["id"], "entity_1_id": record["id"], "entity_2_id": other["id"]})).json()
    ids["rel_id"] = instance["id"]
    ids["task_id"] = (await a.post("/v1/tasks", {"title": "A task", "entity_ids": [record["id"]]})).json()["id"]
    ids["note_id"] = (await a.post("/v1/notes", {"title": "A note", "entity_id": record["id"]})).json()["id"]
    ids["artifact_id"] = str((await a.post("/v1/context/text", {"content": "A text"})).json()["artifact_id"])
    ids["job_id"] = (await a.post("/v1/context/list/jobs", {"query": "all"})).json()["job_id"]
    ids["job_run_id"] = (await a.post("/v1/compounding/trigger", {"job_type": "metrics", "dry_run": True})
                         ).json()["job_run_id"]
    # Subscribed to an event nothing here emits, so the session worker's delivery attempts
    # (which set failing_since) cannot change the snapshot under the test.
    ids["webhook"] = (await a.post("/v1/webhooks", {"url": "https://a.example.com/h",
                                                    "events": ["insight.created"]})).json()["id"]
    ids["api_key"] = (await a.get("/v1/api-keys")).json()["data"][0]["id"]
    ids["notification_rule"] = (await a.post("/v1/notifications/custom", {
        "description": "tell me when a customer mentions switching to a competitor"})).json()["id"]
    await a.patch("/v1/notifications/preferences", {"frequency_minutes": 7})
    ids["export"] = (await a.post("/v1/exports", {"object": "matrix-only-a"})).json()["id"]
    upload = await a.http.post("/api/developers/v1/objects/matrix-only-a/imports",
                               files={"file": ("a.csv", b"code\na-9\n", "text/csv")}, headers=a.headers())
    ids["import"] = upload.json()["id"]
    ids["brief"] = (await a.post("/v1/playbooks/compile", {"context_id": record["id"]})).json()["id"]
    ids["context_id"] = record["id"]
    ids["connect_id"], ids["connection_id"] = await _connected(a)
    ids["b_record"] = (await b.post("/v1/objects/person", {"attributes": {"name": "B Person"}})).json()["id"]
    return ids


async def _connected(a: Workspace) -> tuple[str, str]:
    """A Google Calendar connection of A (through the fake Google; calendars do not sync, so the
    session worker leaves it as it is)."""
    from tests.integrations.helpers import authorize, callback, start

    started = await start(a, "calendar", "google")
    assert (await callback(a, await authorize(started["auth_url"], "matrix@mail.test"))).status_code == 200
    status = (await a.get(f"/v1/integrations/connect/{started['connect_id']}/status")).json()
    return started["connect_id"], str(status["connection_id"])


def _path(template: str, ids: dict[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "id":
            for prefix, key in (("/v1/api-keys", "api_key"), ("/v1/webhooks", "webhook"), ("/v1/lists", "list"),
                                ("/v1/relationships", "rel_def"), ("/v1/imports", "import"),
                                ("/v1/exports", "export"), ("/v1/playbooks", "brief"),
                                # A foreign id of another kind: no skill of A can be made over HTTP here
                                # (tests/compounding/test_skills.py checks a real one).
                                ("/v1/agent/skills", "brief"),
                                ("/v1/notifications/custom", "notification_rule")):
                if template.startswith(prefix):
                    return ids[key]
            raise AssertionError(f"no foreign id for {template}")
        if name == "record_id" and template.startswith("/v1/lists"):
            return ids["list_parent"]
        if name == "slug" and "/attributes/{slug}/history" in template:
            return "code"
        return ids[name]

    return PARAM.sub(value, template)


def _body(operation: str, ids: dict[str, str]) -> Any:
    body = BODIES.get(operation, {})
    return orjson.loads(re.sub(r'"{(\w+)}"', lambda m: f'"{ids[m.group(1)]}"', orjson.dumps(body).decode()))


@pytest.fixture(scope="module")
async def pair(make_workspace: WorkspaceFactory) -> tuple[Workspace, Workspace, dict[str, str]]:
    a, b = await make_workspace("A"), await make_workspace("B")
    return a, b, await _resources(a, b)


async def _snapshot(a: Workspace, ids: dict[str, str]) -> list[Any]:
    paths = [f"/v1/objects/{ids['slug']}", f"/v1/records/{ids['record_id']}", f"/v1/lists/{ids['list']}",
             "/v1/relationships", f"/v1/tasks/{ids['task_id']}", f"/v1/notes/{ids['note_id']}",
             f"/v1/webhooks/{ids['webhook']}", f"/v1/api-keys/{ids['api_key']}",
             f"/v1/records/{ids['record_id']}/relationships", "/v1/integrations",
             f"/v1/integrations/connect/{ids['connect_id']}/status",
             f"/v1/notifications/custom/{ids['notification_rule']}",
             "/v1/notifications/preferences", "/v1/notifications/custom"]
    return [(await a.get(p)).json() for p in paths]


PARAM_ROUTES = [e for e in ENDPOINTS if PARAM.search(e.path) and e.operation_id not in SELF_SCOPED]
COLLECTION_ROUTES = [e for e in ENDPOINTS if not PARAM.search(e.path)
                     and e.operation_id not in SELF_SCOPED | STREAMED]


def test_the_matrix_covers_every_route() -> None:
    covered = ({e.operation_id for e in PARAM_ROUTES} | {e.operation_id for e in COLLECTION_ROUTES} | SELF_SCOPED
               | STREAMED)
    assert covered == {e.operation_id for e in ENDPOINTS}
    assert len(PARAM_ROUTES) + len(COLLECTION_ROUTES) + len(SELF_SCOPED) + len(STREAMED) == len(ENDPOINTS)


@pytest.mark.parametrize("endpoint", PARAM_ROUTES, ids=lambda e: e.operation_id)
async def test_foreign_ids_are_404_and_change_nothing(pair: tuple[Workspace, Workspace, dict[str, str]],
                                                      endpoint: Any) -> None:
    a, b, ids = pair
    before = await _snapshot(a, ids)
    path = _path(endpoint.path, ids)
    if endpoint.raw_body:
        response = await b.http.request(endpoint.method, "/api/developers" + path, headers=b.headers(),
                                        files={"file": ("x.csv", b"code\nx\n", "text/csv")})
    else:
        response = await b.request(endpoint.method, path, json=_body(endpoint.operation_id, ids)
                                   if endpoint.method != "GET" else None)
    assert response.status_code == 404, (endpoint.method, path, response.text)
    assert await _snapshot(a, ids) == before


LISTINGS = {"listObjects": "/v1/objects", "listApiKeys": "/v1/api-keys", "listTasks": "/v1/tasks?include_archived=true",
            "listNotes": "/v1/notes?include_archived=true", "listWebhooks": "/v1/webhooks",
            "listRelationshipDefinitions": "/v1/relationships", "getInsights": "/v1/insights", "getGraph": "/v1/graph",
            "listBriefs": "/v1/playbooks", "listAgentSkills": "/v1/agent/skills",
            "listIntegrations": "/v1/integrations",
            "getNotificationFeed": "/v1/notifications/feed",
            "getNotificationPreferences": "/v1/notifications/preferences",
            "listCustomNotificationRules": "/v1/notifications/custom",
            "listEvents": "/v1/events"}


@pytest.mark.parametrize("endpoint", COLLECTION_ROUTES, ids=lambda e: e.operation_id)
async def test_collections_never_show_another_workspace(pair: tuple[Workspace, Workspace, dict[str, str]],
                                                        endpoint: Any) -> None:
    a, b, ids = pair
    secrets = {v for k, v in ids.items() if k not in ("b_record", "slug", "attr_id")} | {ids["slug"]}
    if endpoint.method == "GET" and endpoint.operation_id in LISTINGS:
        text = (await b.get(LISTINGS[endpoint.operation_id])).text
    elif endpoint.operation_id == "searchRecords":
        text = (await b.post("/v1/search", {"query": "a-1"})).text
    else:
        # Creation routes act on the caller's workspace only: B creating something never touches A.
        before = await _snapshot(a, ids)
        body = {"createApiKey": {"name": "b", "scopes": ["object.read"]}, "createObjectDefinition":
                {"name": "B", "slug": "b-only"}, "createTask": {"title": "b"}, "createNote": {"title": "b"},
                "createWebhook": {"url": "https://b.example.com/h"}, "createExport": {"object": "person"},
                "addContext": {"content": "b"}, "queryContext": {"query": "a-1"},
                "createAIListJob": {"query": "all"}, "createRelationshipDefinition": None,
                "createCustomNotificationRule": {"description": "notify me about Kubernetes"},
                "updateNotificationPreferences": {"frequency_minutes": 3}}
        if body.get(endpoint.operation_id, {}) is None:
            return
        response = await b.request(endpoint.method, endpoint.path, json=body.get(endpoint.operation_id, {}))
        assert response.status_code in (200, 400, 404), response.text
        assert await _snapshot(a, ids) == before
        text = response.text
    assert not any(secret in text for secret in secrets), endpoint.operation_id
