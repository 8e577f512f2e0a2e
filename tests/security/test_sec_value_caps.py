"""Audit item 17 (last part): a multi-value attribute takes at most 100 values on every write path
(``schema_registry.compiler.MAX_VALUES_PER_ATTRIBUTE``, documented in docs/api.md), and a refused
body writes nothing."""

from __future__ import annotations

import asyncpg

from tests.conftest import Workspace

TOO_MANY = [f"v{i}@caps.example" for i in range(101)]


async def test_every_write_path_refuses_a_101st_value(ws: Workspace, db: asyncpg.Connection) -> None:
    person = await ws.post("/v1/objects/person", {"attributes": {"name": "Capped"}})
    record_id = person.json()["id"]
    before = await db.fetchval("SELECT count(*) FROM records WHERE workspace_id = $1", int(ws.id))

    answers = [
        await ws.post("/v1/objects/person", {"attributes": {"email_addresses": TOO_MANY}}),
        await ws.put("/v1/objects/person", {"matching_attribute": "email_addresses",
                                            "attributes": {"email_addresses": TOO_MANY}}),
        await ws.patch(f"/v1/records/{record_id}", {"attributes": {"email_addresses": TOO_MANY}}),
    ]
    batch = await ws.post("/v1/objects/person/records/batch",
                          {"records": [{"attributes": {"email_addresses": TOO_MANY}}]})

    for answer in answers:
        assert answer.status_code == 400, answer.text
        assert answer.json()["errors"] == [{"path": "attributes.email_addresses",
                                            "message": "takes at most 100 values"}]
    assert batch.json()["results"][0]["error"]["code"] == 400
    assert await db.fetchval("SELECT count(*) FROM records WHERE workspace_id = $1", int(ws.id)) == before
    assert await db.fetchval("SELECT count(*) FROM record_values WHERE workspace_id = $1 AND record_id = $2 "
                             "AND attribute_id IN (SELECT id FROM attribute_definitions WHERE workspace_id = $1 "
                             "AND slug = 'email_addresses')", int(ws.id), int(record_id)) == 0
