"""Exports (JSON lines, CSV with formula escaping), a restore round trip, and workspace erasure."""

from __future__ import annotations

import asyncio
import csv
import io
import time
import zipfile
from typing import Any

import asyncpg
import orjson
import pytest

from tessera.db.tables import metadata
from tessera.settings import Settings
from tests.conftest import Workspace, WorkspaceFactory
from workers.deps import deps

pytestmark = pytest.mark.usefixtures("worker")


async def export(ws: Workspace, **body: Any) -> tuple[dict[str, Any], bytes]:
    job = (await ws.post("/v1/exports", body)).json()
    deadline = time.monotonic() + 30
    while job["status"] not in ("completed", "failed"):
        assert time.monotonic() < deadline, job
        await asyncio.sleep(0.1)
        job = (await ws.get(f"/v1/exports/{job['id']}")).json()
    assert job["status"] == "completed", job
    download = await ws.get(f"/v1/exports/{job['id']}/download")
    assert download.status_code == 200
    return job, download.content


async def rich_workspace(ws: Workspace) -> None:
    await ws.post("/v1/objects", {"name": "Deal", "slug": "deal", "type": "deal"})
    for attribute in (
        {"name": "Title", "slug": "title", "type": "text"},
        {"name": "Amount", "slug": "amount", "type": "currency"},
        {"name": "Stage", "slug": "stage", "type": "select",
         "options": {"select_options": [{"name": "Open"}, {"name": "Won"}]}},
        {"name": "Close", "slug": "close", "type": "date"},
        {"name": "Hot", "slug": "hot", "type": "boolean"},
        {"name": "Where", "slug": "where", "type": "location"},
        {"name": "Site", "slug": "site", "type": "url"},
        {"name": "Profile", "slug": "profile", "type": "social_profile"},
        {"name": "Score", "slug": "score", "type": "number"},
    ):
        assert (await ws.post("/v1/objects/deal/attributes", attribute)).status_code == 200
    ann = (await ws.post("/v1/objects/person", {"attributes": {
        "name": {"first_name": "Ann", "last_name": "van der Berg"}, "email_addresses": ["ann@acme.com"],
        "phone_numbers": ["+1 415 555 2671"], "job_title": "=HYPERLINK(\"evil\")"}})).json()
    acme = (await ws.post("/v1/objects/company", {"attributes": {"name": "Acme", "domains": ["acme.com"],
                                                                 "employee_count": 50}})).json()
    deal = (await ws.post("/v1/objects/deal", {"attributes": {
        "title": "Big one", "amount": {"amount": 12000.5, "currency_code": "eur"}, "stage": "Won",
        "close": "2026-03-01", "hot": True, "where": {"city": "Berlin", "country": "DE"},
        "site": "https://acme.com/deal", "profile": "linkedin.com/in/ann", "score": 7}})).json()
    lst = (await ws.post("/v1/objects/person/lists", {"name": "VIP", "slug": "vip"})).json()
    await ws.post("/v1/objects/vip/attributes", {"name": "Rank", "slug": "rank", "type": "number"})
    await ws.post(f"/v1/lists/{lst['id']}", {"parent_id": ann["id"], "attributes": {"rank": 1}})
    company_id = (await ws.get("/v1/objects/company")).json()["id"]
    person_id = (await ws.get("/v1/objects/person")).json()["id"]
    definition = (await ws.post("/v1/relationships", {"type": "one_to_many", "entity_definition_1_id": company_id,
                                                      "entity_definition_2_id": person_id,
                                                      "entity_1_to_2_predicate": "employs"})).json()
    await ws.post(f"/v1/records/{ann['id']}/relationships", {"definition_id": definition["id"],
                                                            "entity_1_id": acme["id"], "entity_2_id": ann["id"]})
    await ws.post("/v1/tasks", {"title": "Call Ann", "priority": "high", "entity_ids": [ann["id"], deal["id"]],
                                "due_date": "2026-04-01T10:00:00Z"})
    await ws.post("/v1/notes", {"title": "Met", "content": "# Notes\nGreat", "entity_id": acme["id"]})


