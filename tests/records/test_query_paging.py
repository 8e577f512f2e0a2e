"""Record queries page by page: offset and cursor pagination, totals (and their cap), and the
three query plans (filter-first, id walk, sort-index walk) giving the same answers."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from tessera.records import listing
from tests.conftest import WorkspaceFactory
from tests.records.query_catalog import CODES, SORT_CASES, Catalog, build_catalog

# --- pagination ------------------------------------------------------------------------------

@pytest.mark.parametrize("plan", ["filter_first", "walk"])
async def test_offset_pagination(catalog: Catalog, monkeypatch: pytest.MonkeyPatch, plan: str) -> None:
    if plan == "walk":
        monkeypatch.setattr(listing, "SMALL_RESULT", 0)
    seen: list[str] = []
    offset = 0
    while True:
        body = await catalog.query(limit=3, offset=offset, sort={"attribute": "qty", "direction": "desc"})
        assert body["total"] == 8 and body["limit"] == 3 and body["offset"] == offset
        seen += catalog.names(body)
        if not body["has_more"]:
            assert "next_offset" not in body and "next_cursor" not in body
            break
        assert body["next_offset"] == offset + 3 and body["next_cursor"]
        offset = body["next_offset"]
    assert seen == SORT_CASES[3][1]
    exact = await catalog.query(limit=4, offset=4)
    assert catalog.names(exact) == CODES[4:] and exact["has_more"] is False and "next_offset" not in exact
    beyond = await catalog.query(limit=5, offset=100)
    assert beyond["data"] == [] and beyond["total"] == 8 and beyond["has_more"] is False
    default = await catalog.query()
    assert default["limit"] == 50 and default["offset"] == 0 and len(default["data"]) == 8


async def test_totals_follow_the_filter(catalog: Catalog) -> None:
    body = await catalog.query(filter={"qty": {"$gte": 10}}, limit=1)
    assert body["total"] == 5 and body["has_more"] is True and len(body["data"]) == 1
    empty = await catalog.query(filter={"qty": 999})
    assert empty == {"data": [], "total": 0, "limit": 50, "offset": 0, "has_more": False}


@pytest.mark.parametrize("plan", ["filter_first", "walk"])
async def test_total_stops_counting_at_the_cap_but_paging_goes_on(catalog: Catalog, monkeypatch: pytest.MonkeyPatch,
                                                                  plan: str) -> None:
    monkeypatch.setattr(listing, "COUNT_CAP", 3)
    if plan == "walk":
        monkeypatch.setattr(listing, "SMALL_RESULT", 0)
    for flt in (None, {"qty": {"$gte": 10}}, {"tags": {"$exists": True}}):
        reference = await catalog.query(filter=flt, limit=500) if flt else await catalog.query(limit=500)
        seen: list[str] = []
        offset = 0
        while True:
            body = await catalog.query(limit=2, offset=offset, **({"filter": flt} if flt else {}))
            assert body["total"] == min(3, len(reference["data"])), (flt, body["total"])
            seen += catalog.names(body)
            if not body["has_more"]:
                break
            offset = body["next_offset"]
        assert seen == catalog.names(reference) and len(seen) > 3, flt
    narrow = await catalog.query(filter={"qty": 999})
    assert narrow["total"] == 0


async def test_total_counts_each_record_once_when_several_values_match(catalog: Catalog) -> None:
    for flt in ({"emails.domain": "math.org"}, {"tags": {"$starts_with": "blue"}}, {"tags": ["red", "blue"]},
                {"tags": {"$exists": True}}):
        body = await catalog.query(filter=flt, limit=500)
        assert body["total"] == len(body["data"]), (flt, body["total"], len(body["data"]))


async def _walk(catalog: Catalog, limit: int, **query: Any) -> list[str]:
    seen: list[str] = []
    cursor = None
    for _ in range(50):
        body = await catalog.query(limit=limit, **query, **({"cursor": cursor} if cursor else {}))
        assert len(body["data"]) <= limit and body["offset"] == 0
        if cursor:
            assert "next_offset" not in body
        seen += catalog.names(body)
        if not body["has_more"]:
            assert "next_cursor" not in body
            return seen
        cursor = body["next_cursor"]
        assert cursor
    raise AssertionError("the cursor walk did not end")


CURSOR_QUERIES: list[dict[str, Any]] = [
    {},
    {"sort": {"attribute": "title", "direction": "asc"}},
    {"sort": {"attribute": "title", "direction": "desc"}},
    {"sort": {"attribute": "qty", "direction": "desc"}},
    {"sort": {"attribute": "qty", "direction": "asc"}, "filter": {"$not": {"qty": 5}}},
    {"sort": {"attribute": "due", "direction": "asc"}},
    {"sort": {"attribute": "active", "direction": "desc"}},
    {"sort": {"attribute": "tags", "direction": "desc"}},
    {"sorts": [{"attribute": "qty", "direction": "desc"}, {"attribute": "title", "direction": "desc"}]},
    {"sorts": [{"attribute": "stage", "direction": "asc"}, {"attribute": "due", "direction": "desc"}]},
    {"sort": {"attribute": "created_at", "direction": "desc"}},
    {"filter": {"$or": [{"qty": 10}, {"title": None}, {"tags": "red"}]},
     "sort": {"attribute": "score", "direction": "desc"}},
]


@pytest.mark.parametrize("query", CURSOR_QUERIES, ids=[str(q) for q in CURSOR_QUERIES])
@pytest.mark.parametrize("plan", ["filter_first", "walk"])
async def test_cursor_walks_every_record_exactly_once(catalog: Catalog, monkeypatch: pytest.MonkeyPatch,
                                                     query: dict[str, Any], plan: str) -> None:
    reference = catalog.names(await catalog.query(limit=500, **query))
    if plan == "walk":
        monkeypatch.setattr(listing, "SMALL_RESULT", 0)
    for limit in (1, 2, 3):
        walked = await _walk(catalog, limit, **query)
        assert walked == reference, (limit, walked, reference)
        assert len(set(walked)) == len(walked)


async def test_cursor_is_bound_to_its_query(catalog: Catalog, make_workspace: WorkspaceFactory) -> None:
    first = await catalog.query(limit=2, sort={"attribute": "title"})
    cursor = first["next_cursor"]
    # The same query (even with another limit) accepts it ...
    assert catalog.names(await catalog.query(limit=3, sort={"attribute": "title"}, cursor=cursor)) == \
        SORT_CASES[0][1][2:5]
    # ... another sort, another direction, a filter, no sort: 400
    for other in ({"sort": {"attribute": "qty"}}, {"sort": {"attribute": "title", "direction": "desc"}},
                  {"sort": {"attribute": "title"}, "filter": {"qty": 10}}, {},
                  {"sorts": [{"attribute": "title"}, {"attribute": "qty"}]}):
        body = await catalog.query(expect=400, limit=2, cursor=cursor, **other)
        assert "cursor" in body["message"].lower()
    # ... a tampered cursor: 400
    raw = bytearray(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    raw[-3] ^= 1
    tampered = base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")
    for bad in (tampered, cursor[:-2], "not-a-cursor", "!!!", cursor + "AA"):
        await catalog.query(expect=400, limit=2, sort={"attribute": "title"}, cursor=bad)
    # ... another workspace with the same object and query: 400
    other_ws = await build_catalog(await make_workspace("other"))
    await other_ws.query(expect=400, limit=2, sort={"attribute": "title"}, cursor=cursor)


async def test_offset_with_cursor_is_400(catalog: Catalog) -> None:
    cursor = (await catalog.query(limit=2))["next_cursor"]
    body = await catalog.query(expect=400, limit=2, offset=2, cursor=cursor)
    assert "cursor" in body["message"] or "cursor" in str(body.get("errors"))
    # offset 0 is no offset
    assert catalog.names(await catalog.query(limit=2, offset=0, cursor=cursor)) == CODES[2:4]


# --- the plans agree -------------------------------------------------------------------------

PLAN_QUERIES: list[dict[str, Any]] = [
    {},
    {"filter": {"qty": {"$gte": 5}}},
    {"filter": {"$not": {"title": "Beta"}}},
    {"filter": {"$or": [{"emails.domain": "math.org"}, {"stage": None}]}},
    {"sort": {"attribute": "title", "direction": "asc"}},
    {"sort": {"attribute": "title", "direction": "desc"}},
    {"sort": {"attribute": "qty", "direction": "desc"}},
    {"sort": {"attribute": "qty", "direction": "asc"}, "filter": {"active": {"$ne": False}}},
    {"sort": {"attribute": "due", "direction": "asc"}, "filter": {"$not": {"tags": "zzz"}}},
    {"sort": {"attribute": "name.last_name", "direction": "desc"}},
    {"sort": {"attribute": "price", "direction": "desc"}, "filter": {"$or": [{"qty": 10}, {"title": None}]}},
    {"sort": {"attribute": "phone.country_code", "direction": "asc"}},
    {"sorts": [{"attribute": "active"}, {"attribute": "qty", "direction": "desc"}]},
    {"sort": {"attribute": "id", "direction": "desc"}, "filter": {"title": {"$contains": "a"}}},
]


@pytest.mark.parametrize("query", PLAN_QUERIES, ids=[str(q) for q in PLAN_QUERIES])
@pytest.mark.parametrize("small", [0, 3])
async def test_walking_plans_equal_filter_first(catalog: Catalog, monkeypatch: pytest.MonkeyPatch,
                                                query: dict[str, Any], small: int) -> None:
    reference = await catalog.query(limit=500, **query)
    expected = catalog.names(reference)
    monkeypatch.setattr(listing, "SMALL_RESULT", small)
    whole = await catalog.query(limit=500, **query)
    assert catalog.names(whole) == expected and whole["total"] == reference["total"]
    # every window of every size, including windows across the valued/null boundary
    for limit in (1, 3):
        for offset in range(len(expected) + 2):
            page = await catalog.query(limit=limit, offset=offset, **query)
            assert catalog.names(page) == expected[offset:offset + limit], (limit, offset)
            assert page["has_more"] is (offset + limit < len(expected))
            assert page["total"] == reference["total"]
            if page["has_more"]:
                assert page["next_offset"] == offset + limit
    assert await _walk(catalog, 2, **query) == expected


async def test_sort_index_walk_page_boundaries_around_nulls(catalog: Catalog, small_result: None) -> None:
    # qty desc: six valued records (20, 20, 10, 10, 10, 5) then r04 and r06 without a value.
    order = SORT_CASES[3][1]
    sort = {"attribute": "qty", "direction": "desc"}
    assert catalog.names(await catalog.query(limit=2, offset=5, sort=sort)) == order[5:7]  # valued + null
    assert catalog.names(await catalog.query(limit=3, offset=6, sort=sort)) == order[6:]  # only nulls
    assert catalog.names(await catalog.query(limit=1, offset=7, sort=sort)) == order[7:]
    assert (await catalog.query(limit=1, offset=8, sort=sort))["data"] == []
    first = await catalog.query(limit=6, sort=sort)  # ends exactly at the last valued record
    assert catalog.names(first) == order[:6] and first["has_more"]
    rest = await catalog.query(limit=6, sort=sort, cursor=first["next_cursor"])
    assert catalog.names(rest) == order[6:] and not rest["has_more"]
    in_nulls = await catalog.query(limit=7, sort=sort)  # ends inside the null group
    assert catalog.names(await catalog.query(limit=5, sort=sort, cursor=in_nulls["next_cursor"])) == order[7:]
