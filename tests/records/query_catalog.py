"""The catalog most record-query tests read: eight records of a ``gadget`` object (``r01`` ...
``r08``, created in that order, so their ids ascend in code order) whose values are chosen for
collisions: equal numbers, equal dates written differently, case variants of one text, records
with no value at all."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tests.conftest import Workspace
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
