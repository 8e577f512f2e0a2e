"""Listing records through the HTTP API: the query language (every operator on every type that
allows it, shorthand forms, logic, multi-value semantics, sub-field and metadata targets), its
validation, sorting, attribute selection modes and workspace isolation. Paging and the plans are
in test_query_paging.py; list queries and ``$changed`` in test_query_history.py. Most tests read
the catalog of ``query_catalog.py``.
"""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any

import pytest

from tessera.records import listing
from tests.conftest import WorkspaceFactory
from tests.records.query_catalog import ALL, CODES, ROWS, SLUG, SORT_CASES, Catalog, build_catalog

# --- operators, shorthand, logic -------------------------------------------------------------

def _without(*codes: str) -> set[str]:
    return ALL - set(codes)


FILTER_CASES: list[tuple[Any, set[str]]] = [
    # text: equality is exact (case-sensitive), substring operators ignore case
    ({"title": "Alpha"}, {"r01"}),
    ({"title": {"$eq": "alpha"}}, {"r02"}),
    ({"title": {"$ne": "Beta"}}, _without("r03", "r08")),
    ({"title": {"$in": ["Alpha", "gamma"]}}, {"r01", "r05"}),
    ({"title": ["Alpha", "gamma"]}, {"r01", "r05"}),
    ({"title": {"$nin": ["Alpha", "Beta"]}}, {"r02", "r04", "r05", "r06", "r07"}),
    ({"title": {"$contains": "AMM"}}, {"r04", "r05"}),
    ({"title": {"$starts_with": "al"}}, {"r01", "r02"}),
    ({"title": {"$ends_with": "A"}}, {"r01", "r02", "r03", "r05", "r08"}),
    ({"title": {"$contains": "%"}}, {"r07"}),  # LIKE wildcards are literal
    ({"title": {"$contains": "_"}}, {"r07"}),
    ({"title": {"$starts_with": "50%"}}, {"r07"}),
    ({"title": {"$exists": True}}, _without("r06")),
    ({"title": {"$exists": False}}, {"r06"}),
    ({"title": None}, {"r06"}),
    ({"title": {"$contains": "a", "$ne": "alpha"}}, {"r01", "r03", "r04", "r05", "r07", "r08"}),
    # whole numbers (operands may have a fraction)
    ({"qty": 10}, {"r01", "r03", "r08"}),
    ({"qty": 10.0}, {"r01", "r03", "r08"}),
    ({"qty": {"$ne": 10}}, {"r02", "r04", "r05", "r06", "r07"}),
    ({"qty": {"$lt": 10}}, {"r05"}),
    ({"qty": {"$lte": 10}}, {"r01", "r03", "r05", "r08"}),
    ({"qty": {"$gt": 10}}, {"r02", "r07"}),
    ({"qty": {"$gte": 9.5}}, {"r01", "r02", "r03", "r07", "r08"}),
    ({"qty": {"$gte": 5, "$lt": 20}}, {"r01", "r03", "r05", "r08"}),
    ({"qty": [5, 20]}, {"r02", "r05", "r07"}),
    ({"qty": {"$in": [5, 20]}}, {"r02", "r05", "r07"}),
    ({"qty": {"$nin": [5, 20]}}, {"r01", "r03", "r04", "r06", "r08"}),
    ({"qty": None}, {"r04", "r06"}),
    # numbers with fractions
    ({"score": 2.25}, {"r02", "r07"}),
    ({"score": {"$lt": 0}}, {"r03"}),
    ({"score": {"$lte": 0}}, {"r03", "r04"}),
    ({"score": {"$gt": 1.49}}, {"r01", "r02", "r07"}),
    ({"score": {"$gte": -3, "$lte": -3}}, {"r03"}),
    # multi-value email: any value matches a positive operator; $ne/$nin need no value to equal
    ({"emails": "ADA@Engines.co.uk"}, {"r01"}),
    ({"emails": {"$in": ["g@math.org", "don@stanford.edu"]}}, {"r03", "r07"}),
    ({"emails": {"$ne": "ada@math.org"}}, _without("r01")),
    ({"emails": {"$nin": ["ada@math.org", "g@math.org"]}}, _without("r01", "r03")),
    ({"emails": {"$contains": "@MATH"}}, {"r01", "r03"}),
    ({"emails": {"$starts_with": "g"}}, {"r03"}),
    ({"emails": {"$ends_with": ".EDU"}}, {"r05", "r07"}),
    ({"emails": {"$exists": False}}, {"r04", "r06", "r08"}),
    ({"emails.domain": "math.org"}, {"r01", "r03"}),
    ({"emails.domain": "MATH.org"}, {"r01", "r03"}),
    ({"emails.domain": {"$ends_with": ".org"}}, {"r01", "r02", "r03"}),
    ({"emails.domain": {"$ne": "math.org"}}, _without("r01", "r03")),
    ({"emails.domain": ["navy.mil", "mit.edu"]}, {"r03", "r05"}),
    # multi-value text
    ({"tags": "blue"}, {"r01", "r02", "r08"}),
    ({"tags": {"$ne": "blue"}}, {"r03", "r04", "r05", "r06", "r07"}),
    ({"tags": {"$nin": ["red", "green"]}}, {"r02", "r03", "r05", "r06", "r08"}),
    ({"tags": {"$starts_with": "BLUE"}}, {"r01", "r02", "r08"}),
    ({"tags": "blue2"}, {"r08"}),
    ({"$and": [{"tags": "red"}, {"tags": "blue"}]}, {"r01"}),
    ({"tags": {"$ne": "red", "$exists": True}}, {"r02", "r04", "r08"}),
    # select: by option name, any case
    ({"stage": "open"}, {"r01", "r05"}),
    ({"stage": "WON"}, {"r02", "r07"}),
    ({"stage": {"$in": ["Lost", "won"]}}, {"r02", "r03", "r07"}),
    ({"stage": {"$ne": "Open"}}, {"r02", "r03", "r04", "r06", "r07", "r08"}),
    ({"stage": {"$nin": ["open", "lost"]}}, {"r02", "r04", "r06", "r07", "r08"}),
    ({"stage": None}, {"r04", "r06", "r08"}),
    ({"stage": {"$exists": True}}, {"r01", "r02", "r03", "r05", "r07"}),
    # dates: a date is its midnight UTC; date-times compare as instants
    ({"due": "2024-01-10"}, {"r01", "r05"}),
    ({"due": "2024-01-10T00:00:00Z"}, {"r01", "r05"}),
    ({"due": "2024-03-01T14:00:00+02:00"}, {"r02"}),
    ({"due": {"$gt": "2024-01-10"}}, {"r02", "r07"}),
    ({"due": {"$gte": "2024-01-10"}}, {"r01", "r02", "r05", "r07"}),
    ({"due": {"$lt": "2024-01-01"}}, {"r03"}),
    ({"due": {"$lte": "2024-03-01T12:00:00Z"}}, {"r01", "r02", "r03", "r05"}),
    ({"due": {"$gte": "2024-01-01", "$lt": "2025-01-01"}}, {"r01", "r02", "r05"}),
    ({"due": {"$ne": "2024-01-10"}}, {"r02", "r03", "r04", "r06", "r07", "r08"}),
    ({"due": {"$in": ["2023-12-31", "2025-06-30"]}}, {"r03", "r07"}),
    ({"due": {"$nin": ["2023-12-31", "2025-06-30"]}}, {"r01", "r02", "r04", "r05", "r06", "r08"}),
    # boolean
    ({"active": True}, {"r01", "r03", "r07"}),
    ({"active": False}, {"r02", "r05"}),
    ({"active": {"$eq": False}}, {"r02", "r05"}),
    ({"active": {"$ne": True}}, {"r02", "r04", "r05", "r06", "r08"}),
    ({"active": {"$exists": False}}, {"r04", "r06", "r08"}),
    # currency: the bare slug is the amount; the code is a sub-field
    ({"price": 100}, {"r01", "r03"}),
    ({"price": {"$gt": 50}}, {"r01", "r02", "r03"}),
    ({"price": {"$lt": 50.5}}, {"r05"}),
    ({"price": {"$lte": 50.5}}, {"r02", "r05"}),
    ({"price": {"$gte": 100}}, {"r01", "r03"}),
    ({"price": {"$in": [5, 50.5]}}, {"r02", "r05"}),
    ({"price.currency_code": "usd"}, {"r01", "r03"}),
    ({"price.currency_code": {"$in": ["EUR", "jpy"]}}, {"r02", "r05"}),
    ({"price.currency_code": {"$ne": "USD"}}, {"r02", "r04", "r05", "r06", "r07", "r08"}),
    ({"price.currency_code": {"$starts_with": "u"}}, {"r01", "r03"}),
    ({"price": 100, "price.currency_code": "USD"}, {"r01", "r03"}),
    # location: country codes are normalised like stored ones
    ({"place.country_code": "GB"}, {"r01", "r02"}),
    ({"place.country_code": "United Kingdom"}, {"r01", "r02"}),
    ({"place.country_code": "nld"}, {"r04"}),
    ({"place.country_code": {"$nin": ["GB"]}}, {"r03", "r04", "r05", "r06", "r07", "r08"}),
    ({"place.city": {"$starts_with": "new"}}, {"r03"}),
    ({"place.region": "NY"}, {"r03"}),
    ({"place": {"$contains": "london"}}, {"r01"}),
    ({"place.city": None}, {"r04", "r05", "r06", "r07", "r08"}),
    # full name: whitespace collapsed; first and last names as sub-fields
    ({"name": "Grace   Hopper"}, {"r03"}),
    ({"name": {"$contains": "ar"}}, {"r05"}),
    ({"name.last_name": "Hopper"}, {"r03"}),
    ({"name.first_name": {"$starts_with": "A"}}, {"r01", "r02"}),
    ({"name.last_name": {"$in": ["Liskov", "Knuth"]}}, {"r05", "r07"}),
    ({"name.first_name": {"$exists": False}}, {"r06"}),
    # domain: operands are reduced to their registered domain
    ({"site": "https://blog.engines.co.uk/x"}, {"r01"}),
    ({"site": {"$ends_with": ".org"}}, {"r02"}),
    ({"site": {"$in": ["navy.mil", "www.bletchley.org"]}}, {"r02", "r03"}),
    ({"site": {"$nin": ["navy.mil"]}}, _without("r03")),
    # phone: operands are parsed to E.164; the region is a sub-field
    ({"phone": "+1 (201) 555-0123"}, {"r02"}),
    ({"phone": {"$starts_with": "+44"}}, {"r01"}),
    ({"phone": {"$contains": "555"}}, {"r02"}),
    ({"phone.country_code": "us"}, {"r02"}),
    ({"phone.country_code": "GB"}, {"r01"}),
    ({"phone": {"$exists": True}}, {"r01", "r02"}),
    # logic
    ({"$or": [{"title": "Alpha"}, {"qty": 5}]}, {"r01", "r05"}),
    ({"$and": [{"qty": 10}, {"active": True}]}, {"r01", "r03"}),
    ({"qty": 10, "active": True}, {"r01", "r03"}),
    ({"$not": {"qty": 10}}, {"r02", "r04", "r05", "r06", "r07"}),
    ({"$not": {"qty": {"$gt": 5}}}, {"r04", "r05", "r06"}),
    ({"$not": {"$not": {"title": "Beta"}}}, {"r03", "r08"}),
    ({"$or": [{"$and": [{"stage": "open"}, {"$not": {"due": "2024-01-10"}}]}, {"tags": "green"}]}, {"r04"}),
    ({"$and": [{"$or": [{"qty": 10}, {"qty": 20}]},
               {"$not": {"$or": [{"active": False}, {"title": {"$starts_with": "B"}}]}}]}, {"r01", "r07"}),
    ({"$or": [{"active": True}, {"title": "alpha"}], "qty": 20}, {"r02", "r07"}),
    ({"$or": [{"qty": 1}, {"qty": 2}]}, set()),
    ({"$and": [{"title": {"$exists": True}}, {"$not": {"stage": {"$exists": True}}}], "tags": {"$ne": "zzz"}},
     {"r04", "r08"}),
]


