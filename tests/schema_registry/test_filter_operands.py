"""filter_operand: operands normalised the way values are stored."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from schema_registry.definitions import AttributeTypeName as T
from schema_registry.types import attribute_type
from schema_registry.types.base import FacetScalar, InvalidValue


def _operand(make_attribute: Any, type_: T, operator: str, raw: object, facet: str = "") -> FacetScalar:
    kind = attribute_type(type_)
    found = kind.facet(facet)
    assert found is not None
    return kind.filter_operand(operator, raw, found, make_attribute(type_))


@pytest.mark.parametrize(
    ("type_", "operator", "raw", "facet", "expected"),
    [
        (T.TEXT, "$eq", "Hello", "", "Hello"),
        (T.TEXT, "$contains", "ell", "", "ell"),
        (T.NUMBER, "$gt", 2.5, "", Decimal("2.5")),
        (T.NUMBER, "$in", 3, "", Decimal(3)),
        (T.EMAIL, "$eq", " Jane@Example.COM ", "", "jane@example.com"),
        (T.EMAIL, "$eq", "Example.COM", "domain", "example.com"),
        (T.EMAIL, "$ends_with", "@Example.com", "", "@Example.com"),
        (T.PHONE, "$eq", "+1 201-555-0123", "", "+12015550123"),
        (T.PHONE, "$in", {"number": "2015550123", "country": "US"}, "", "+12015550123"),
        (T.PHONE, "$eq", "us", "country_code", "US"),
        (T.PHONE, "$contains", "555", "", "555"),
        (T.URL, "$eq", "https://Acme.com", "", "https://acme.com/"),
        (T.URL, "$eq", "WWW.Acme.com", "domain", "www.acme.com"),
        (T.DOMAIN, "$eq", "https://www.Acme.com/x", "", "acme.com"),
        (T.DOMAIN, "$starts_with", "acme", "", "acme"),
        (T.DATE, "$gte", "2026-01-02", "", datetime(2026, 1, 2, tzinfo=UTC)),
        (T.DATE, "$lt", "2026-01-02T03:04:05+01:00", "", datetime(2026, 1, 2, 2, 4, 5, tzinfo=UTC)),
        (T.BOOLEAN, "$eq", True, "", True),
        (T.CURRENCY, "$lte", 100, "", Decimal(100)),
        (T.CURRENCY, "$eq", "usd", "currency_code", "USD"),
        (T.LOCATION, "$eq", "Boston", "city", "Boston"),
        (T.LOCATION, "$eq", "Germany", "country_code", "DE"),
        (T.LOCATION, "$gt", 42.5, "latitude", Decimal("42.5")),
        (T.SELECT, "$eq", "open", "", "opt_open"),
        (T.SELECT, "$in", "opt_won", "", "opt_won"),
        (T.SOCIAL_PROFILE, "$eq", "twitter.com/jack", "", "https://x.com/jack"),
        (T.SOCIAL_PROFILE, "$eq", "LinkedIn", "platform", "linkedin"),
        (T.SOCIAL_PROFILE, "$eq", "jack", "handle", "jack"),
        (T.FULL_NAME, "$eq", " Jane  Roe ", "", "Jane Roe"),
        (T.FULL_NAME, "$eq", "Roe", "last_name", "Roe"),
        (T.FULL_NAME, "$contains", "an", "", "an"),
    ],
)
def test_operands_are_normalized_like_values(
    type_: T, operator: str, raw: object, facet: str, expected: FacetScalar, make_attribute: Any
) -> None:
    assert _operand(make_attribute, type_, operator, raw, facet) == expected


@pytest.mark.parametrize(
    ("type_", "operator", "raw", "facet"),
    [
        (T.TEXT, "$contains", "", ""),
        (T.TEXT, "$starts_with", "   ", ""),
        (T.TEXT, "$eq", 5, ""),
        (T.TEXT, "$gt", "a", ""),
        (T.NUMBER, "$gt", "2", ""),
        (T.NUMBER, "$gt", float("nan"), ""),
        (T.NUMBER, "$contains", "1", ""),
        (T.EMAIL, "$eq", "not-an-email", ""),
        (T.PHONE, "$eq", "2015550123", ""),
        (T.DOMAIN, "$eq", "localhost", ""),
        (T.DATE, "$gt", "yesterday", ""),
        (T.DATE, "$gt", "2026-02-30", ""),
        (T.BOOLEAN, "$eq", "true", ""),
        (T.BOOLEAN, "$gt", True, ""),
        (T.SELECT, "$eq", "Pending", ""),
        (T.SELECT, "$contains", "Op", ""),
        (T.CURRENCY, "$eq", "dollars", "currency_code"),
        (T.LOCATION, "$eq", "Narnia", "country_code"),
        (T.SOCIAL_PROFILE, "$eq", "myspace", "platform"),
        (T.URL, "$eq", "ftp://acme.com", ""),
    ],
)
def test_bad_operands_are_invalid_values(
    type_: T, operator: str, raw: object, facet: str, make_attribute: Any
) -> None:
    with pytest.raises(InvalidValue):
        _operand(make_attribute, type_, operator, raw, facet)
