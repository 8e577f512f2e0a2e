"""Property: for random records and random filters (and sorts), the API's answer equals a pure-Python
evaluation of the same filter over the same records (``schema_registry.evaluate``), whichever
plan the engine picks (filter-first, id walk, sort-index walk) and however the pages are cut.
The evaluator is ``schema_registry.evaluate``; filters are parsed once by ``schema_registry.query``,
so this property checks the SQL compilation and the plans, not the parser (test_query.py does).

One object with a text, a multi-value text, a number, a select, a boolean, a date, a multi-value
email, a full name and a currency attribute holds ~50 records drawn from small alphabets, so
filters hit equal values, case variants, LIKE wildcards (``%``, ``_``), non-ASCII letters and
records without a value. Hypothesis draws filter trees (depth <= 3) whose operators are valid for
each target and whose operands come from values that exist plus a few that do not.
"""

from __future__ import annotations

import asyncio
import functools
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from schema_registry.definitions import ObjectDefinition
from schema_registry.evaluate import RecordState, evaluate
from schema_registry.query import SortKey, parse_filter, parse_sorts, resolve_target
from schema_registry.types import attribute_type
from schema_registry.types.base import StorageClass
from tessera.db.tenant import Tenant
from tessera.records import listing
from tests.conftest import Workspace, WorkspaceFactory
from tests.spec import assert_matches

SLUG = "specimen"
RECORDS = 50
PROPERTY_SETTINGS = settings(
    database=None,
    derandomize=True,  # reproducible in CI
    deadline=None,
    max_examples=150,
    suppress_health_check=[HealthCheck.too_slow],
)

TITLE_ALPHABET = "abAB%_éÉ"
TAG_ALPHABET = "abAB"
OPTIONS = ["Open", "Won", "Lost"]
DATES = ["2024-01-01", "2024-01-02", "2024-01-02T00:00:00Z", "2024-01-02T12:00:00+02:00",
         "2023-12-31T23:00:00-01:00", "2024-02-29", "2025-06-30T08:30:00Z"]
NUMBERS = [-2, -1, 0, 0.5, 1, 1.5, 2, 3, 10]
EMAILS = ["a@x.com", "A@X.com", "b@x.com", "ab@y.org", "b@Y.ORG", "c@z.net"]
NAMES: list[Any] = ["Ann Lee", "ann lee", {"first_name": "Ann"}, {"last_name": "Lee"}, "Bo  Lee", "Bo",
                    {"first_name": "bo", "last_name": "Ann"}]
CURRENCIES = ["USD", "usd", "EUR", "JPY"]
AMOUNTS = [1, 2.5, 10, 10.0, -3]

ATTRIBUTES: list[dict[str, Any]] = [
    {"name": "Title", "slug": "title", "type": "text"},
    {"name": "Tags", "slug": "tags", "type": "text", "options": {"is_multi_value": True}},
    {"name": "Qty", "slug": "qty", "type": "number"},
    {"name": "Stage", "slug": "stage", "type": "select",
     "options": {"select_options": [{"name": name} for name in OPTIONS]}},
    {"name": "Flag", "slug": "flag", "type": "boolean"},
    {"name": "Due", "slug": "due", "type": "date"},
    {"name": "Emails", "slug": "emails", "type": "email", "options": {"is_multi_value": True}},
    {"name": "Who", "slug": "who", "type": "full_name"},
    {"name": "Price", "slug": "price", "type": "currency"},
]


def _random_records(rng: random.Random) -> list[dict[str, Any]]:
    def maybe(make: Callable[[], Any]) -> Any:
        return make() if rng.random() < 0.75 else None

    def word(alphabet: str, low: int, high: int) -> str:
        return "".join(rng.choice(alphabet) for _ in range(rng.randint(low, high)))

    records = []
    for _ in range(RECORDS):
        values = {
            "title": maybe(lambda: word(TITLE_ALPHABET, 0, 3)),
            "tags": maybe(lambda: list(dict.fromkeys(word(TAG_ALPHABET, 1, 2) for _ in range(rng.randint(1, 3))))),
            "qty": maybe(lambda: rng.choice(NUMBERS)),
            "stage": maybe(lambda: rng.choice([*OPTIONS, "won", "LOST"])),
            "flag": maybe(lambda: rng.random() < 0.5),
            "due": maybe(lambda: rng.choice(DATES)),
            "emails": maybe(lambda: rng.sample(["a@x.com", "b@x.com", "ab@y.org", "c@z.net"], rng.randint(1, 3))),
            "who": maybe(lambda: rng.choice(NAMES)),
            "price": maybe(lambda: {"amount": rng.choice(AMOUNTS), "currency_code": rng.choice(CURRENCIES)}),
        }
        records.append({k: v for k, v in values.items() if v is not None})
    return records