@pytest.mark.parametrize(("flt", "expected"), FILTER_CASES, ids=[str(f) for f, _ in FILTER_CASES])
async def test_filter(catalog: Catalog, flt: Any, expected: set[str]) -> None:
    assert await catalog.matching(flt) == expected


@pytest.mark.parametrize(("flt", "expected"), FILTER_CASES[::4], ids=[str(f) for f, _ in FILTER_CASES[::4]])
async def test_filter_with_walking_plans(catalog: Catalog, small_result: None, flt: Any,
                                         expected: set[str]) -> None:
    # The walking plans probe each record with the row form of the filter (EXISTS probes)
    # instead of the id-set form: both forms must agree.
    assert await catalog.matching(flt) == expected
    walked = await catalog.query(filter=flt, sort={"attribute": "qty", "direction": "desc"}, limit=500)
    assert set(catalog.names(walked)) == expected


async def test_select_matched_by_option_id(catalog: Catalog) -> None:
    won, open_ = catalog.option_ids["Won"], catalog.option_ids["Open"]
    assert await catalog.matching({"stage": won}) == {"r02", "r07"}
    assert await catalog.matching({"stage": {"$in": [open_, "lost"]}}) == {"r01", "r03", "r05"}
    assert await catalog.matching({"stage": {"$ne": won}}) == _without("r02", "r07")


