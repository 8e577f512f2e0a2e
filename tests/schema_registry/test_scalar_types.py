"""text, number, boolean and date: write forms, stored and read forms, facets, refusals."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from schema_registry.definitions import AttributeTypeName as T
from schema_registry.types import attribute_type
from schema_registry.types.base import FacetValue, InvalidValue, StorageClass

VALUE = "attributes.values[1]"


# --- text -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw", ["hello", "", "  spaced  ", "ünïcödé 🎉", "line\nbreak\ttab", "x" * 10_000], ids=repr
)
def test_text_is_stored_and_read_as_given(raw: str, make_attribute: Any) -> None:
    attribute = make_attribute(T.TEXT)
    text = attribute_type(T.TEXT)
    stored = text.normalize(raw, attribute)
    assert stored == raw
    assert text.read(stored, attribute) == raw
    assert text.facet_values(stored, attribute) == [FacetValue("", StorageClass.TEXT, raw)]
    assert text.search_text(stored, attribute) == raw


@pytest.mark.parametrize(
    "bad",
    [5, 1.5, True, {"a": 1}, ["nested"], None, "x" * 10_001, "a\x00b", "lone \ud800 surrogate"],
    ids=repr,
)
def test_text_refusals(bad: object, issue_paths: Any) -> None:
    assert issue_paths(T.TEXT, "fine", bad) == [VALUE]


# --- number -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "stored", "facet"),
    [
        (1, 1, Decimal(1)),
        (1.0, 1, Decimal(1)),
        (-2.5, -2.5, Decimal("-2.5")),
        (0.1, 0.1, Decimal("0.1")),
        (0, 0, Decimal(0)),
        (9_007_199_254_740_991, 9_007_199_254_740_991, Decimal(9_007_199_254_740_991)),
        (-9_007_199_254_740_991, -9_007_199_254_740_991, Decimal(-9_007_199_254_740_991)),
        (123_456_789_012_345.6, 123_456_789_012_345.6, Decimal("123456789012345.6")),
        (1e-300, 1e-300, Decimal("1e-300")),
    ],
)
def test_number_write_stored_read_facet(raw: float, stored: float, facet: Decimal, make_attribute: Any) -> None:
    attribute = make_attribute(T.NUMBER)
    number = attribute_type(T.NUMBER)
    value = number.normalize(raw, attribute)
    assert value == stored
    assert type(value) is type(stored)
    assert number.read(value, attribute) == stored
    assert number.facet_values(value, attribute) == [FacetValue("", StorageClass.NUMERIC, facet)]


@pytest.mark.parametrize(
    "bad",
    [
        "1",
        True,
        None,
        [1],
        {"amount": 1},
        2**53,
        -(2**53),
        10**400,
        1e300,
        1e15 + 0.5,
        float("nan"),
        float("inf"),
        float("-inf"),
    ],
    ids=repr,
)
def test_number_refusals(bad: object, issue_paths: Any) -> None:
    assert issue_paths(T.NUMBER, 1, bad) == [VALUE]


def test_whole_number_accepts_integral_floats_and_refuses_fractions(make_attribute: Any, issue_paths: Any) -> None:
    attribute = make_attribute(T.NUMBER, is_whole_number=True)
    assert attribute_type(T.NUMBER).normalize(3.0, attribute) == 3
    assert issue_paths(T.NUMBER, 3, 1.5, is_whole_number=True) == [VALUE]
    with pytest.raises(InvalidValue, match="whole number"):
        attribute_type(T.NUMBER).normalize(2.5, attribute)


# --- boolean ----------------------------------------------------------------------------


@pytest.mark.parametrize("raw", [True, False])
def test_boolean_round_trip(raw: bool, make_attribute: Any) -> None:
    attribute = make_attribute(T.BOOLEAN)
    boolean = attribute_type(T.BOOLEAN)
    stored = boolean.normalize(raw, attribute)
    assert stored is raw
    assert boolean.read(stored, attribute) is raw
    assert boolean.facet_values(stored, attribute) == [FacetValue("", StorageClass.BOOLEAN, raw)]
    assert boolean.operators(boolean.facets[0]) == {"$eq", "$ne", "$exists"}


@pytest.mark.parametrize("bad", ["true", "false", 1, 0, None, [], {}, "yes"], ids=repr)
def test_boolean_refusals(bad: object, issue_paths: Any, make_attribute: Any) -> None:
    assert issue_paths(T.BOOLEAN, True, bad) == [VALUE]
    with pytest.raises(InvalidValue):
        attribute_type(T.BOOLEAN).normalize(bad, make_attribute(T.BOOLEAN))


# --- date -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "stored", "instant"),
    [
        ("2026-01-02", "2026-01-02", datetime(2026, 1, 2, tzinfo=UTC)),
        ("2024-02-29", "2024-02-29", datetime(2024, 2, 29, tzinfo=UTC)),
        ("0001-01-01", "0001-01-01", datetime(1, 1, 1, tzinfo=UTC)),
        ("9999-12-31", "9999-12-31", datetime(9999, 12, 31, tzinfo=UTC)),
        ("2026-01-02T03:04:05Z", "2026-01-02T03:04:05Z", datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)),
        ("2026-01-02T03:04:05+02:00", "2026-01-02T01:04:05Z", datetime(2026, 1, 2, 1, 4, 5, tzinfo=UTC)),
        ("2026-01-01T00:30:00+01:00", "2025-12-31T23:30:00Z", datetime(2025, 12, 31, 23, 30, tzinfo=UTC)),
        ("2026-01-02t03:04:05.5z", "2026-01-02T03:04:05.500000Z", datetime(2026, 1, 2, 3, 4, 5, 500_000, tzinfo=UTC)),
        (
            "2026-01-02 03:04:05.123456789-05:30",
            "2026-01-02T08:34:05.123456Z",
            datetime(2026, 1, 2, 8, 34, 5, 123_456, tzinfo=UTC),
        ),
    ],
)
def test_date_keeps_precision_and_converts_to_utc(
    raw: str, stored: str, instant: datetime, make_attribute: Any
) -> None:
    attribute = make_attribute(T.DATE)
    date = attribute_type(T.DATE)
    value = date.normalize(raw, attribute)
    assert value == stored
    assert date.read(value, attribute) == stored
    [facet] = date.facet_values(value, attribute)
    assert facet == FacetValue("", StorageClass.TIMESTAMP, instant)
    assert facet.value.tzinfo is not None  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "bad",
    [
        "2026-02-30",
        "2025-02-29",
        "2026-13-01",
        "0000-01-01",
        "2026-01-02T03:04:05",
        "2026-01-02T25:00:00Z",
        "2026-01-02T23:59:60Z",
        "2026-01-02T03:04:05+05:99",
        "0001-01-01T00:00:00+01:00",
        "9999-12-31T23:00:00-01:30",
        "02/01/2026",
        "20260102",
        "2026-W01-1",
        "٢٠٢٦-٠١-٠٢",
        "",
        20260102,
        None,
        {"date": "2026-01-02"},
    ],
    ids=repr,
)
def test_date_refusals(bad: object, issue_paths: Any) -> None:
    assert issue_paths(T.DATE, "2026-01-02", bad) == [VALUE]


def test_naive_date_time_gets_a_precise_message(make_attribute: Any) -> None:
    with pytest.raises(InvalidValue, match="time zone"):
        attribute_type(T.DATE).normalize("2026-01-02T03:04:05", make_attribute(T.DATE))


def test_date_and_its_midnight_are_distinct_unique_values(make_attribute: Any) -> None:
    attribute = make_attribute(T.DATE)
    date = attribute_type(T.DATE)
    assert date.unique_key("2026-01-02", attribute) != date.unique_key("2026-01-02T00:00:00Z", attribute)
