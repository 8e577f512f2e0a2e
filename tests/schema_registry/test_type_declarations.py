"""What each attribute type declares beyond values: whether it can be unique, which attribute
options it takes, the members an import column may fill, and how a spreadsheet cell's text
becomes its write form (and what a column of such cells is guessed to hold)."""

from __future__ import annotations

from typing import Any

import pytest

from schema_registry.definitions import AttributeTypeName
from schema_registry.types import INFERENCE_ORDER, REGISTRY, attribute_type, check_options, infer_type
from schema_registry.types.base import InvalidValue
from tests.schema_registry.conftest import AttributeFactory

T = AttributeTypeName

UNIQUE_CAPABLE = {T.TEXT, T.NUMBER, T.EMAIL, T.PHONE, T.URL, T.DATE, T.DOMAIN, T.SOCIAL_PROFILE, T.FULL_NAME}


# -- uniqueness ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(T))
def test_every_type_declares_its_unique_capability_itself(name: AttributeTypeName) -> None:
    kind = attribute_type(name)
    assert "unique_capable" in type(kind).__dict__, f"{type(kind).__name__} inherits unique_capable"
    assert kind.unique_capable is (name in UNIQUE_CAPABLE)


@pytest.mark.parametrize("name", sorted(set(T) - UNIQUE_CAPABLE))
def test_is_unique_is_refused_on_types_that_cannot_be_unique(name: AttributeTypeName) -> None:
    with pytest.raises(InvalidValue) as refused:
        check_options(name, {"is_unique": True})
    assert refused.value.message == f"{name.value} attributes cannot be unique"


@pytest.mark.parametrize("name", sorted(UNIQUE_CAPABLE))
def test_is_unique_is_taken_by_unique_capable_types(name: AttributeTypeName) -> None:
    check_options(name, {"is_unique": True, "is_required": True, "is_multi_value": True})


# -- type-specific options ---------------------------------------------------------------------------

OPTION_REFUSALS = {
    "select_options": "select_options apply only to select attributes",
    "is_whole_number": "is_whole_number applies only to number attributes",
    "use_raw_format": "use_raw_format applies only to number and phone attributes",
}
TAKERS = {"select_options": {T.SELECT}, "is_whole_number": {T.NUMBER}, "use_raw_format": {T.NUMBER, T.PHONE}}
SET_VALUES: dict[str, Any] = {"select_options": [{"name": "Open"}], "is_whole_number": True, "use_raw_format": True}


@pytest.mark.parametrize("option", sorted(OPTION_REFUSALS))
@pytest.mark.parametrize("name", list(T))
def test_a_type_specific_option_is_taken_only_by_its_types(name: AttributeTypeName, option: str) -> None:
    options = {option: SET_VALUES[option]}
    if name in TAKERS[option]:
        check_options(name, options)
        assert option in attribute_type(name).options
        return
    with pytest.raises(InvalidValue) as refused:
        check_options(name, options)
    assert refused.value.message == OPTION_REFUSALS[option]


@pytest.mark.parametrize("unset", [False, None, []])
def test_options_set_to_nothing_ask_for_nothing(unset: Any) -> None:
    for name in T:
        check_options(name, dict.fromkeys(("select_options", "is_whole_number", "use_raw_format", "is_unique"),
                                          unset))


def test_the_first_refused_option_is_reported_in_a_fixed_order() -> None:
    everything = {**SET_VALUES, "is_unique": True}
    with pytest.raises(InvalidValue) as refused:
        check_options(T.BOOLEAN, everything)
    assert refused.value.message == OPTION_REFUSALS["select_options"]
    with pytest.raises(InvalidValue) as refused:
        check_options(T.PHONE, {"use_raw_format": True, "is_whole_number": True})
    assert refused.value.message == OPTION_REFUSALS["is_whole_number"]


# -- members -----------------------------------------------------------------------------------------

MEMBERS = {
    T.CURRENCY: ("amount", "currency_code"),
    T.LOCATION: ("line_1", "city", "region", "postcode", "country_code", "latitude", "longitude"),
    T.FULL_NAME: ("first_name", "last_name"),
}


@pytest.mark.parametrize("name", list(T))
def test_members_an_import_column_may_fill(name: AttributeTypeName) -> None:
    assert attribute_type(name).members == MEMBERS.get(name, ())


