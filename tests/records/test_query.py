"""Listing records through the HTTP API: the query language (every operator on every type that
allows it, shorthand forms, logic, multi-value semantics, sub-field and metadata targets), its
validation, sorting, offset and cursor pagination, the three query plans (filter-first, id walk,
sort-index walk) giving the same answers, attribute selection modes and workspace isolation.

Most tests read one module-wide catalog of eight records (``r01`` ... ``r08``, created in that
order, so their ids ascend in code order) whose values are chosen for collisions: equal numbers,
equal dates written differently, case variants of one text, records with no value at all.
"""

from __future__ import annotations

import base64
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest

from tessera.records import listing
from tests.conftest import FakeClock, Workspace, WorkspaceFactory
from tests.spec import assert_matches

SLUG = "gadget"

ATTRIBUTES: list[dict[str, Any]] = [
    {"name": "Code", "slug": "code", "type": "text", "options": {"is_unique": True}},
    {"name": "Name", "slug": "name", "type": "full_name"},
    {"name": "Title", "slug": "title", "type": "text"},
    {"name": "Qty", "slug": "qty", "type": "number", "options": {"is_whole_number": True}},
    {"name": "Score", "slug": "score", "type": "number"},
    {"name": "Emails", "slug": "emails", "type": "email", "options": {"is_multi_value": True}},
    {"name": "Tags", "slug": "tags", "type": "text", "options": {"is_multi_value": True}},
    {"name": "Stage", "slug": "stage", "type": "select",
     "options": {"select_options": [{"name": "Open"}, {"name": "Won"}, {"name": "Lost"}]}},
    {"name": "Due", "slug": "due", "type": "date"},
    {"name": "Active", "slug": "active", "type": "boolean"},
    {"name": "Price", "slug": "price", "type": "currency"},
    {"name": "Place", "slug": "place", "type": "location"},
    {"name": "Site", "slug": "site", "type": "domain"},
    {"name": "Phone", "slug": "phone", "type": "phone"},
]

ROWS: dict[str, dict[str, Any]] = {
    "r01": {"name": "Ada Lovelace", "title": "Alpha", "qty": 10, "score": 1.5,
            "emails": ["ada@math.org", "ADA@Engines.co.uk"], "tags": ["red", "blue"], "stage": "Open",
            "due": "2024-01-10", "active": True, "price": {"amount": 100, "currency_code": "USD"},
            "place": {"city": "London", "country": "GB"}, "site": "https://www.engines.co.uk/about",
            "phone": "+44 20 7946 0958"},
    "r02": {"name": "Alan Turing", "title": "alpha", "qty": 20, "score": 2.25, "emails": ["alan@bletchley.org"],
            "tags": ["blue"], "stage": "won", "due": "2024-03-01T12:00:00Z", "active": False,
            "price": {"amount": 50.5, "currency_code": "eur"},
            "place": {"city": "Manchester", "country": "United Kingdom"}, "site": "bletchley.org",
            "phone": "+1 201-555-0123"},
    "r03": {"name": "Grace Hopper", "title": "Beta", "qty": 10, "score": -3,
            "emails": ["grace@navy.mil", "g@math.org"], "stage": "Lost", "due": "2023-12-31", "active": True,
            "price": {"amount": 100, "currency_code": "usd"},
            "place": {"city": "New York", "region": "NY", "country": "US"}, "site": "navy.mil"},
    "r04": {"name": "Edsger Dijkstra", "title": "Gamma ray", "score": 0, "tags": ["green"],
            "place": {"country": "NL"}},
    "r05": {"name": {"first_name": "Barbara", "last_name": "Liskov"}, "title": "gamma", "qty": 5,
            "emails": ["barbara@mit.edu"], "stage": "OPEN", "due": "2024-01-10", "active": False,
            "price": {"amount": 5, "currency_code": "JPY"}},
    "r06": {},
    "r07": {"name": "Donald Knuth", "title": "50% off_sale", "qty": 20, "score": 2.25, "tags": ["red"],
            "emails": ["don@stanford.edu"], "stage": "Won", "due": "2025-06-30", "active": True},
    "r08": {"name": "Ken Thompson", "title": "Beta", "qty": 10, "tags": ["blue", "blue2"], "emails": []},
}
CODES = sorted(ROWS)
ALL = set(CODES)


@dataclass
class Catalog:
    ws: Workspace
    ids: dict[str, str]  # code -> record id
    codes: dict[str, str]  # record id -> code
    created_at: dict[str, str]
    attribute_ids: dict[str, str]  # slug -> attribute id
    option_ids: dict[str, str]  # stage option name -> id

    async def query(self, expect: int = 200, **body: Any) -> dict[str, Any]:
        response = await self.ws.post(f"/v1/objects/{SLUG}/records", body)
        assert response.status_code == expect, response.text
        result: dict[str, Any] = response.json()
        if expect == 200:
            assert_matches("developer.ListRecordsResponse", result)
        return result

    def names(self, body: dict[str, Any]) -> list[str]:
        return [self.codes[item["id"]] for item in body["data"]]

    async def matching(self, flt: Any) -> set[str]:
        body = await self.query(filter=flt, limit=500, attributes="none")
        names = self.names(body)
        assert len(names) == len(set(names)) and not body["has_more"]
        return set(names)