def canonical(dump: bytes) -> dict[str, Any]:
    """A dump with ids replaced by content, so two workspaces' dumps compare."""
    lines = [orjson.loads(line) for line in dump.splitlines() if line.strip()]
    names: dict[str, str] = {}
    for line in lines:
        if line["kind"] in ("record", "list_entry"):
            names[line["id"]] = orjson.dumps([line["object"], line["values"]], option=orjson.OPT_SORT_KEYS).decode()
    out: dict[str, list[Any]] = {}
    for line in lines:
        kind = line.pop("kind")
        if kind == "tessera_dump":
            continue
        for key in ("id", "created_at", "exported_at"):
            line.pop(key, None)
        if kind == "object":
            for attribute in line["attributes"]:
                attribute.pop("id")
        for key in ("parent", "entity_1", "entity_2", "entity_id"):
            if key in line and line[key] is not None and kind != "relationship_definition":
                line[key] = names.get(line[key], line[key])
        if kind == "task":
            line["entity_ids"] = sorted(names[e] for e in line["entity_ids"])
        if kind == "relationship":
            line.pop("definition")
        out.setdefault(kind, []).append(orjson.dumps(line, option=orjson.OPT_SORT_KEYS).decode())
    return {k: sorted(v) for k, v in out.items()}


async def test_jsonl_round_trip_through_restore(ws: Workspace, app: Any, settings: Settings) -> None:
    await rich_workspace(ws)
    job, dump = await export(ws)
    assert job["counts"] == {"record": 3, "list_entry": 1, "relationship": 1, "task": 1, "note": 1}
    from tessera.transfer.restore import restore_dump

    made, mapping = await restore_dump(app.state.tessera.engine, dump.splitlines(), name="restored",
                                       pepper=settings.key_pepper.get_secret_value().encode(), clock=time.time)
    assert len(mapping) == 7
    restored = Workspace(id=str(made.workspace_id), key=made.api_key, http=ws.http)
    _, again = await export(restored)
    assert canonical(again) == canonical(dump)


async def test_csv_exports_escape_formulas(ws: Workspace) -> None:
    await rich_workspace(ws)
    job, body = await export(ws, object="person", format="csv")
    rows = list(csv.DictReader(io.StringIO(body.decode())))
    assert job["counts"] == {"person": 1}
    assert rows[0]["job_title"] == "'=HYPERLINK(\"evil\")"
    assert rows[0]["name"] == "Ann van der Berg" and rows[0]["phone_numbers"] == "+14155552671"
    _, archive = await export(ws, format="csv")
    with zipfile.ZipFile(io.BytesIO(archive)) as zipped:
        assert {"person.csv", "company.csv", "deal.csv", "vip.csv"} <= set(zipped.namelist())
        deals = list(csv.DictReader(io.StringIO(zipped.read("deal.csv").decode())))
        assert deals[0]["stage"] == "Won"


async def test_export_refusals(ws: Workspace) -> None:
    assert (await ws.post("/v1/exports", {"object": "nope"})).status_code == 404
    assert (await ws.post("/v1/exports", {"format": "xml"})).status_code == 400
    narrow = await ws.new_key(["record.read"])
    assert (await ws.post("/v1/exports", {}, key=narrow)).status_code == 403
    assert (await ws.post("/v1/exports", {"object": "person"}, key=narrow)).status_code == 200