@pytest.mark.parametrize(("name", "member", "text", "expected"), [
    (T.CURRENCY, "amount", " 1,250.5 ", 1250.5),
    (T.CURRENCY, "amount", "12", 12),
    (T.CURRENCY, "amount", "about 12", "about 12"),  # refused later, by the value's validation
    (T.CURRENCY, "currency_code", " eur ", "eur"),
    (T.LOCATION, "latitude", "51.5072", 51.5072),
    (T.LOCATION, "longitude", "-0.1276", -0.1276),
    (T.LOCATION, "longitude", "west", "west"),
    (T.LOCATION, "city", "  London ", "London"),
    (T.LOCATION, "postcode", "02139", "02139"),  # a postcode stays text: its leading zero matters
    (T.FULL_NAME, "last_name", " Lovelace ", "Lovelace"),
])
def test_coerce_member(name: AttributeTypeName, member: str, text: str, expected: Any) -> None:
    coerced = attribute_type(name).coerce_member(member, text)
    assert coerced == expected and type(coerced) is type(expected)


# -- cells -------------------------------------------------------------------------------------------

CELLS: list[tuple[AttributeTypeName, str, Any]] = [
    (T.TEXT, "  Hello, world  ", "Hello, world"),
    (T.NUMBER, " 42 ", 42),
    (T.NUMBER, "1,234.5", 1234.5),
    (T.NUMBER, "-3e2", -300.0),
    (T.NUMBER, ".5", 0.5),
    (T.BOOLEAN, " Yes ", True),
    (T.BOOLEAN, "t", True),
    (T.BOOLEAN, "1", True),
    (T.BOOLEAN, "NO", False),
    (T.BOOLEAN, "0", False),
    (T.CURRENCY, "USD 12.50", {"amount": 12.5, "currency_code": "USD"}),
    (T.CURRENCY, "$1,200", {"amount": 1200, "currency_code": "USD"}),
    (T.CURRENCY, " 9.99 eur ", {"amount": 9.99, "currency_code": "eur"}),
    (T.CURRENCY, "€3", {"amount": 3, "currency_code": "EUR"}),
    (T.CURRENCY, "£ 7", {"amount": 7, "currency_code": "GBP"}),
    (T.CURRENCY, "¥500", {"amount": 500, "currency_code": "JPY"}),
    (T.LOCATION, " 1 Main St, Boston ", {"line_1": "1 Main St, Boston"}),
    (T.EMAIL, " Ada@Example.com ", "Ada@Example.com"),
    (T.PHONE, " +1 201-555-0123 ", "+1 201-555-0123"),
    (T.URL, " https://example.com/a ", "https://example.com/a"),
    (T.DATE, " 2024-02-29 ", "2024-02-29"),
    (T.SELECT, " Won ", "Won"),
    (T.SOCIAL_PROFILE, " linkedin.com/in/ada ", "linkedin.com/in/ada"),
    (T.DOMAIN, " Example.com ", "Example.com"),
    (T.FULL_NAME, " Ada Lovelace ", "Ada Lovelace"),
]


@pytest.mark.parametrize(("name", "text", "expected"), CELLS)
def test_coerce_cell(name: AttributeTypeName, text: str, expected: Any) -> None:
    coerced = attribute_type(name).coerce_cell(text)
    assert coerced == expected and type(coerced) is type(expected)


@pytest.mark.parametrize(("name", "text", "expected"), CELLS)
def test_a_coerced_cell_is_a_value_the_type_stores(name: AttributeTypeName, text: str, expected: Any,
                                                   make_attribute: AttributeFactory) -> None:
    attribute = make_attribute(name)
    kind = attribute_type(name)
    kind.normalize(kind.coerce_cell(text), attribute)


REFUSED_CELLS: list[tuple[AttributeTypeName, str]] = [
    (T.NUMBER, "twelve"),
    (T.NUMBER, "1.2.3"),
    (T.NUMBER, "1" * 101),  # longer than any storable number
    (T.NUMBER, "12,34"),  # not a thousands separator
    (T.BOOLEAN, "maybe"),
    (T.BOOLEAN, " sure "),
    (T.CURRENCY, "12.50"),  # no currency
    (T.CURRENCY, "USD"),  # no amount
    (T.CURRENCY, "$ lots"),
    (T.CURRENCY, "USD 1.2.3"),
    (T.CURRENCY, " " * 50 + "x"),
]


