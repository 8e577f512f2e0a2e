"""currency, location, full_name and select: write forms, stored and read forms, facets,
refusals (with member paths)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from schema_registry.definitions import AttributeTypeName as T
from schema_registry.types import attribute_type
from schema_registry.types.base import FacetValue, StorageClass

VALUE = "attributes.values[1]"

# --- currency ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ({"amount": 10, "currency_code": "usd"}, {"amount": 10, "currency_code": "USD"}),
        ({"amount": 19.99, "currency_code": "EUR"}, {"amount": 19.99, "currency_code": "EUR"}),
        ({"currency_code": " jpy ", "amount": -5}, {"amount": -5, "currency_code": "JPY"}),
        ({"amount": 1.0, "currency_code": "GBP"}, {"amount": 1, "currency_code": "GBP"}),
    ],
)
def test_currency_round_trip(raw: dict[str, Any], stored: dict[str, Any], make_attribute: Any) -> None:
    attribute = make_attribute(T.CURRENCY)
    currency = attribute_type(T.CURRENCY)
    value = currency.normalize(raw, attribute)
    assert value == stored
    assert currency.read(value, attribute) == stored
    assert currency.facet_values(value, attribute) == [
        FacetValue("", StorageClass.NUMERIC, Decimal(str(stored["amount"]))),
        FacetValue("currency_code", StorageClass.TEXT, stored["currency_code"]),
    ]
    assert currency.search_text(value, attribute) == f"{stored['amount']} {stored['currency_code']}"


def test_currency_unique_key_tells_currencies_apart(make_attribute: Any) -> None:
    attribute = make_attribute(T.CURRENCY)
    currency = attribute_type(T.CURRENCY)
    usd = currency.unique_key({"amount": 10, "currency_code": "USD"}, attribute)
    eur = currency.unique_key({"amount": 10, "currency_code": "EUR"}, attribute)
    assert usd != eur
    assert usd == currency.unique_key({"amount": 10.0, "currency_code": "USD"}, attribute)


@pytest.mark.parametrize(
    ("bad", "path"),
    [
        ({"amount": "10", "currency_code": "USD"}, f"{VALUE}.amount"),
        ({"amount": True, "currency_code": "USD"}, f"{VALUE}.amount"),
        ({"amount": 2e15 + 0.5, "currency_code": "USD"}, f"{VALUE}.amount"),
        ({"amount": 10**20, "currency_code": "USD"}, f"{VALUE}.amount"),
        ({"amount": 10, "currency_code": "XYZ"}, f"{VALUE}.currency_code"),
        ({"amount": 10, "currency_code": "dollars"}, f"{VALUE}.currency_code"),
        ({"amount": 10, "currency_code": None}, f"{VALUE}.currency_code"),
        ({"amount": 10}, f"{VALUE}.currency_code"),
        ({"currency_code": "USD"}, f"{VALUE}.amount"),
        ({"amount": 10, "currency_code": "USD", "note": "x"}, f"{VALUE}.note"),
        (10, VALUE),
        ("10 USD", VALUE),
        (None, VALUE),
    ],
    ids=repr,
)
def test_currency_refusals(bad: object, path: str, issue_paths: Any) -> None:
    assert issue_paths(T.CURRENCY, {"amount": 1, "currency_code": "USD"}, bad) == [path]


# --- location ---------------------------------------------------------------------------

SPEC_EXAMPLE = {"street": "123 Main St", "city": "Boston", "region": "MA", "postal_code": "02134", "country": "US"}


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        (
            SPEC_EXAMPLE,
            {"line_1": "123 Main St", "city": "Boston", "region": "MA", "postcode": "02134", "country_code": "US"},
        ),
        ({"city": " Boston ", "country_code": "us"}, {"city": "Boston", "country_code": "US"}),
        ({"latitude": 42.36, "longitude": -71.06, "city": None}, {"latitude": 42.36, "longitude": -71.06}),
        ({"country": "Germany"}, {"country_code": "DE"}),
        ({"country": "deu", "postcode": ""}, {"country_code": "DE"}),
        ({"latitude": 90, "longitude": -180}, {"latitude": 90, "longitude": -180}),
    ],
)
def test_location_stores_given_members_under_canonical_names(
    raw: dict[str, Any], stored: dict[str, Any], make_attribute: Any
) -> None:
    attribute = make_attribute(T.LOCATION)
    location = attribute_type(T.LOCATION)
    value = location.normalize(raw, attribute)
    assert value == stored
    read = location.read(value, attribute)
    assert list(read) == ["line_1", "city", "region", "postcode", "country_code", "latitude", "longitude"]
    assert {key: member for key, member in read.items() if member is not None} == stored


def test_location_facets_and_search(make_attribute: Any) -> None:
    attribute = make_attribute(T.LOCATION)
    location = attribute_type(T.LOCATION)
    stored = location.normalize({"city": "Boston", "region": "MA", "country": "US", "latitude": 42.5}, attribute)
    assert location.facet_values(stored, attribute) == [
        FacetValue("", StorageClass.TEXT, "Boston, MA, US"),
        FacetValue("city", StorageClass.TEXT, "Boston"),
        FacetValue("region", StorageClass.TEXT, "MA"),
        FacetValue("country_code", StorageClass.TEXT, "US"),
        FacetValue("latitude", StorageClass.NUMERIC, Decimal("42.5")),
    ]
    assert location.search_text(stored, attribute) == "Boston MA US"
    coordinates = location.normalize({"latitude": 1.5, "longitude": 2}, attribute)
    assert location.facet_values(coordinates, attribute)[0].value == "1.5, 2"


@pytest.mark.parametrize(
    ("bad", "path"),
    [
        ({}, VALUE),
        ({"city": None}, VALUE),
        ({"city": "   "}, VALUE),
        ({"latitude": 91}, f"{VALUE}.latitude"),
        ({"longitude": -180.5}, f"{VALUE}.longitude"),
        ({"latitude": "42"}, f"{VALUE}.latitude"),
        ({"latitude": float("nan")}, f"{VALUE}.latitude"),
        ({"country_code": "Narnia"}, f"{VALUE}.country_code"),
        ({"country": "XX"}, f"{VALUE}.country"),
        ({"city": 5}, f"{VALUE}.city"),
        ({"city": "a\x00"}, f"{VALUE}.city"),
        ({"city": "x" * 501}, f"{VALUE}.city"),
        ({"planet": "Mars"}, f"{VALUE}.planet"),
        ({"street": "1 Main St", "line_1": "2 Main St"}, f"{VALUE}.street"),
        ("Boston", VALUE),
    ],
    ids=repr,
)
def test_location_refusals(bad: object, path: str, issue_paths: Any) -> None:
    assert issue_paths(T.LOCATION, {"city": "Boston"}, bad) == [path]


# --- full_name --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "first", "last", "full"),
    [
        ("John Smith", "John", "Smith", "John Smith"),
        ("Dr. Mary Jane Watson Jr.", "Mary", "Watson", "Dr. Mary Jane Watson Jr."),
        ("  Ada   Lovelace ", "Ada", "Lovelace", "Ada Lovelace"),
        ("Madonna", "Madonna", "", "Madonna"),
        ("Smith, John", "John", "Smith", "Smith, John"),
        ({"first_name": "John", "last_name": "Doe"}, "John", "Doe", "John Doe"),
        ({"first_name": "Mary Jane", "last_name": "Watson"}, "Mary Jane", "Watson", "Mary Jane Watson"),
        ({"last_name": "Doe", "first_name": None}, "", "Doe", "Doe"),
        ({"full_name": "Jane Roe"}, "Jane", "Roe", "Jane Roe"),
        ({"first_name": "J", "last_name": "R", "full_name": "Dr J R"}, "J", "R", "Dr J R"),
    ],
)
def test_full_name_stores_three_parts(raw: object, first: str, last: str, full: str, make_attribute: Any) -> None:
    attribute = make_attribute(T.FULL_NAME)
    name = attribute_type(T.FULL_NAME)
    stored = name.normalize(raw, attribute)
    assert stored == {"first_name": first, "last_name": last, "full_name": full}
    assert name.read(stored, attribute) == full
    assert name.search_text(stored, attribute) == full
    facets = name.facet_values(stored, attribute)
    assert facets[0] == FacetValue("", StorageClass.TEXT, full)
    assert {facet.facet: facet.value for facet in facets[1:]} == {
        key: value for key, value in (("first_name", first), ("last_name", last)) if value
    }


@pytest.mark.parametrize(
    ("bad", "path"),
    [
        ("", VALUE),
        ("   ", VALUE),
        (5, VALUE),
        (None, VALUE),
        ({}, VALUE),
        ({"first_name": None, "last_name": None}, VALUE),
        ({"first_name": 5}, f"{VALUE}.first_name"),
        ({"first_name": "a\ud800"}, f"{VALUE}.first_name"),
        ({"nickname": "Jo"}, f"{VALUE}.nickname"),
        ("x" * 1001, VALUE),
        ("Jane\x00Doe", VALUE),
    ],
    ids=repr,
)
def test_full_name_refusals(bad: object, path: str, issue_paths: Any) -> None:
    assert issue_paths(T.FULL_NAME, "John Smith", bad) == [path]


# --- select -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "stored", "read"),
    [
        ("Open", "opt_open", "Open"),
        ("open", "opt_open", "Open"),
        (" WON ", "opt_won", "Won"),
        ("opt_won", "opt_won", "Won"),
        ("closed lost", "opt_lost", "Closed Lost"),
    ],
)
def test_select_stores_the_option_id(raw: str, stored: str, read: str, make_attribute: Any) -> None:
    attribute = make_attribute(T.SELECT)
    select = attribute_type(T.SELECT)
    value = select.normalize(raw, attribute)
    assert value == stored
    assert select.read(value, attribute) == read
    assert select.facet_values(value, attribute) == [FacetValue("", StorageClass.TEXT, stored)]
    assert select.search_text(value, attribute) == read
    assert select.operators(select.facets[0]) == {"$eq", "$ne", "$in", "$nin", "$exists"}


def test_select_reads_a_deleted_option_as_its_id(make_attribute: Any) -> None:
    assert attribute_type(T.SELECT).read("opt_gone", make_attribute(T.SELECT)) == "opt_gone"


@pytest.mark.parametrize(
    "bad", ["Pending", "", "opt_OPEN", "Open!", 5, None, True, "x" * 600, {"id": "opt_open"}], ids=repr
)
def test_select_refusals(bad: object, issue_paths: Any) -> None:
    assert issue_paths(T.SELECT, "Open", bad) == [VALUE]
