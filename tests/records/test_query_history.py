"""Queries over list entries (their attributes and their parent record's) and the ``$changed``
operator, answered from attribute history."""

from __future__ import annotations

from typing import Any

import pytest

from tessera.records import listing
from tests.conftest import FakeClock, Workspace, WorkspaceFactory
from tests.records.query_catalog import SLUG, build_catalog
from tests.spec import assert_matches

# --- list queries ----------------------------------------------------------------------------

async def test_list_queries_filter_and_sort_on_entry_and_parent(make_workspace: WorkspaceFactory,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    cat = await build_catalog(await make_workspace("lists"))
    ws = cat.ws
    created = await ws.post(f"/v1/objects/{SLUG}/lists", {"name": "Shortlist", "slug": "shortlist"})
    assert created.status_code == 200, created.text
    list_id = created.json()["id"]
    rank = await ws.post("/v1/objects/shortlist/attributes", {"name": "Rank", "slug": "rank", "type": "number"})
    assert rank.status_code == 200, rank.text
    entries = {}
    for code, value in (("r01", 3), ("r02", 1), ("r03", 2), ("r06", None)):
        added = await ws.post(f"/v1/lists/{list_id}", {"parent_id": cat.ids[code],
                                                       "attributes": {"rank": value} if value else {}})
        assert added.status_code == 200, added.text
        entries[code] = added.json()["id"]

    async def names(expect: int = 200, **body: Any) -> list[str]:
        response = await ws.post(f"/v1/lists/{list_id}/records", body)
        assert response.status_code == expect, response.text
        if expect != 200:
            assert response.json()["errors"][0]["path"].startswith(("filter", "sorts"))
            return []
        assert_matches("developer.ListRecordsResponse", response.json())
        for item in response.json()["data"]:
            assert item["list_entry"]["id"] == entries[cat.codes[item["id"]]]
        return [cat.codes[item["id"]] for item in response.json()["data"]]

    for small in (2000, 0):
        monkeypatch.setattr(listing, "SMALL_RESULT", small)
        assert await names() == ["r01", "r02", "r03", "r06"]
        assert set(await names(filter={"parent.qty": 10})) == {"r01", "r03"}
        assert set(await names(filter={"parent.title": {"$starts_with": "a"}})) == {"r01", "r02"}
        assert set(await names(filter={"parent.name.last_name": "Hopper"})) == {"r03"}
        assert set(await names(filter={"parent.id": cat.ids["r02"]})) == {"r02"}
        assert set(await names(filter={"rank": {"$gte": 2}})) == {"r01", "r03"}
        assert set(await names(filter={"rank": None})) == {"r06"}
        assert set(await names(filter={"$or": [{"rank": 1}, {"parent.stage": "lost"}]})) == {"r02", "r03"}
        assert set(await names(filter={"parent.qty": {"$ne": 10}})) == {"r02", "r06"}
        assert await names(sort={"attribute": "rank", "direction": "desc"}) == ["r01", "r03", "r02", "r06"]
        assert await names(sort={"attribute": "parent.title"}) == ["r01", "r03", "r02", "r06"]
        assert await names(sorts=[{"attribute": "parent.qty", "direction": "desc"}, {"attribute": "rank"}]) == \
            ["r02", "r03", "r01", "r06"]
        await names(expect=400, filter={"qty": 10})  # the entry has no qty: parent.qty is meant
        await names(expect=400, filter={"parent.nope": 1})
        await names(expect=400, filter={"parent.title": {"$changed": {"to": "x"}}})
        await names(expect=400, sort={"attribute": "parent.nope"})


# --- $changed --------------------------------------------------------------------------------

@pytest.fixture
async def history(ws: Workspace, fake_clock: FakeClock) -> tuple[Workspace, dict[str, str], list[str]]:
    """Three records whose stage moves through time; returns their ids and the instants between
    the steps (t0 < creation < t1 < first change < t2 < second change < t3)."""
    assert (await ws.post("/v1/objects", {"name": "Deal", "slug": "deal"})).status_code == 200
    for definition in ({"name": "Code", "slug": "code", "type": "text"},
                       {"name": "Stage", "slug": "stage", "type": "select",
                        "options": {"select_options": [{"name": "Open"}, {"name": "Won"}, {"name": "Lost"}]}},
                       {"name": "Amount", "slug": "amount", "type": "number"}):
        assert (await ws.post("/v1/objects/deal/attributes", definition)).status_code == 200
    instants = []

    async def now() -> str:
        # The clock the API stamps writes with; read it back through a throwaway record.
        created = await ws.post("/v1/objects/deal", {"attributes": {"code": "clock"}})
        record = created.json()
        assert (await ws.delete(f"/v1/records/{record['id']}")).status_code == 200
        return str(record["created_at"])

    fake_clock.advance(3600)
    instants.append(await now())
    fake_clock.advance(3600)
    ids = {}
    for code, stage in (("a", "Open"), ("b", "Open"), ("c", "Won")):
        created = await ws.post("/v1/objects/deal", {"attributes": {"code": code, "stage": stage, "amount": 1}})
        ids[code] = created.json()["id"]
    fake_clock.advance(3600)
    instants.append(await now())
    fake_clock.advance(3600)
    assert (await ws.patch(f"/v1/records/{ids['a']}", {"attributes": {"stage": "Won"}})).status_code == 200
    assert (await ws.patch(f"/v1/records/{ids['b']}", {"attributes": {"stage": "Lost", "amount": 2}})).status_code \
        == 200
    fake_clock.advance(3600)
    instants.append(await now())
    fake_clock.advance(3600)
    assert (await ws.patch(f"/v1/records/{ids['b']}", {"attributes": {"stage": None}})).status_code == 200
    fake_clock.advance(3600)
    instants.append(await now())
    return ws, ids, instants


async def test_changed(history: tuple[Workspace, dict[str, str], list[str]]) -> None:
    ws, ids, (t0, t1, t2, t3) = history
    codes = {v: k for k, v in ids.items()}

    async def match(condition: dict[str, Any]) -> set[str]:
        response = await ws.post("/v1/objects/deal/records", {"filter": {"stage": {"$changed": condition}}})
        assert response.status_code == 200, response.text
        return {codes[item["id"]] for item in response.json()["data"]}

    # to: took the value at some point (creation counts) at or after since
    assert await match({"to": "Won"}) == {"a", "c"}
    assert await match({"to": "won", "since": t1}) == {"a"}
    assert await match({"to": "Open"}) == {"a", "b"}
    assert await match({"to": "Open", "since": t1}) == set()
    assert await match({"to": ["Lost", "Won"], "since": t1}) == {"a", "b"}
    assert await match({"to": "Lost", "since": t2}) == set()
    # from + to: one value directly followed by the other
    assert await match({"from": "Open", "to": "Won"}) == {"a"}
    assert await match({"from": "Open", "to": "Lost"}) == {"b"}
    assert await match({"from": "Open", "to": "Won", "since": t2}) == set()
    assert await match({"from": "Won", "to": "Open"}) == set()
    # since alone: changed (not merely created) at or after since
    assert await match({"since": t0}) == {"a", "b"}
    assert await match({"since": t2}) == {"b"}
    assert await match({"since": t3}) == set()
    assert await match({"since": "2000-01-01"}) == {"a", "b"}  # a bare date is its midnight UTC
    assert await match({"since": "2999-01-01"}) == set()
    # combined with other conditions
    response = await ws.post("/v1/objects/deal/records", {"filter": {
        "$and": [{"stage": {"$changed": {"to": "Won"}}}, {"$not": {"stage": {"$changed": {"since": t1}}}}]}})
    assert {codes[item["id"]] for item in response.json()["data"]} == {"c"}
    amount = await ws.post("/v1/objects/deal/records", {"filter": {"amount": {"$changed": {"to": 2}}}})
    assert {codes[item["id"]] for item in amount.json()["data"]} == {"b"}


async def test_changed_from(history: tuple[Workspace, dict[str, str], list[str]]) -> None:
    """from: left the value (its period ended) at or after since."""
    ws, ids, (_t0, t1, _t2, t3) = history
    for condition, expected in (({"from": "Open"}, {"a", "b"}), ({"from": "open", "since": t1}, {"a", "b"}),
                                ({"from": "Lost"}, {"b"}), ({"from": "Lost", "since": t3}, set()),
                                ({"from": ["Won", "Lost"]}, {"b"}), ({"from": "Won"}, set())):
        response = await ws.post("/v1/objects/deal/records", {"filter": {"stage": {"$changed": condition}}})
        assert response.status_code == 200, response.text
        assert {item["id"] for item in response.json()["data"]} == {ids[c] for c in expected}, condition


async def test_changed_is_refused_where_history_cannot_compare(ws: Workspace) -> None:
    # History keeps stored values; dates and composite values do not compare with an operand,
    # so $changed is limited to scalar attributes and says so instead of matching nothing.
    assert (await ws.post("/v1/objects", {"name": "Deal", "slug": "deal"})).status_code == 200
    for definition in ({"name": "Due", "slug": "due", "type": "date"},
                       {"name": "Price", "slug": "price", "type": "currency"}):
        assert (await ws.post("/v1/objects/deal/attributes", definition)).status_code == 200
    for condition in ({"due": {"$changed": {"to": "2024-01-10"}}}, {"price": {"$changed": {"to": 100}}}):
        response = await ws.post("/v1/objects/deal/records", {"filter": condition})
        assert response.status_code == 400, condition
        assert "$changed" in response.json()["message"]