async def test_metadata_targets(catalog: Catalog) -> None:
    ids = catalog.ids
    assert await catalog.matching({"id": ids["r03"]}) == {"r03"}
    assert await catalog.matching({"id": {"$in": [ids["r01"], ids["r05"]]}}) == {"r01", "r05"}
    assert await catalog.matching({"id": [ids["r01"], ids["r05"]]}) == {"r01", "r05"}
    assert await catalog.matching({"id": {"$nin": [ids["r01"], ids["r05"]]}}) == _without("r01", "r05")
    assert await catalog.matching({"id": {"$ne": ids["r01"]}}) == _without("r01")
    assert await catalog.matching({"id": {"$gt": ids["r05"]}}) == {"r06", "r07", "r08"}
    assert await catalog.matching({"id": {"$gte": ids["r05"], "$lt": ids["r07"]}}) == {"r05", "r06"}
    assert await catalog.matching({"id": {"$lte": ids["r02"]}, "qty": 20}) == {"r02"}
    # created_at: compare with the timestamps the API reported
    pivot = catalog.created_at["r07"]
    instants = {c: datetime.fromisoformat(catalog.created_at[c]) for c in CODES}
    later = {c for c in CODES if instants[c] >= instants["r07"]}
    assert "r07" in later and "r08" in later
    assert await catalog.matching({"created_at": {"$gte": pivot}}) == later
    assert await catalog.matching({"created_at": {"$lt": pivot}}) == ALL - later
    assert await catalog.matching({"created_at": {"$ne": pivot}}) == ALL - {
        c for c in CODES if instants[c] == instants["r07"]}
    assert await catalog.matching({"updated_at": {"$lt": "2999-01-01T00:00:00Z"}}) == ALL
    assert await catalog.matching({"created_at": {"$gt": "2000-01-01"}}) == ALL  # a date is its midnight UTC
    assert await catalog.matching({"created_at": {"$lt": "2000-01-01"}}) == set()
    assert await catalog.matching({"updated_at": {"$gt": "2999-01-01T00:00:00+05:00"}}) == set()
    assert await catalog.matching({"$or": [{"id": ids["r06"]}, {"title": "gamma"}]}) == {"r05", "r06"}