@dataclass
class Dataset:
    ws: Workspace
    obj: ObjectDefinition
    states: list[RecordState]
    option_ids: list[str]
    created_at: list[str]

    @property
    def ids(self) -> list[str]:
        return [str(s.id) for s in self.states]

    async def query(self, **body: Any) -> dict[str, Any]:
        response = await self.ws.post(f"/v1/objects/{SLUG}/records", body)
        assert response.status_code == 200, (body, response.text)
        result: dict[str, Any] = response.json()
        return result


@pytest.fixture(scope="module")
async def dataset(make_workspace: WorkspaceFactory, app: Any, db: Any) -> Dataset:
    ws = await make_workspace("properties")
    assert (await ws.post("/v1/objects", {"name": "Specimen", "slug": SLUG})).status_code == 200
    option_ids = []
    for definition in ATTRIBUTES:
        response = await ws.post(f"/v1/objects/{SLUG}/attributes", definition)
        assert response.status_code == 200, response.text
        option_ids += [o["id"] for o in response.json()["options"].get("select_options") or []]
    records = _random_records(random.Random(20261122))
    half = len(records) // 2
    for chunk in (records[:half], records[half:]):  # two batches: two created_at instants
        response = await ws.post(f"/v1/objects/{SLUG}/records/batch",
                                 {"records": [{"attributes": r} for r in chunk]})
        assert response.status_code == 200 and response.json()["created"] == len(chunk), response.text
    state = app.state.tessera
    async with state.engine.connect() as conn:
        schema = await state.schemas.current(Tenant(conn, int(ws.id)))
    obj = schema.object(SLUG)
    assert obj is not None
    rows = await db.fetch("SELECT id, created_at, updated_at, data FROM records "
                          "WHERE workspace_id = $1 AND object_id = $2 ORDER BY id", int(ws.id), obj.id)
    states = [RecordState(r["id"], r["created_at"], r["updated_at"], orjson.loads(r["data"])) for r in rows]
    assert len(states) == RECORDS
    return Dataset(ws, obj, states, option_ids, sorted({r["created_at"].isoformat() for r in rows}))


# --- strategies --------------------------------------------------------------------------------

TEXT_OPS = ["$eq", "$ne", "$in", "$nin", "$contains", "$starts_with", "$ends_with", "$exists"]
ORDERED_OPS = ["$eq", "$ne", "$in", "$nin", "$lt", "$lte", "$gt", "$gte", "$exists"]
EQUALITY_OPS = ["$eq", "$ne", "$in", "$nin", "$exists"]
META_OPS = ["$eq", "$ne", "$in", "$nin", "$lt", "$lte", "$gt", "$gte"]
SUBSTRING = {"$contains", "$starts_with", "$ends_with"}


@dataclass(frozen=True)
class Field:
    ops: list[str]
    value: st.SearchStrategy[Any]  # an operand for equality and comparisons
    needle: st.SearchStrategy[str] | None = None  # an operand for the substring operators
    meta: bool = False


def _random_needles(alphabet: str) -> st.SearchStrategy[str]:
    return st.text(alphabet=alphabet, min_size=1, max_size=3) | st.sampled_from(["%", "_", "a%", "_b", "\\"])


def _numbers() -> st.SearchStrategy[Any]:
    return st.sampled_from(NUMBERS) | st.integers(-5, 12) | st.sampled_from([0.25, 2.5, -1.5, 1e-9, 10.0])


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    return value