@pytest.mark.parametrize(("name", "text"), REFUSED_CELLS)
def test_a_cell_the_type_cannot_read_is_handed_on_unchanged_and_refused_by_validation(
        name: AttributeTypeName, text: str, make_attribute: AttributeFactory) -> None:
    kind = attribute_type(name)
    assert kind.coerce_cell(text) == text
    with pytest.raises(InvalidValue):
        kind.normalize(kind.coerce_cell(text), make_attribute(name))


@pytest.mark.parametrize("name", [T.EMAIL, T.PHONE, T.DOMAIN])
def test_addresses_phone_numbers_and_domains_split_multi_value_cells_on_commas(name: AttributeTypeName) -> None:
    assert attribute_type(name).cell_separators.split("a,b;c\nd") == ["a", "b", "c", "d"]


@pytest.mark.parametrize("name", sorted(set(T) - {T.EMAIL, T.PHONE, T.DOMAIN}))
def test_other_types_keep_commas_inside_a_value(name: AttributeTypeName) -> None:
    assert attribute_type(name).cell_separators.split("Smith, Jane;Doe, John\nX") == ["Smith, Jane", "Doe, John",
                                                                                      "X"]


# -- guessing what a column holds --------------------------------------------------------------------

LOOKS_LIKE: dict[AttributeTypeName, tuple[list[str], list[str]]] = {
    # type: (cells that look like it, cells that do not)
    T.EMAIL: (["ada@example.com", "a.b@mail.example.org"], ["ada@example", "ada@.com", "a@b@c.com", "ada"]),
    T.URL: (["https://example.com", "HTTP://x.io/a"], ["example.com", "ftp://x.io"]),
    T.DATE: (["2024-02-29", "2024-02-29T10:00:00Z", "2024-02-29 10:00"], ["29/02/2024", "2024-2-29"]),
    T.BOOLEAN: (["yes", "N", "TRUE", "f"], ["1", "0", "maybe"]),
    T.NUMBER: (["42", "-1.5", "1,234", "+14155552671"], ["12,34", "1.2.3", "1" * 101]),
    T.PHONE: (["+1 (201) 555-0123", "201.555.0123"], ["555-01", "call me"]),
    T.DOMAIN: (["example.com", "www.example.co.uk"], ["example", "https://example.com", "a b.com"]),
}


@pytest.mark.parametrize("name", list(T))
def test_looks_like(name: AttributeTypeName) -> None:
    kind = attribute_type(name)
    yes, no = LOOKS_LIKE.get(name, ([], ["anything", "42", "ada@example.com"]))
    assert [v for v in yes if not kind.looks_like(v)] == []
    assert [v for v in no if kind.looks_like(v)] == []


def test_only_the_types_it_tries_are_ever_guessed() -> None:
    assert set(INFERENCE_ORDER) == set(LOOKS_LIKE)
    assert set(INFERENCE_ORDER) <= set(REGISTRY)


@pytest.mark.parametrize(("column", "expected"), [
    ([], T.TEXT),
    (["", "  "], T.TEXT),
    (["ada@example.com", "bob@example.com", " eve@example.org "], T.EMAIL),
    (["1", "0", "1", "1"], T.NUMBER),  # digits are numbers before they are flags
    (["yes", "no", "y"], T.BOOLEAN),
    (["+14155552671", "+442071838750"], T.NUMBER),  # the first type tried that fits wins
    (["+1 (415) 555-2671", "+44 20 7183 8750"], T.PHONE),
    (["acme.com", "globex.co.uk"], T.DOMAIN),
    (["2024-01-01", "2024-01-02", "2024-01-03", "soon", "later", "never"], T.TEXT),  # 3 of 6: below 80 %
    (["2024-01-01", "2024-01-02", "soon"], T.DATE),  # 80 % of 3 cells, rounded down, is 2
    (["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04", "soon"], T.DATE),  # 4 of 5 is enough
    (["Ada", "Bob"], T.TEXT),
])
def test_infer_type(column: list[str], expected: AttributeTypeName) -> None:
    assert infer_type(column) is expected
