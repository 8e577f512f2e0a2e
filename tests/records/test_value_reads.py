"""The record engine's reads for the rest of the service: records by their primary text, records
by a facet's value (exact, also past the text index's 200-character prefix)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from schema_registry.definitions import ObjectDefinition
from tessera.db.tenant import Tenant
from tessera.records.repository import find_by_facet, find_by_text
from tests.conftest import Workspace


@pytest.fixture
async def tenant(ws: Workspace, app: Any) -> AsyncIterator[Tenant]:
    engine = app.state.tessera.engine
    async with engine.connect() as conn, conn.begin():
        yield Tenant(conn, int(ws.id))


async def create(ws: Workspace, obj: str, **attributes: object) -> int:
    response = await ws.post(f"/v1/objects/{obj}", {"attributes": attributes})
    assert response.status_code == 200, response.text
    return int(response.json()["id"])


async def definition(app: Any, tenant: Tenant, slug: str) -> ObjectDefinition:
    schema = await app.state.tessera.schemas.current(tenant)
    obj: ObjectDefinition | None = schema.object(slug)
    assert obj is not None
    return obj


async def test_find_by_text_ignores_case_and_takes_the_oldest(ws: Workspace, app: Any, tenant: Tenant) -> None:
    first = await create(ws, "company", name="Globex Corp")
    await create(ws, "company", name="GLOBEX CORP")
    other = await create(ws, "company", name="Initech")
    company = await definition(app, tenant, "company")
    name = company.primary_attribute
    assert name is not None
    assert await find_by_text(tenant, name.id, "globex corp") == first
    assert await find_by_text(tenant, name.id, "Initech") == other
    assert await find_by_text(tenant, name.id, "Globex") is None  # the whole value, not a part


async def test_find_by_facet(ws: Workspace, app: Any, tenant: Tenant) -> None:
    ada = await create(ws, "person", name="Ada", email_addresses=["ada@acme.com", "ada@home.example"])
    bob = await create(ws, "person", name="Bob", email_addresses=["bob@acme.com"])
    eve = await create(ws, "person", name="Eve", email_addresses=["eve@globex.example"])
    person = await definition(app, tenant, "person")
    emails = person.attribute("email_addresses")
    assert emails is not None
    assert sorted(await find_by_facet(tenant, emails.id, "domain", ["acme.com"], limit=5)) == [ada, bob]
    assert sorted(await find_by_facet(tenant, emails.id, "domain", ["acme.com", "globex.example"], limit=5)
                  ) == [ada, bob, eve]
    assert len(await find_by_facet(tenant, emails.id, "domain", ["acme.com", "globex.example"], limit=2)) == 2
    assert await find_by_facet(tenant, emails.id, "domain", ["ACME.com"], limit=5) == []  # exact
    assert await find_by_facet(tenant, emails.id, "domain", [], limit=5) == []
    assert await find_by_facet(tenant, emails.id, "", ["bob@acme.com"], limit=5) == [bob]


async def test_find_by_facet_compares_whole_values_past_the_index_prefix(ws: Workspace, app: Any) -> None:
    created = await ws.post("/v1/objects/company/attributes", {"name": "Motto", "slug": "motto", "type": "text"})
    assert created.status_code == 200, created.text
    prefix = "m" * 200
    long_one = await create(ws, "company", name="A", motto=prefix + "a" * 50)
    await create(ws, "company", name="B", motto=prefix + "b" * 50)
    short = await create(ws, "company", name="C", motto=prefix)
    async with app.state.tessera.engine.connect() as conn, conn.begin():
        tenant = Tenant(conn, int(ws.id))
        motto = (await definition(app, tenant, "company")).attribute("motto")
        assert motto is not None
        assert await find_by_facet(tenant, motto.id, "", [prefix + "a" * 50], limit=5) == [long_one]
        assert await find_by_facet(tenant, motto.id, "", [prefix], limit=5) == [short]
