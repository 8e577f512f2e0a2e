"""JavaScript-safe ids (issue 14): ``next_id()`` and ``IdAllocator`` make 53-bit ids; no response of
the spec's operations carries an integer JavaScript cannot hold; the wuphf client's add_context ->
get_artifact_status round trip works through a real JavaScript engine; and a database upgraded
through migration 0012, whose old rows keep their 63-bit ids, still lists in creation order."""

from __future__ import annotations

import asyncio
import importlib.util
import itertools
import subprocess
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from tessera.context.insights import list_insights
from tessera.db import ids
from tessera.db.ids import EPOCH_S, MAX_BLOCK_AGE_S, MAX_ID, SEQUENCE_BITS, IdAllocator, compose_id
from tessera.db.tenant import Tenant
from tessera.migrate import upgrade
from tessera.records import listing
from tessera.registry.repository import load_schema
from tessera.settings import Settings
from tests.conftest import Workspace, WorkspaceFactory

MAX_SAFE_INTEGER = 2**53 - 1
"""JavaScript's ``Number.MAX_SAFE_INTEGER``."""
WRAP = 1 << SEQUENCE_BITS
EMAIL = ("From: Sarah Chen <sarah.chen@techflow.io>\nWe'd love a demo next week and pricing for 50 seats; "
         "our budget is around $40,000 and we decide by end of Q3.\nSarah Chen, VP Engineering, TechFlow")


def unsafe_integers(value: Any, path: str = "$") -> list[tuple[str, int]]:
    """Every integer in a parsed JSON body that a JavaScript client would not read exactly, with
    its path (``$.data[0].id``): ids above all, but any integer beyond +-(2^53 - 1) is a bug."""
    if isinstance(value, bool):
        return []
    if isinstance(value, int):
        return [(path, value)] if abs(value) > MAX_SAFE_INTEGER else []
    if isinstance(value, dict):
        return [found for key, item in value.items() for found in unsafe_integers(item, f"{path}.{key}")]
    if isinstance(value, list):
        return [found for index, item in enumerate(value) for found in unsafe_integers(item, f"{path}[{index}]")]
    return []


def integer_ids(value: Any) -> list[int]:
    """The integers of a body held under a key ``id`` or ending in ``_id``/``_ids``."""
    found: list[int] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "id" or key.endswith(("_id", "_ids")):
                items = item if isinstance(item, list) else [item]
                found += [i for i in items if isinstance(i, int) and not isinstance(i, bool)]
            found += integer_ids(item)
    elif isinstance(value, list):
        for item in value:
            found += integer_ids(item)
    return found