async def test_erasure_leaves_nothing_anywhere(make_workspace: WorkspaceFactory, db: asyncpg.Connection,
                                               worker: Any, app: Any) -> None:
    ws = await make_workspace()
    keep = await make_workspace()
    await rich_workspace(ws)
    await rich_workspace(keep)
    await ws.post("/v1/webhooks", {"url": "https://hooks.example.com/x"})
    await ws.post("/v1/api-keys", {"name": "idem", "scopes": ["object.read"]}, headers={"Idempotency-Key": "e1"})
    await ws.post("/v1/context/text", {"content": "Marcus from techflow.io wants a demo"})
    search = deps(worker.ctx).search
    deadline = time.monotonic() + 10
    while not await search.client.fetch_documents(search.index_uid, filter_=f"workspace_id = {int(ws.id)}",
                                                  fields=["id"], limit=1, offset=0):
        assert time.monotonic() < deadline
        await asyncio.sleep(0.1)
    erase_key = await ws.new_key(["workspace.delete"])
    assert (await ws.delete("/v1/workspace", key=ws.key.replace(ws.key, (await ws.new_key(["record.read"]))))
            ).status_code == 403
    assert (await ws.delete("/v1/workspace", key=erase_key)).status_code == 200
    assert (await ws.get("/v1/objects")).status_code == 401
    tables = [name for name, table in metadata.tables.items() if "workspace_id" in table.c]
    deadline = time.monotonic() + 15
    while True:
        left = {t: await db.fetchval(f"SELECT count(*) FROM {t} WHERE workspace_id = $1", int(ws.id)) for t in tables}
        left = {t: n for t, n in left.items() if n}
        if not left:
            break
        assert time.monotonic() < deadline, left
        await asyncio.sleep(0.2)
    assert await db.fetchval("SELECT count(*) FROM workspaces WHERE id = $1", int(ws.id)) == 0
    docs = await search.client.fetch_documents(search.index_uid, filter_=f"workspace_id = {int(ws.id)}",
                                               fields=["id"], limit=10, offset=0)
    assert docs == []
    redis = app.state.tessera.redis.redis
    leftovers = [k async for k in redis.scan_iter(match="tessera:*") if ws.id in k.decode()]
    assert leftovers == []
    # The other workspace is untouched.
    assert (await keep.post("/v1/objects/person/records", {})).json()["total"] == 1


async def test_erasure_waits_for_a_webhook_fan_out_in_flight(make_workspace: WorkspaceFactory,
                                                             db: asyncpg.Connection) -> None:
    """The fan-out locks outbox rows, then inserts deliveries that reference the webhook: erasure
    used to delete the webhook first and the outbox rows after, a deadlock (a 503 in CI)."""
    from tessera.db.locks import WEBHOOK_FANOUT_LOCK

    ws = await make_workspace()
    hook = (await ws.post("/v1/webhooks", {"url": "https://hooks.example.com/x"})).json()
    async with db.transaction():  # what dispatch_webhooks holds mid-batch
        await db.execute("SELECT pg_advisory_xact_lock_shared($1)", WEBHOOK_FANOUT_LOCK)
        await db.execute("SELECT id FROM outbox WHERE workspace_id = $1 FOR UPDATE", int(ws.id))
        erasing = asyncio.ensure_future(ws.delete("/v1/workspace"))
        await asyncio.sleep(0.5)
        assert not erasing.done()  # it waits for the fan-out
        await db.execute("SELECT 1 FROM webhooks WHERE id = $1 FOR KEY SHARE", int(hook["id"]))
    assert (await erasing).status_code == 200
    assert await db.fetchval("SELECT count(*) FROM workspaces WHERE id = $1", int(ws.id)) == 0


async def test_erasure_retries_a_deadlock_with_a_job(make_workspace: WorkspaceFactory, db: asyncpg.Connection) -> None:
    """A transaction that locks a row of the workspace and then references the workspace (as a job's
    insert does) meets the cascade the other way round; the database aborts the erasure, which tries
    again and succeeds once the job has committed."""
    ws = await make_workspace()
    assert (await ws.post("/v1/objects/person", {"attributes": {"name": "Ada Lovelace"}})).status_code == 200
    async with db.transaction():
        await db.execute("SELECT id FROM records WHERE workspace_id = $1 FOR UPDATE", int(ws.id))
        erasing = asyncio.ensure_future(ws.delete("/v1/workspace"))
        deadline = time.monotonic() + 10
        while not await db.fetchval(  # the erasure's cascade waits for the record's lock
                "SELECT count(*) FROM pg_stat_activity WHERE pg_backend_pid() = ANY(pg_blocking_pids(pid))"):
            assert time.monotonic() < deadline
            await asyncio.sleep(0.05)
        await db.execute("SELECT 1 FROM workspaces WHERE id = $1 FOR KEY SHARE", int(ws.id))
    assert (await erasing).status_code == 200
    assert await db.fetchval("SELECT count(*) FROM workspaces WHERE id = $1", int(ws.id)) == 0