async def test_depth_and_condition_limits_are_inclusive(catalog: Catalog) -> None:
    nested: dict[str, Any] = {"qty": 10}
    for _ in range(7):  # the top level plus seven $not levels: depth 8
        nested = {"$not": nested}
    assert await catalog.matching(nested) == {"r02", "r04", "r05", "r06", "r07"}
    fifty = {"$or": [{"qty": i} for i in range(50)]}
    assert await catalog.matching(fifty) == {"r01", "r03", "r05", "r08", "r02", "r07"}
    five_hundred = {"title": {"$in": ["Beta", *(f"x{i}" for i in range(499))]}}
    assert await catalog.matching(five_hundred) == {"r03", "r08"}


# --- validation ------------------------------------------------------------------------------

def _nested(levels: int) -> dict[str, Any]:
    node: dict[str, Any] = {"qty": 1}
    for _ in range(levels):
        node = {"$and": [node]}
    return node


INVALID_OPERATORS = [
    ({"qty": {"$contains": "1"}}, "qty", "$contains"),
    ({"score": {"$starts_with": "1"}}, "score", "$starts_with"),
    ({"active": {"$gt": True}}, "active", "$gt"),
    ({"active": {"$in": [True]}}, "active", "$in"),
    ({"title": {"$lt": "b"}}, "title", "$lt"),
    ({"title": {"$gte": "b"}}, "title", "$gte"),
    ({"stage": {"$contains": "o"}}, "stage", "$contains"),
    ({"stage": {"$gt": "Open"}}, "stage", "$gt"),
    ({"due": {"$contains": "2024"}}, "due", "$contains"),
    ({"price": {"$ends_with": "0"}}, "price", "$ends_with"),
    ({"price.currency_code": {"$gt": "USD"}}, "price.currency_code", "$gt"),
    ({"emails.domain": {"$lte": "a"}}, "emails.domain", "$lte"),
    ({"title": {"$regex": "a.*"}}, "title", "$regex"),
    ({"id": {"$contains": "1"}}, "id", "$contains"),
    ({"created_at": {"$exists": True}}, "created_at", "$exists"),
    ({"name.last_name": {"$changed": {"to": "x"}}}, "name.last_name", "$changed"),
    # operands of the wrong type name the attribute and the operator too
    ({"qty": "ten"}, "qty", "$eq"),
    ({"qty": {"$gt": "5"}}, "qty", "$gt"),
    ({"active": "yes"}, "active", "$eq"),
    ({"due": {"$lt": "yesterday"}}, "due", "$lt"),
    ({"due": {"$lt": "2024-01-10T10:00:00"}}, "due", "$lt"),
    ({"stage": "Maybe"}, "stage", "$eq"),
    ({"emails": "not-an-address"}, "emails", "$eq"),
    ({"price.currency_code": "dollars"}, "price.currency_code", "$eq"),
    ({"place.country_code": "Atlantis"}, "place.country_code", "$eq"),
    ({"phone": "12345"}, "phone", "$eq"),
    ({"site": "not a domain"}, "site", "$eq"),
    ({"title": {"$contains": "   "}}, "title", "$contains"),
    ({"qty": {"$lt": 1e300}}, "qty", "$lt"),
    ({"created_at": {"$gt": "2024-01-10T10:00:00"}}, "created_at", "$gt"),
    ({"updated_at": {"$gt": "next week"}}, "updated_at", "$gt"),
    ({"id": 5}, "id", "$eq"),
    ({"id": {"$gt": "abc"}}, "id", "$gt"),
]