async def clear_of_a_wrap(db: asyncpg.Connection, room: int) -> None:
    """Move ``tessera_id_seq`` forward (never back, so values stay unique) when its next ``room``
    values would cross a multiple of 2^22, where ids of one second stop increasing."""
    current = int(await db.fetchval("SELECT nextval('tessera_id_seq')"))
    if current % WRAP + room >= WRAP:
        await db.execute("SELECT setval('tessera_id_seq', $1)", (current // WRAP + 1) * WRAP)


# --- the generator ------------------------------------------------------------------------------

def test_the_layout_is_53_bits_of_seconds_and_sequence_until_2092() -> None:
    assert compose_id(EPOCH_S, 0) == 0
    assert compose_id(EPOCH_S + 5.9, WRAP + 7) == (5 << 22) | 7
    last = EPOCH_S + 2**31 - 1
    assert compose_id(last, WRAP - 1) == MAX_ID == MAX_SAFE_INTEGER
    assert datetime.fromtimestamp(last, UTC).year == 2092
    for outside in (last + 1, EPOCH_S - 1):
        with pytest.raises(ValueError):
            compose_id(outside, 0)


async def test_next_id_in_sql_is_safe_increasing_unique_and_stamped_now(db: asyncpg.Connection) -> None:
    await clear_of_a_wrap(db, 50_000)
    before = time.time()
    drawn = [r[0] for r in await db.fetch("SELECT next_id() FROM generate_series(1, 20000)")]
    after = time.time()
    assert max(drawn) <= MAX_SAFE_INTEGER
    assert drawn == sorted(set(drawn))
    for value in (drawn[0], drawn[-1]):
        assert int(before) - 1 <= (value >> SEQUENCE_BITS) + EPOCH_S <= after + 1


async def test_ids_stay_unique_across_a_wrap_of_the_sequence(app: Any, db: asyncpg.Connection) -> None:
    current = int(await db.fetchval("SELECT nextval('tessera_id_seq')"))
    boundary = (current // WRAP + 1) * WRAP
    if boundary - 5 <= current:
        boundary += WRAP
    await db.execute("SELECT setval('tessera_id_seq', $1)", boundary - 5)
    drawn = [r[0] for r in await db.fetch("SELECT next_id() FROM generate_series(1, 10)")]
    async with app.state.tessera.engine.connect() as conn:
        drawn += await IdAllocator().take(conn, 10)
    assert len(set(drawn)) == 20 and max(drawn) <= MAX_SAFE_INTEGER
    assert [d & (WRAP - 1) for d in drawn[:10]] == [WRAP - 4, WRAP - 3, WRAP - 2, WRAP - 1, 0, 1, 2, 3, 4, 5]
    # The jump stood for 4 million ids drawn at once. Blocks the API drew just before still hold
    # low bits near `current`'s: move on to low bits half a wrap away from them.
    after = int(await db.fetchval("SELECT nextval('tessera_id_seq')"))
    await db.execute("SELECT setval('tessera_id_seq', $1)", after + 1 + (current + WRAP // 2 - after - 1) % WRAP)


async def test_two_allocators_and_next_id_drawing_at_once_never_collide(app: Any, db: asyncpg.Connection) -> None:
    await clear_of_a_wrap(db, 500_000)
    engine = app.state.tessera.engine
    drawn: dict[str, list[int]] = {"first": [], "second": [], "sql": []}

    async def allocate(name: str) -> None:
        allocator = IdAllocator()  # one per process, as in the API and the worker
        async with engine.connect() as conn:
            for round_ in range(120):
                drawn[name] += await allocator.take(conn, 1 + round_ % 41)  # crosses block boundaries
                await asyncio.sleep(0)

    async def next_ids() -> None:
        for _ in range(60):
            drawn["sql"] += [r[0] for r in await db.fetch("SELECT next_id() FROM generate_series(1, 50)")]
            await asyncio.sleep(0)

    await asyncio.gather(allocate("first"), allocate("second"), next_ids())
    everything = [i for values in drawn.values() for i in values]
    assert len(everything) == len(set(everything)) == 2 * sum(1 + r % 41 for r in range(120)) + 3000
    assert max(everything) <= MAX_SAFE_INTEGER
    for values in drawn.values():
        assert values == sorted(values)
    async with engine.connect() as conn:  # a restarted process draws fresh sequence values
        restarted = await IdAllocator().take(conn, 5)
    assert min(restarted) > max(everything)


async def test_a_block_is_dropped_once_older_than_the_age_limit(app: Any, db: asyncpg.Connection) -> None:
    await clear_of_a_wrap(db, 10_000)
    allocator = IdAllocator()
    async with app.state.tessera.engine.connect() as conn:
        first, second = await allocator.take(conn, 2)
        (same_block,) = await allocator.take(conn, 1)
        allocator._fetched_at -= MAX_BLOCK_AGE_S + 0.1  # the block is now older than the limit
        (fresh,) = await allocator.take(conn, 1)
    low = [value & (WRAP - 1) for value in (first, second, same_block, fresh)]
    assert low[1] == low[0] + 1 and low[2] == low[0] + 2
    assert low[3] >= low[0] + ids.BLOCK  # drawn from a new block, not stamped from the old one


# --- every integer in every response ------------------------------------------------------------

async def until_finished(ws: Workspace, path: str, field: str = "status", within: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + within
    while True:
        body: dict[str, Any] = (await ws.get(path)).json()
        state = body.get("message", body).get(field)
        if state in ("completed", "failed"):
            return body
        assert time.monotonic() < deadline, body
        await asyncio.sleep(0.1)


@pytest.mark.usefixtures("worker")
async def test_no_response_of_the_main_operations_holds_an_integer_javascript_cannot_read(ws: Workspace) -> None:
    bodies: list[tuple[str, Any]] = []

    async def call(method: str, path: str, json: Any = None) -> Any:
        response = await ws.request(method, path, json=json)
        assert response.status_code == 200, (method, path, response.text)
        body = response.json() if response.content else None
        bodies.append((f"{method} {path}", body))
        return body

    ada = (await call("POST", "/v1/objects/person", {"attributes": {"name": "Ada Lovelace", "job_title": "CTO"}}))["id"]
    acme = (await call("POST", "/v1/objects/company", {"attributes": {"name": "Acme", "domains": ["acme.io"]}}))["id"]
    await call("GET", f"/v1/records/{ada}")
    await call("PATCH", f"/v1/records/{ada}", {"attributes": {"job_title": "CEO"}})
    await call("POST", "/v1/objects/person/records", {"limit": 10})
    await call("PUT", "/v1/objects/company", {"matching_attribute": "domains",
                                              "attributes": {"name": "Acme", "domains": ["acme.io"]}})
    await call("GET", "/v1/objects")
    await call("GET", "/v1/objects/person")
    leads = (await call("POST", "/v1/objects/person/lists", {"name": "Leads", "slug": "leads"}))["id"]
    await call("POST", f"/v1/lists/{leads}", {"parent_id": ada})
    await call("POST", f"/v1/lists/{leads}/records", {})
    await call("GET", "/v1/objects/person/lists")
    await call("GET", f"/v1/lists/{leads}")
    task = (await call("POST", "/v1/tasks", {"title": "Call Ada", "entity_ids": [ada]}))["id"]
    await call("GET", f"/v1/tasks/{task}")
    await call("PATCH", f"/v1/tasks/{task}", {"is_completed": True})
    await call("GET", "/v1/tasks")
    note = (await call("POST", "/v1/notes", {"title": "Call", "content": "Went well", "entity_id": ada}))["id"]
    await call("GET", f"/v1/notes/{note}")
    await call("GET", "/v1/notes")
    artifact = (await call("POST", "/v1/context/text", {"content": EMAIL, "context": "Inbound email"}))["artifact_id"]
    bodies.append(("GET artifact (finished)", await until_finished(ws, f"/v1/context/artifacts/{artifact}")))
    job = (await call("POST", "/v1/context/list/jobs", {"query": "all companies", "object_type": "company",
                                                        "include_attributes": True}))["job_id"]
    bodies.append(("GET list job (finished)", await until_finished(ws, f"/v1/context/list/jobs/{job}")))
    await call("GET", "/v1/insights?last=1h")
    await call("POST", "/v1/context/ask", {"query": "What is Sarah Chen's budget?"})
    await call("GET", "/v1/graph")
    await call("GET", f"/v1/records/{ada}/timeline")
    await call("GET", f"/v1/records/{ada}/attributes/job_title/history")
    await call("GET", f"/v1/records/{acme}/relationships")
    await call("POST", "/v1/search", {"query": "Acme"})
    await call("GET", "/v1/api-keys")
    for name, body in bodies:
        assert unsafe_integers(body) == [], name
    numbers = [i for _, body in bodies for i in integer_ids(body)]
    assert artifact in numbers and len(numbers) >= 3  # artifact_id, operation_id, the ask's entity ids


# --- the vendor's JavaScript client -------------------------------------------------------------

def read_as_javascript(body: str) -> str:
    """``artifact_id`` as wuphf's MCP tools pass it on: ``JSON.parse`` of the response text, the
    number shown to the agent (``JSON.stringify``), sent back as the ``artifact_id`` string and put
    in the path with ``encodeURIComponent`` (nex-crm/wuphf ``mcp/dist/client.js``, ``tools/context.js``)."""
    script = ("const result = JSON.parse(require('fs').readFileSync(0, 'utf8'));"
              "const shown = JSON.parse(JSON.stringify(result, null, 2));"
              "process.stdout.write(encodeURIComponent(String(shown.artifact_id)));")
    run = subprocess.run(["node", "-e", script], input=body, capture_output=True, text=True, check=True, timeout=30)
    return run.stdout


async def test_wuphf_add_context_then_get_artifact_status_finds_the_artifact(ws: Workspace) -> None:
    # The JavaScript engine really does round a 63-bit id (the old layout's), which then 404s.
    assert read_as_javascript('{"artifact_id": 386588498607480865}') == "386588498607480900"
    added = await ws.post("/v1/context/text", {"content": "My favorite color is blue", "context": "Chat"})
    assert added.status_code == 200, added.text
    as_read = await asyncio.to_thread(read_as_javascript, added.text)
    assert as_read == str(added.json()["artifact_id"])
    status = await ws.get(f"/v1/context/artifacts/{as_read}")
    assert status.status_code == 200, status.text
    assert status.json()["operation_id"] == added.json()["artifact_id"]


# --- a database upgraded through 0012 -----------------------------------------------------------

def millisecond_id(unix_seconds: float, sequence: int) -> int:
    """The layout before migration 0012 (63 bits: milliseconds since 2024-01-01 << 22)."""
    return ((int(unix_seconds * 1000) - EPOCH_S * 1000) << SEQUENCE_BITS) | (sequence & (WRAP - 1))


@dataclass
class Upgraded:
    """A workspace made before the upgrade, with rows from before (the first of each list) and after."""

    ws: Workspace
    people: list[str]
    tasks: list[str]
    notes: list[str]
    insights: list[int]
    hook: str
    deliveries: list[str]


async def _insight(db: asyncpg.Connection, ws: Workspace, about: str, n: int) -> int:
    return int(await db.fetchval(
        "INSERT INTO insights (workspace_id, id, type, content, entity_ids, dedupe_key) "
        "VALUES ($1, next_id(), 'next_step', $2, ARRAY[$3::bigint], $4) RETURNING id",
        int(ws.id), f"Insight {n}", int(about), f"safe-ids-{ws.id}-{n}"))


def _migration_0012() -> Any:
    """The module of migration 0012 (its file name is not an importable module name)."""
    path = Path(__file__).parents[1] / "platform" / "migrations" / "versions" / "0012_safe_ids.py"
    spec = importlib.util.spec_from_file_location("migration_0012", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
async def upgraded(settings: Settings, make_workspace: WorkspaceFactory, db: asyncpg.Connection
                   ) -> AsyncIterator[Upgraded]:
    """Rows written by the old code (next_id() of migration 0011 and the millisecond layout in the
    API's allocator), then the upgrade to 0012, then rows written by the new code. Migration 0012
    changes only ``next_id()``, so the fixture runs its own two statements (its downgrade, then
    its upgrade) instead of an alembic downgrade to 0011: that would also drop the tables of the
    later migrations, which the code under test writes to (the change stream's ``events``...)."""
    migration = _migration_0012()
    await clear_of_a_wrap(db, 100_000)
    await db.execute(migration.MILLISECOND_NEXT_ID)
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(ids, "compose_id", millisecond_id)
            ws = await make_workspace("made before 0012")
            person = (await ws.post("/v1/objects/person", {"attributes": {"name": "Old Ada"}})).json()["id"]
            await ws.patch(f"/v1/records/{person}", {"attributes": {"job_title": "CTO"}})
            tasks = [(await ws.post("/v1/tasks", {"title": "old task", "entity_ids": [person]})).json()["id"]]
            notes = [(await ws.post("/v1/notes", {"title": "old", "content": "x", "entity_id": person})).json()["id"]]
            insights = [await _insight(db, ws, person, 0)]
            hook = (await ws.post("/v1/webhooks", {"url": "http://127.0.0.1:9/safe-ids"})).json()["id"]
            deliveries = [(await ws.post(f"/v1/webhooks/{hook}/test")).json()["message_id"]]
    finally:
        await db.execute(migration.SAFE_NEXT_ID)
        await asyncio.to_thread(upgrade, settings)
    people = [person]
    for name in ("New Bea", "New Cy"):
        people.append((await ws.post("/v1/objects/person", {"attributes": {"name": name}})).json()["id"])
    await ws.patch(f"/v1/records/{person}", {"attributes": {"job_title": "CEO"}})
    for title in ("new task", "newest task"):
        tasks.append((await ws.post("/v1/tasks", {"title": title, "entity_ids": [person]})).json()["id"])
    notes.append((await ws.post("/v1/notes", {"title": "new", "content": "y", "entity_id": person})).json()["id"])
    insights += [await _insight(db, ws, person, 1), await _insight(db, ws, person, 2)]
    for _ in range(2):
        deliveries.append((await ws.post(f"/v1/webhooks/{hook}/test")).json()["message_id"])
    yield Upgraded(ws, people, tasks, notes, insights, hook, deliveries)


async def test_the_upgrade_keeps_old_ids_and_issues_safe_ones(upgraded: Upgraded, db: asyncpg.Connection) -> None:
    old_ids = [int(upgraded.ws.id), int(upgraded.people[0]), int(upgraded.tasks[0]), upgraded.insights[0]]
    new_ids = [int(i) for i in upgraded.people[1:] + upgraded.tasks[1:]] + upgraded.insights[1:]
    assert min(old_ids) > MAX_SAFE_INTEGER and max(new_ids) <= MAX_SAFE_INTEGER
    assert int(await db.fetchval("SELECT next_id()")) <= MAX_SAFE_INTEGER
    assert (await upgraded.ws.get(f"/v1/records/{upgraded.people[0]}")).status_code == 200


async def _walk_records(ws: Workspace, limit: int) -> list[str]:
    seen, cursor = [], None
    while True:
        page = (await ws.post("/v1/objects/person/records", {"limit": limit, **({"cursor": cursor} if cursor else {})}
                              )).json()
        seen += [r["id"] for r in page["data"]]
        cursor = page.get("next_cursor")
        if not cursor:
            return seen


@pytest.mark.parametrize("plan", ["filter-first", "id walk"])
async def test_records_without_a_sort_come_in_creation_order(upgraded: Upgraded, plan: str,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    if plan == "id walk":
        monkeypatch.setattr(listing, "SMALL_RESULT", 0)
    ws = upgraded.ws
    assert await _walk_records(ws, 1) == await _walk_records(ws, 10) == upgraded.people
    by_offset = [(await ws.post("/v1/objects/person/records", {"limit": 1, "offset": k})).json()["data"][0]["id"]
                 for k in range(3)]
    assert by_offset == upgraded.people


async def test_the_timeline_is_newest_first_across_the_upgrade(upgraded: Upgraded) -> None:
    ws, person = upgraded.ws, upgraded.people[0]
    whole = (await ws.get(f"/v1/records/{person}/timeline?limit=100&aggregate=false")).json()["data"]
    walked, cursor = [], None
    while True:
        page = (await ws.get(f"/v1/records/{person}/timeline?limit=1&aggregate=false"
                             + (f"&cursor={cursor}" if cursor else ""))).json()
        walked += page["data"]
        if not page["has_next_page"]:
            break
        cursor = page["next_cursor"]
    assert [e["id"] for e in walked] == [e["id"] for e in whole]
    ids_in_order = [int(e["id"]) for e in whole]
    assert any(i > MAX_SAFE_INTEGER for i in ids_in_order) and any(i <= MAX_SAFE_INTEGER for i in ids_in_order)
    stamps = [datetime.fromisoformat(e["event_timestamp"].replace("Z", "+00:00")) for e in whole]
    assert stamps == sorted(stamps, reverse=True)
    assert whole[-1]["event_type"] == "created" and whole[-1]["resource_id"] == person


async def test_tasks_notes_and_deliveries_list_newest_first_across_the_upgrade(upgraded: Upgraded) -> None:
    ws = upgraded.ws
    newest_tasks = upgraded.tasks[::-1]
    assert [t["id"] for t in (await ws.get("/v1/tasks")).json()["data"]] == newest_tasks
    # No filter at all: the walk along the id index (the path for many matches).
    assert [t["id"] for t in (await ws.get("/v1/tasks?include_archived=true")).json()["data"]] == newest_tasks
    assert [(await ws.get(f"/v1/tasks?include_archived=true&limit=1&offset={k}")).json()["data"][0]["id"]
            for k in range(3)] == newest_tasks
    assert [(await ws.get(f"/v1/tasks?limit=1&offset={k}")).json()["data"][0]["id"] for k in range(3)] == newest_tasks
    assert (await ws.get("/v1/tasks?limit=1&offset=3")).json()["data"] == []
    # A filter matching few tasks: gathered through its index, then sorted.
    assert [t["id"] for t in (await ws.get("/v1/tasks?search=task")).json()["data"]] == newest_tasks
    assert [t["id"] for t in (await ws.get(f"/v1/tasks?entity_id={upgraded.people[0]}")).json()["data"]
            ] == newest_tasks
    assert [n["id"] for n in (await ws.get("/v1/notes")).json()["data"]] == upgraded.notes[::-1]
    # The hook also receives the workspace's events (the worker relays them): the test deliveries
    # come in reverse, every delivery made since the upgrade before the older ones, and newest first
    # up to the second (within one, ids drawn by two processes follow their blocks of the sequence).
    deliveries = f"/v1/webhooks/{upgraded.hook}/deliveries"
    log = (await ws.get(f"{deliveries}?limit=200")).json()["data"]
    assert [d["message_id"] for d in log if d["event_type"] == "webhook.test"] == upgraded.deliveries[::-1]
    layouts = [int(d["id"]) > MAX_SAFE_INTEGER for d in log]
    assert layouts == sorted(layouts) and layouts[0] != layouts[-1]
    stamps = [datetime.fromisoformat(d["created_at"].replace("Z", "+00:00")) for d in log]
    assert all((newer - older).total_seconds() > -1 for newer, older in itertools.pairwise(stamps))
    assert [(await ws.get(f"{deliveries}?limit=1&offset={k}")).json()["data"][0]["id"]
            for k in range(len(log))] == [d["id"] for d in log]


async def test_insights_after_an_old_last_event_id_include_the_new_ones(app: Any, upgraded: Upgraded) -> None:
    async with app.state.tessera.engine.connect() as conn:
        tenant = Tenant(conn, int(upgraded.ws.id))
        schema = await load_schema(tenant)

        async def after(insight: int) -> list[int]:
            found = await list_insights(tenant, schema, start=None, end=None, limit=20, after_id=insight)
            return [i.insight.id for i in found]

        first, second, third = upgraded.insights
        assert await after(first) == [second, third]  # the stream's replay after Last-Event-ID
        assert await after(second) == [third]
        assert await after(third) == []
        assert [i.insight.id for i in await list_insights(tenant, schema, start=None, end=None, limit=20)
                ] == [third, second, first]
    graph = (await upgraded.ws.get("/v1/graph")).json()
    people = [n["id"] for n in graph["nodes"] if n["definition_slug"] == "person"]
    assert people == upgraded.people
    assert [n["id"] for n in graph["insight_nodes"]] == [f"ei:{i}" for i in (third, second, first)]