def stored_operands(data: Dataset, path: str) -> list[Any]:
    """Every distinct value the target holds in the dataset, as a JSON operand."""
    target = resolve_target(data.obj, path, "filter")
    assert target.attribute is not None and target.facet is not None
    kind = attribute_type(target.attribute.type)
    found = {_jsonable(f.value) for state in data.states
             for stored in state.data.get(str(target.attribute.id)) or []
             for f in kind.facet_values(stored, target.attribute) if f.facet == target.facet.name}
    return sorted(found, key=repr)


@st.composite
def _slices(draw: st.DrawFn, texts: list[str]) -> str:
    """A piece of a stored text, sometimes in another case: substring operands that hit."""
    text = draw(st.sampled_from(texts))
    start = draw(st.integers(0, len(text) - 1))
    piece = text[start:draw(st.integers(start + 1, len(text)))]
    piece = draw(st.sampled_from([piece, piece.swapcase(), piece.upper()]))
    return piece if piece.strip() else "a"


def _needles(data: Dataset, path: str, alphabet: str) -> st.SearchStrategy[str]:
    texts = [t for t in stored_operands(data, path) if isinstance(t, str) and t.strip()]
    return _slices(texts) | _random_needles(alphabet) if texts else _random_needles(alphabet)


def _values(data: Dataset, path: str, others: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    stored = stored_operands(data, path)
    return st.sampled_from(stored) | others if stored else others


def fields(data: Dataset) -> dict[str, Field]:
    def text(path: str, alphabet: str, others: st.SearchStrategy[Any]) -> Field:
        return Field(TEXT_OPS, _values(data, path, others), _needles(data, path, alphabet))

    return {
        "title": text("title", TITLE_ALPHABET, st.text(alphabet=TITLE_ALPHABET, max_size=3)),
        "tags": text("tags", TAG_ALPHABET, st.text(alphabet=TAG_ALPHABET, min_size=1, max_size=2)),
        "qty": Field(ORDERED_OPS, _values(data, "qty", _numbers())),
        "stage": Field(EQUALITY_OPS, st.sampled_from([*OPTIONS, "open", "WON", "lost", *data.option_ids])),
        "flag": Field(["$eq", "$ne", "$exists"], st.booleans()),
        "due": Field(ORDERED_OPS, _values(data, "due", st.sampled_from(
            [*DATES, "2024-01-01T00:00:00Z", "2023-12-31", "2026-01-01", "2024-01-02T10:00:00Z"]))),
        "emails": text("emails", "abxy.@", st.sampled_from(EMAILS)),
        "emails.domain": text("emails.domain", "xyz.comrg", st.sampled_from(["X.COM", "y.org", "w.io"])),
        "who": text("who", "AnLeBo ", st.sampled_from(["ann lee", "Ann", "Lee", "Bo  Lee", "bo Ann", "Zed"])),
        "who.first_name": text("who.first_name", "AnBo", st.sampled_from(["ann", "Bo", "Lee"])),
        "who.last_name": text("who.last_name", "LeAn", st.sampled_from(["lee", "Ann", "Bo"])),
        "price": Field(ORDERED_OPS, _values(data, "price", _numbers())),
        "price.currency_code": text("price.currency_code", "UuSsDdEe", st.sampled_from(["usd", "GBP"])),
        "id": Field(META_OPS, st.sampled_from([*data.ids, "1", "999999999999999999"]), meta=True),
        "created_at": Field(META_OPS, st.sampled_from([*data.created_at, "2000-01-01T00:00:00Z",
                                                       "2999-01-01T00:00:00+05:00"]), meta=True),
    }


@st.composite
def conditions(draw: st.DrawFn, field: Field) -> Any:
    """A condition on one target: a shorthand, or an object of one (mostly) or two operators."""
    form = draw(st.sampled_from(["ops"] * 5 + ["value", "list", "null"]))
    if form == "value":
        return draw(field.value)
    if form == "list" and "$in" in field.ops:
        return draw(st.lists(field.value, min_size=1, max_size=4))
    if form == "null" and not field.meta:
        return None
    ops = field.ops + [op for op in field.ops if op in SUBSTRING]  # substring operators twice as often
    chosen = draw(st.lists(st.sampled_from(ops), min_size=1, max_size=draw(st.sampled_from([1, 1, 1, 2])),
                           unique=True))
    out: dict[str, Any] = {}
    for op in chosen:
        if op == "$exists":
            out[op] = draw(st.booleans())
        elif op in ("$in", "$nin"):
            out[op] = draw(st.lists(field.value, min_size=1, max_size=4))
        elif op in SUBSTRING:
            assert field.needle is not None
            out[op] = draw(field.needle)
        else:
            out[op] = draw(field.value)
    return out


@st.composite
def filters(draw: st.DrawFn, catalog: dict[str, Field], depth: int = 1) -> dict[str, Any]:
    """A filter object of depth <= 3: mostly one member (a target, $and, $or or $not), sometimes
    two or three (joined by AND). Small trees keep results non-empty often enough to tell."""
    members: dict[str, Any] = {}
    for _ in range(draw(st.sampled_from([1, 1, 1, 2, 2, 3] if depth == 1 else [1, 1, 1, 2]))):
        kinds = ["target"] * 4 + (["$and", "$or", "$or", "$not"] if depth < 3 else [])
        kind = draw(st.sampled_from(kinds))
        if kind == "target":
            name = draw(st.sampled_from(sorted(catalog)))
            members[name] = draw(conditions(catalog[name]))
        elif kind == "$not":
            members["$not"] = draw(filters(catalog, depth + 1))
        else:
            members[kind] = draw(st.lists(filters(catalog, depth + 1), min_size=1, max_size=3))
    return members


SORTABLE = ["title", "tags", "qty", "stage", "flag", "due", "emails", "emails.domain", "who", "who.last_name",
            "price", "price.currency_code", "created_at", "id"]


def sort_lists(min_size: int = 0) -> st.SearchStrategy[list[tuple[str, str]]]:
    return st.lists(st.tuples(st.sampled_from(SORTABLE), st.sampled_from(["asc", "desc"])), min_size=min_size,
                    max_size=2, unique_by=lambda s: s[0])


# --- the oracle --------------------------------------------------------------------------------

def _sort_value(key: SortKey, record: RecordState) -> Any:
    target = key.target
    if target.meta == "id":
        return record.id
    if target.meta is not None:
        return record.created_at if target.meta == "created_at" else record.updated_at
    assert target.attribute is not None and target.facet is not None
    stored = record.data.get(str(target.attribute.id)) or []
    if not stored:
        return None
    kind = attribute_type(target.attribute.type)
    for facet in kind.facet_values(stored[0], target.attribute):  # the first value sorts (ord 0)
        if facet.facet == target.facet.name:
            value = facet.value
            return value[:200] if target.storage is StorageClass.TEXT else value  # type: ignore[index]
    return None


def expected_order(keys: list[SortKey], records: list[RecordState]) -> list[int]:
    """ORDER BY key1 [DESC] NULLS LAST, ..., id ASC."""

    def compare(a: RecordState, b: RecordState) -> int:
        for key in keys:
            x, y = _sort_value(key, a), _sort_value(key, b)
            if x == y:
                continue
            if x is None or y is None:
                return 1 if x is None else -1  # nulls last in both directions
            less = x < y
            return (1 if less else -1) if key.descending else (-1 if less else 1)
        return (a.id > b.id) - (a.id < b.id)

    return [r.id for r in sorted(records, key=functools.cmp_to_key(compare))]


async def _walk(data: Dataset, limit: int, body: dict[str, Any]) -> tuple[list[int], list[int]]:
    """Every page through the cursor: the ids in order, and the totals reported."""
    ids: list[int] = []
    totals = []
    cursor = None
    while True:
        page = await data.query(limit=limit, attributes="none", **body, **({"cursor": cursor} if cursor else {}))
        totals.append(page["total"])
        ids += [int(item["id"]) for item in page["data"]]
        assert len(page["data"]) <= limit
        if not page["has_more"]:
            assert "next_cursor" not in page
            return ids, totals
        assert len(page["data"]) == limit
        cursor = page["next_cursor"]
        assert len(ids) <= RECORDS


async def check(data: Dataset, flt: dict[str, Any] | None, sorts: list[tuple[str, str]], limit: int,
                offset: int) -> None:
    node = parse_filter(data.obj, flt)
    keys = parse_sorts(data.obj, sorts)
    matched = [r for r in data.states if evaluate(node, r)]
    expected = expected_order(keys, matched)
    body: dict[str, Any] = {"sorts": [{"attribute": a, "direction": d} for a, d in sorts]} if sorts else {}
    if flt is not None:
        body["filter"] = flt
    event(f"matches: {min(len(expected), 1) if len(expected) < 5 else '5+' if len(expected) < 45 else '45+'}")
    for small in (listing.SMALL_RESULT, 0):  # filter-first, then the walking plans
        saved = listing.SMALL_RESULT
        listing.SMALL_RESULT = small
        try:
            walked, totals = await _walk(data, limit, body)
            window = await data.query(limit=limit, offset=offset, **body)
        finally:
            listing.SMALL_RESULT = saved
        where = f"plan SMALL_RESULT={small}, filter={flt}, sorts={sorts}, limit={limit}"
        assert walked == expected, where
        assert [int(item["id"]) for item in window["data"]] == expected[offset:offset + limit], where + f" {offset=}"
        assert window["has_more"] is (offset + limit < len(expected)), where
        assert_matches("developer.ListRecordsResponse", window)
        for total in (*totals, window["total"]):
            assert total == len(expected), (where, total, len(expected))


# --- the properties ----------------------------------------------------------------------------
# The properties are synchronous Hypothesis tests that drive the session's event loop themselves
# (it is idle while a synchronous test runs): an async @given test does not reliably rerun its
# coroutine when Hypothesis replays an example. They take no fixture objects as arguments either:
# with the dataset passed in, Hypothesis reported inconsistent data generation when replaying a
# failure; the fixture below hands everything over through ``PREPARED``.

PREPARED: dict[str, Any] = {}


@pytest.fixture(scope="module")
async def prepared(dataset: Dataset) -> None:
    PREPARED.update(dataset=dataset, catalog=fields(dataset), loop=asyncio.get_running_loop())


def run(flt: dict[str, Any] | None, sorts: list[tuple[str, str]], limit: int, offset: int) -> None:
    loop: asyncio.AbstractEventLoop = PREPARED["loop"]
    loop.run_until_complete(check(PREPARED["dataset"], flt, sorts, limit, offset))


@PROPERTY_SETTINGS
@given(choice=st.data())
def test_api_answer_equals_python_evaluation(prepared: None, choice: st.DataObject) -> None:
    flt = choice.draw(filters(PREPARED["catalog"]), label="filter")
    sorts = choice.draw(sort_lists(), label="sorts")
    limit = choice.draw(st.sampled_from([7, 23, 500]), label="limit")
    offset = choice.draw(st.integers(0, RECORDS), label="offset")
    run(flt, sorts, limit, offset)


@settings(PROPERTY_SETTINGS, max_examples=30)
@given(choice=st.data())
def test_sorted_listing_equals_python_order(prepared: None, choice: st.DataObject) -> None:
    """No filter at all: every record, in the order of 1-2 random sort keys."""
    sorts = choice.draw(sort_lists(1), label="sorts")
    limit = choice.draw(st.sampled_from([9, 500]), label="limit")
    run(None, sorts, limit, choice.draw(st.integers(0, RECORDS), label="offset"))


async def test_dataset_is_varied(dataset: Dataset) -> None:
    """Guard the generator: the data must hold the collisions the properties rely on."""
    obj = dataset.obj

    def values(slug: str) -> list[Any]:
        attribute = obj.attribute(slug)
        assert attribute is not None
        return [s.data.get(str(attribute.id)) for s in dataset.states]

    titles = [v[0] for v in values("title") if v]
    assert len(titles) != len(set(titles)), "equal titles"
    assert {t.lower() for t in titles} != set(titles), "case variants"
    assert any("%" in t or "_" in t for t in titles) and any(t == "" for t in titles)
    assert any(v is None for v in values("qty")) and any(v and len(v) > 1 for v in values("tags"))
    assert len(dataset.created_at) == 2
    # the oracle really sees stored data
    assert sum(evaluate(parse_filter(obj, {"flag": True}), s) for s in dataset.states) > 5
    assert isinstance(_sort_value(parse_sorts(obj, [("qty", "asc")])[0],
                                  next(s for s in dataset.states if values("qty")[dataset.states.index(s)])),
                      Decimal)
    assert isinstance(dataset.states[0].created_at, datetime)