@pytest.mark.parametrize(("flt", "attribute", "operator"), INVALID_OPERATORS,
                         ids=[str(f) for f, _, _ in INVALID_OPERATORS])
async def test_invalid_operator_or_operand_is_400_naming_both(catalog: Catalog, flt: Any, attribute: str,
                                                              operator: str) -> None:
    body = await catalog.query(expect=400, filter=flt)
    assert body["code"] == 400
    assert f"'{attribute}'" in body["message"] and operator in body["message"], body
    assert body["errors"][0]["path"].startswith(f"filter.{attribute}"), body


MALFORMED = [
    ({"nope": 1}, "filter.nope", "unknown attribute"),
    ({"Title": "Alpha"}, "filter.Title", "unknown attribute"),
    ({"name.middle_name": "x"}, "filter.name.middle_name", "no sub-field"),
    ({"title.first": "x"}, "filter.title.first", "no sub-field"),
    ({"price.amount": 1}, "filter.price.amount", "no sub-field"),
    ({"parent.title": "x"}, "filter.parent.title", "unknown attribute"),  # only on list queries
    ({}, "filter", "non-empty object"),
    ({"title": {}}, "filter.title", "empty condition"),
    ({"title": {"eq": "a"}}, "filter.title", "expected operators"),
    ({"title": {"$eq": "a", "ne": "b"}}, "filter.title", "expected operators"),
    ({"$xor": [{"qty": 1}]}, "filter.$xor", "unknown operator"),
    ({"$eq": 1}, "filter.$eq", "unknown operator"),
    ({"$and": []}, "filter.$and", "non-empty list"),
    ({"$or": {"qty": 1}}, "filter.$or", "non-empty list"),
    ({"$or": [{}]}, "filter.$or[0]", "non-empty object"),
    ({"$and": [{"qty": 1}, "qty"]}, "filter.$and[1]", "non-empty object"),
    ({"$not": [{"qty": 1}]}, "filter.$not", "non-empty object"),
    ({"$not": {}}, "filter.$not", "non-empty object"),
    ({"title": {"$in": []}}, "filter.title.$in", "1-500"),
    ({"title": []}, "filter.title", "1-500"),
    ({"title": {"$in": "Alpha"}}, "filter.title.$in", "1-500"),
    ({"title": {"$nin": [f"v{i}" for i in range(501)]}}, "filter.title.$nin", "1-500"),
    ({"title": {"$in": [f"v{i}" for i in range(501)]}}, "filter.title.$in", "1-500"),
    ({"title": [f"v{i}" for i in range(501)]}, "filter.title", "1-500"),
    ({"qty": {"$in": [1, "two"]}}, "filter.qty.$in[1]", "qty"),
    ({"title": {"$eq": ["a"]}}, "filter.title.$eq", "single value"),
    ({"title": {"$eq": None}}, "filter.title.$eq", "single value"),
    ({"title": {"$gt": {"a": 1}}}, "filter.title.$gt", ""),
    ({"title": {"$exists": "yes"}}, "filter.title.$exists", "true or false"),
    ({"title": {"$exists": None}}, "filter.title.$exists", "true or false"),
    ({"title": {"$changed": {"bogus": 1}}}, "filter.title.$changed", "$changed"),
    ({"title": {"$changed": {}}}, "filter.title.$changed", "$changed"),
    ({"title": {"$changed": {"since": "last week"}}}, "filter.title.$changed.since", "since"),
    ({"title": {"$changed": {"to": []}}}, "filter.title.$changed.to", "1-500"),
    (_nested(8), "filter" + ".$and[0]" * 8, "deeper than 8"),
    ({"$not": _nested(7)}, "filter.$not" + ".$and[0]" * 7, "deeper than 8"),
    ({"$or": [{"qty": i} for i in range(51)]}, "filter.$or[50]", "more than 50 conditions"),
    ({"qty": {"$gte": 1, "$lte": 9}, "$or": [{"qty": i} for i in range(49)]}, "filter.$or[48]",
     "more than 50 conditions"),
]


