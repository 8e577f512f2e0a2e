"""Audit item 15: deleting an attribute removes its values everywhere in the same transaction: the
records' ``data`` and ``value_meta``, and (through the outbox row written with it) the search
documents. A value that outlived its attribute came back when an attribute of the same id or slug
was read, and stayed findable by search."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest

from tests.conftest import Workspace
from tests.search.test_search import eventually, ids, search

pytestmark = pytest.mark.usefixtures("worker")
SECRET = "Xylophonic Quartzberry"


async def test_deleting_an_attribute_removes_its_values_from_records_and_search(
        ws: Workspace, db: asyncpg.Connection) -> None:
    created = await ws.post("/v1/objects/person/attributes", {"name": "Codename", "slug": "codename", "type": "text"})
    assert created.status_code == 200, created.text
    attribute_id = int(created.json()["id"])
    person = await ws.post("/v1/objects/person", {"attributes": {"name": "Ada Byron", "codename": SECRET}})
    record_id = person.json()["id"]

    async def found() -> bool:
        return record_id in ids(await search(ws, "Quartzberry"), "person")

    await eventually(found)

    deleted = await ws.delete(f"/v1/objects/person/attributes/{attribute_id}")

    assert deleted.status_code == 200, deleted.text
    row = await db.fetchrow("SELECT data, value_meta FROM records WHERE workspace_id = $1 AND id = $2",
                            int(ws.id), int(record_id))
    assert str(attribute_id) not in row["data"] and str(attribute_id) not in row["value_meta"]
    read: dict[str, Any] = (await ws.get(f"/v1/records/{record_id}")).json()
    assert "codename" not in read["attributes"] and SECRET not in str(read)

    async def gone() -> bool:
        return record_id not in ids(await search(ws, "Quartzberry"), "person")

    await eventually(gone, within=10)
    assert record_id in ids(await search(ws, "Ada Byron"), "person"), "the record itself stays findable"