async def build_catalog(ws: Workspace) -> Catalog:
    assert (await ws.post("/v1/objects", {"name": "Gadget", "slug": SLUG})).status_code == 200
    attribute_ids, option_ids = {}, {}
    for definition in ATTRIBUTES:
        response = await ws.post(f"/v1/objects/{SLUG}/attributes", definition)
        assert response.status_code == 200, response.text
        attribute_ids[definition["slug"]] = response.json()["id"]
        for option in response.json()["options"].get("select_options") or []:
            option_ids[option["name"]] = option["id"]
    # The first five through one batch, the rest one by one: both write paths feed the index.
    batch = await ws.post(f"/v1/objects/{SLUG}/records/batch",
                          {"records": [{"attributes": {"code": code, **ROWS[code]}} for code in CODES[:5]]})
    assert batch.status_code == 200 and batch.json()["created"] == 5, batch.text
    ids = {code: result["id"] for code, result in zip(CODES, batch.json()["results"], strict=False)}
    for code in CODES[5:]:
        created = await ws.post(f"/v1/objects/{SLUG}", {"attributes": {"code": code, **ROWS[code]}})
        assert created.status_code == 200, created.text
        ids[code] = created.json()["id"]
    assert [int(ids[c]) for c in CODES] == sorted(int(ids[c]) for c in CODES), "ids ascend in creation order"
    catalog = Catalog(ws, ids, {v: k for k, v in ids.items()}, {}, attribute_ids, option_ids)
    listed = await catalog.query(limit=500)
    catalog.created_at = {catalog.codes[item["id"]]: item["created_at"] for item in listed["data"]}
    return catalog


@pytest.fixture(scope="module")
async def catalog(make_workspace: WorkspaceFactory) -> Catalog:
    return await build_catalog(await make_workspace("query"))


@pytest.fixture
def small_result(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Force the walking plans (id walk, sort-index walk) for anything above 3 matches."""
    monkeypatch.setattr(listing, "SMALL_RESULT", 3)
    yield


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

SORT_CASES: list[tuple[list[dict[str, str]], list[str]]] = [
    # text sorts by code point ("C" collation): digits < upper case < lower case; nulls last
    ([{"attribute": "title", "direction": "asc"}], ["r07", "r01", "r03", "r08", "r04", "r02", "r05", "r06"]),
    # equal keys stay in id order in both directions; nulls stay last
    ([{"attribute": "title", "direction": "desc"}], ["r05", "r02", "r04", "r03", "r08", "r01", "r07", "r06"]),
    ([{"attribute": "qty", "direction": "asc"}], ["r05", "r01", "r03", "r08", "r02", "r07", "r04", "r06"]),
    ([{"attribute": "qty", "direction": "desc"}], ["r02", "r07", "r01", "r03", "r08", "r05", "r04", "r06"]),
    ([{"attribute": "score", "direction": "asc"}], ["r03", "r04", "r01", "r02", "r07", "r05", "r06", "r08"]),
    ([{"attribute": "due", "direction": "asc"}], ["r03", "r01", "r05", "r02", "r07", "r04", "r06", "r08"]),
    ([{"attribute": "due", "direction": "desc"}], ["r07", "r02", "r01", "r05", "r03", "r04", "r06", "r08"]),
    ([{"attribute": "active", "direction": "asc"}], ["r02", "r05", "r01", "r03", "r07", "r04", "r06", "r08"]),
    ([{"attribute": "price", "direction": "desc"}], ["r01", "r03", "r02", "r05", "r04", "r06", "r07", "r08"]),
    ([{"attribute": "name.last_name", "direction": "asc"}],
     ["r04", "r03", "r07", "r05", "r01", "r08", "r02", "r06"]),
    # a multi-value attribute sorts by its first value
    ([{"attribute": "tags", "direction": "asc"}], ["r02", "r08", "r04", "r01", "r07", "r03", "r05", "r06"]),
    ([{"attribute": "emails.domain", "direction": "desc"}],
     ["r07", "r03", "r05", "r01", "r02", "r04", "r06", "r08"]),
    ([{"attribute": "qty", "direction": "desc"}, {"attribute": "title", "direction": "asc"}],
     ["r07", "r02", "r01", "r03", "r08", "r05", "r04", "r06"]),
    ([{"attribute": "active", "direction": "desc"}, {"attribute": "qty", "direction": "desc"},
      {"attribute": "due", "direction": "asc"}], ["r07", "r03", "r01", "r02", "r05", "r08", "r04", "r06"]),
    ([{"attribute": "id", "direction": "desc"}], ["r08", "r07", "r06", "r05", "r04", "r03", "r02", "r01"]),
]


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