@pytest.mark.parametrize(("flt", "path", "words"), MALFORMED, ids=[p + ":" + w for _, p, w in MALFORMED])
async def test_malformed_filter_is_400_with_path(catalog: Catalog, flt: Any, path: str, words: str) -> None:
    body = await catalog.query(expect=400, filter=flt)
    assert body["code"] == 400 and words in body["message"], body
    assert body["errors"][0]["path"].startswith("filter"), body
    assert body["errors"][0]["path"] == path or body["errors"][0]["path"].startswith(path + "."), body


@pytest.mark.parametrize("body", [
    {"filter": []},
    {"filter": "qty = 10"},
    {"limit": 0},
    {"limit": 501},
    {"offset": -1},
    {"sort": {"attribute": "qty", "direction": "up"}},
    {"sort": {"attribute": "qty"}, "sorts": [{"attribute": "title"}]},
    {"sorts": [{"attribute": "qty"}] * 6},
    {"attributes": "some"},
    {"attributes": {"mode": "custom", "slugs": []}},
    {"cursor": "x", "offset": 3},
    {"unknown": True},
])
async def test_invalid_request_bodies_are_400(catalog: Catalog, body: dict[str, Any]) -> None:
    result = await catalog.query(expect=400, **body)
    assert result["code"] == 400 and result["message"]


