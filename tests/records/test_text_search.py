"""Substring search over the records' text values in PostgreSQL (what search falls back on when
Meilisearch cannot answer): terms counted per record, most first, narrowed by a filter, wildcards
taken literally; and the fallback's ranking on top of it."""

from __future__ import annotations

from typing import Any

from schema_registry.definitions import ObjectDefinition
from schema_registry.query import parse_filter
from tessera.db.tenant import Tenant
from tessera.fulltext.fallback import search_postgres
from tessera.records.text_search import match_terms
from tests.conftest import Workspace


async def create(ws: Workspace, obj: str, **attributes: object) -> int:
    response = await ws.post(f"/v1/objects/{obj}", {"attributes": attributes})
    assert response.status_code == 200, response.text
    return int(response.json()["id"])


async def company(app: Any, tenant: Tenant) -> ObjectDefinition:
    obj: ObjectDefinition | None = (await app.state.tessera.schemas.current(tenant)).object("company")
    assert obj is not None
    return obj


async def test_match_terms(ws: Workspace, app: Any) -> None:
    both = await create(ws, "company", name="Acme Rockets", description="rockets and anvils")
    one = await create(ws, "company", name="Anvil Works")
    await create(ws, "company", name="Globex")
    literal = await create(ws, "company", name="100% Pure_Juice")
    async with app.state.tessera.engine.connect() as conn, conn.begin():
        tenant = Tenant(conn, int(ws.id))
        obj = await company(app, tenant)
        matches = await match_terms(tenant, ["rocket", "anvil"], [obj.id], limit=10)
        assert [(m.record_id, m.matched) for m in matches] == [(both, 2), (one, 1)]
        assert matches[0].object_id == obj.id and matches[0].sample == "Acme Rockets"  # the first in text order
        assert [m.record_id for m in await match_terms(tenant, ["rocket", "anvil"], [obj.id], limit=1)] == [both]
        assert [m.record_id for m in await match_terms(tenant, ["0% pure_"], [obj.id], limit=10)] == [literal]
        assert await match_terms(tenant, ["0_ pure%"], [obj.id], limit=10) == []  # % and _ are not wildcards
        narrowed = parse_filter(obj, {"name": {"$starts_with": "Anvil"}})
        assert [m.record_id for m in await match_terms(tenant, ["rocket", "anvil"], [obj.id], limit=10,
                                                       node=narrowed)] == [one]


async def test_the_fallback_orders_by_terms_matched_and_doubles_a_match_in_the_primary_value(
        ws: Workspace, app: Any) -> None:
    in_name = await create(ws, "company", name="Initech")
    both_terms = await create(ws, "company", name="Hooli", description="bought initech for its TPS reports")
    elsewhere = await create(ws, "company", name="Pied Piper", description="initech alumni")
    async with app.state.tessera.engine.connect() as conn, conn.begin():
        tenant = Tenant(conn, int(ws.id))
        hits = (await search_postgres(tenant, "Initech TPS", [await company(app, tenant)], limit=5))["company"]
    assert [(h["id"], h["primary_value"], h["score"]) for h in hits] == [
        (str(both_terms), "Hooli", 1.0), (str(in_name), "Initech", 1.0), (str(elsewhere), "Pied Piper", 0.5)]
    assert hits[0]["matched_value"] == "bought initech for its TPS reports"