# --- sorting ---------------------------------------------------------------------------------



@pytest.mark.parametrize(("sorts", "expected"), SORT_CASES,
                         ids=[",".join(f"{s['attribute']}:{s['direction']}" for s in ss) for ss, _ in SORT_CASES])
@pytest.mark.parametrize("plan", ["filter_first", "walk"])
async def test_sort(catalog: Catalog, monkeypatch: pytest.MonkeyPatch, sorts: list[dict[str, str]],
                    expected: list[str], plan: str) -> None:
    if plan == "walk":
        monkeypatch.setattr(listing, "SMALL_RESULT", 0)
    body = {"sort": sorts[0]} if len(sorts) == 1 else {"sorts": sorts}
    assert catalog.names(await catalog.query(**body)) == expected


async def test_sort_by_attribute_id_equals_sort_by_slug(catalog: Catalog) -> None:
    for slug in ("qty", "title", "due", "tags"):
        for direction in ("asc", "desc"):
            by_slug = await catalog.query(sort={"attribute": slug, "direction": direction})
            by_id = await catalog.query(sort={"attribute": catalog.attribute_ids[slug], "direction": direction})
            assert catalog.names(by_id) == catalog.names(by_slug)
    mixed = await catalog.query(sorts=[{"attribute": catalog.attribute_ids["qty"], "direction": "desc"},
                                       {"attribute": "title"}])
    assert catalog.names(mixed) == SORT_CASES[12][1]


async def test_sort_direction_defaults_to_asc(catalog: Catalog) -> None:
    assert catalog.names(await catalog.query(sort={"attribute": "qty"})) == SORT_CASES[2][1]


async def test_sort_by_created_at_is_chronological_with_id_ties(catalog: Catalog) -> None:
    for direction in ("asc", "desc"):
        body = await catalog.query(sort={"attribute": "created_at", "direction": direction})
        keys = [(datetime.fromisoformat(item["created_at"]), int(item["id"])) for item in body["data"]]
        for (t1, id1), (t2, id2) in itertools.pairwise(keys):
            assert (t1 < t2 if direction == "asc" else t1 > t2) or (t1 == t2 and id1 < id2)
        assert len(keys) == 8


async def test_no_sort_lists_in_id_order(catalog: Catalog) -> None:
    assert catalog.names(await catalog.query()) == CODES


@pytest.mark.parametrize("sort", [
    {"attribute": "nope"},
    {"attribute": "Title"},
    {"attribute": "name.middle_name"},
    {"attribute": "123"},
    {"attribute": ""},
])
async def test_unknown_sort_attribute_is_400(catalog: Catalog, sort: dict[str, str]) -> None:
    body = await catalog.query(expect=400, sort=sort)
    assert body["message"].startswith("Invalid sort") or "sort" in body["message"].lower(), body
    multi = await catalog.query(expect=400, sorts=[{"attribute": "qty"}, sort])
    assert multi["errors"][0]["path"].startswith("sorts[1]"), multi


async def test_sort_by_attribute_id_of_another_object_is_400(catalog: Catalog) -> None:
    person = (await catalog.ws.get("/v1/objects/person")).json()["attributes"][0]["id"]
    await catalog.query(expect=400, sort={"attribute": person})




# --- attribute selection ---------------------------------------------------------------------

async def test_attributes_modes(catalog: Catalog) -> None:
    flt = {"code": "r01"}
    full = (await catalog.query(filter=flt))["data"][0]
    assert set(full["attributes"]) == {"code", *ROWS["r01"]}
    assert full["attributes"]["emails"] == ["ada@math.org", "ada@engines.co.uk"]
    assert full["attributes"]["stage"] == "Open" and full["attributes"]["site"] == "engines.co.uk"
    assert (await catalog.query(filter=flt, attributes="all"))["data"][0] == full
    primary = (await catalog.query(filter=flt, attributes="primary"))["data"][0]
    assert primary["attributes"] == {"name": "Ada Lovelace"}
    none = (await catalog.query(filter=flt, attributes="none"))["data"][0]
    assert none["attributes"] == {} and none["id"] == full["id"] and none["created_at"] == full["created_at"]
    custom = (await catalog.query(filter=flt, attributes={"mode": "custom", "slugs": ["qty", "tags", "due"]}))
    assert custom["data"][0]["attributes"] == {"qty": 10, "tags": ["red", "blue"], "due": "2024-01-10"}
    # a selected attribute without a value is left out, like in "all"
    empty = await catalog.query(filter={"code": "r06"}, attributes={"mode": "custom", "slugs": ["qty"]})
    assert empty["data"][0]["attributes"] == {}
    unknown = await catalog.query(expect=400, attributes={"mode": "custom", "slugs": ["qty", "nope"]})
    assert "nope" in unknown["message"] and unknown["errors"][0]["path"] == "attributes.slugs[1]"
    # the record's shape
    assert full["type"] == SLUG and full["workspace_id"] == catalog.ws.id
    assert full["object_id"] == (await catalog.ws.get(f"/v1/objects/{SLUG}")).json()["id"]


async def test_unknown_object_is_404(catalog: Catalog) -> None:
    response = await catalog.ws.post("/v1/objects/nothing/records", {})
    assert response.status_code == 404


# --- isolation -------------------------------------------------------------------------------

@pytest.mark.parametrize("small", [2000, 0])
async def test_records_of_other_workspaces_never_appear(catalog: Catalog, make_workspace: WorkspaceFactory,
                                                        monkeypatch: pytest.MonkeyPatch, small: int) -> None:
    other = await build_catalog(await make_workspace("other"))
    foreign = set(other.ids.values())
    monkeypatch.setattr(listing, "SMALL_RESULT", small)
    queries: list[dict[str, Any]] = [
        {}, {"filter": {"qty": 10}}, {"filter": {"$not": {"qty": 10}}}, {"filter": {"emails.domain": "math.org"}},
        {"filter": {"id": {"$in": list(foreign)}}}, {"filter": {"id": {"$nin": list(foreign)}}},
        {"filter": {"title": {"$exists": False}}}, {"sort": {"attribute": "title"}},
        {"sort": {"attribute": "qty", "direction": "desc"}, "filter": {"qty": {"$ne": 5}}},
        {"sorts": [{"attribute": "due"}, {"attribute": "title"}]},
    ]
    for query in queries:
        for mine, theirs in ((catalog, other), (other, catalog)):
            body = await mine.query(limit=500, **query)
            ids = {item["id"] for item in body["data"]}
            assert ids <= set(mine.ids.values()), query
            assert not ids & set(theirs.ids.values())
            assert all(item["workspace_id"] == mine.ws.id for item in body["data"])
    by_foreign_id = await catalog.query(filter={"id": other.ids["r01"]})
    assert by_foreign_id["data"] == [] and by_foreign_id["total"] == 0




@pytest.mark.parametrize("flt", [
    {"id": "9999999999999999999"},  # digits, but beyond a 64-bit id
    {"id": {"$in": ["1", "9999999999999999999"]}},
    {"created_at": {"$gt": "0001-01-01T00:00:00+01:00"}},
    {"updated_at": {"$lt": "9999-12-31T23:00:00-05:00"}},
    {"title": {"$changed": {"since": "0001-01-01T00:00:00+01:00"}}},
])
async def test_out_of_range_date_times_are_400(catalog: Catalog, flt: Any) -> None:
    # Operands the parser lets through but PostgreSQL cannot hold: refused, never a 500.
    body = await catalog.query(expect=400, filter=flt)
    assert body["code"] == 400 and body["message"]
