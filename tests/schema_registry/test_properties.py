"""Property tests: normalizers are total over JSON (they accept or raise InvalidValue, nothing
else), stable on their own output, and validation never fails any other way."""

from __future__ import annotations

import contextlib
from datetime import UTC, timedelta, timezone
from typing import Any

import phonenumbers
import pycountry
import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.provisional import domains, urls

from schema_registry.definitions import AttributeTypeName as T
from schema_registry.types import REGISTRY, attribute_type, email_address
from schema_registry.types.base import InvalidValue
from schema_registry.validation import RecordValidationError, validate_attributes

PROPERTY_SETTINGS = settings(
    database=None,  # pure tests: no example database on disk
    deadline=None,  # the first call of a type builds lookup tables
    max_examples=150,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

MEMBER_NAMES = [
    "amount", "currency_code", "number", "country_code", "country", "first_name", "last_name", "full_name",
    "line_1", "street", "city", "region", "postcode", "postal_code", "latitude", "longitude", "url",
]  # fmt: skip
TRICKY_CHARACTERS = st.sampled_from(["\x00", "\ud800", "\udfff", "a", "Z", "@", ".", "+", "1", "-", ":", "/", " ", "é"])

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()
    | st.text(max_size=30)
    | st.text(TRICKY_CHARACTERS, max_size=30)
)
KEYS = st.sampled_from(MEMBER_NAMES) | st.text(max_size=8) | st.text(TRICKY_CHARACTERS, max_size=8)
GARBAGE = st.recursive(
    SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(KEYS, children, max_size=5),
    max_leaves=12,
)
TYPES = sorted(REGISTRY, key=str)


@pytest.mark.parametrize("type_", TYPES)
@PROPERTY_SETTINGS
@given(raw=GARBAGE)
def test_normalize_only_ever_raises_invalid_value(type_: T, raw: object, make_attribute: Any) -> None:
    attribute = make_attribute(type_)
    kind = attribute_type(type_)
    try:
        stored = kind.normalize(raw, attribute)
    except InvalidValue:
        return
    _check_stored(type_, stored, attribute)


@pytest.mark.parametrize("type_", TYPES)
@PROPERTY_SETTINGS
@given(raw=GARBAGE, data=st.data())
def test_filter_operand_only_ever_raises_invalid_value(
    type_: T, raw: object, data: st.DataObject, make_attribute: Any
) -> None:
    kind = attribute_type(type_)
    facet = data.draw(st.sampled_from(kind.facets))
    operator = data.draw(st.sampled_from([*sorted(kind.operators(facet) - {"$exists"}), "$regex"]))
    with contextlib.suppress(InvalidValue):
        kind.filter_operand(operator, raw, facet, make_attribute(type_))


@PROPERTY_SETTINGS
@given(
    body=GARBAGE
    | st.dictionaries(st.sampled_from([t.value for t in TYPES]) | st.text(TRICKY_CHARACTERS, max_size=5), GARBAGE)
)
def test_validation_only_ever_raises_record_validation_error(
    body: object, make_attribute: Any, make_object: Any
) -> None:
    attributes = [make_attribute(t, t.value, is_multi_value=index % 2 == 0) for index, t in enumerate(TYPES)]
    try:
        validate_attributes(make_object(*attributes), body, "update")
    except RecordValidationError as err:
        assert err.issues
        assert all(issue.path.startswith("attributes") for issue in err.issues)


# --- idempotency on plausible values ------------------------------------------------------------------------------

NUMBERS = st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1) | st.floats(
    min_value=-1e14, max_value=1e14, allow_nan=False, allow_infinity=False
)
OFFSETS = st.integers(min_value=-23 * 60 - 59, max_value=23 * 60 + 59).map(lambda m: timezone(timedelta(minutes=m)))
PHONE_EXAMPLES = [
    phonenumbers.format_number(number, form)
    for region in sorted(phonenumbers.SUPPORTED_REGIONS)
    if (number := phonenumbers.example_number(region)) is not None
    for form in (phonenumbers.PhoneNumberFormat.E164, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
]
CURRENCY_CODES = sorted(currency.alpha_3 for currency in pycountry.currencies)
COUNTRIES = sorted(country.alpha_2 for country in pycountry.countries)
PROFILE_HOSTS = ["linkedin.com/in/", "twitter.com/", "x.com/", "github.com/", "www.instagram.com/", "youtube.com/@",
                 "tiktok.com/@", "facebook.com/", "example.org/~"]  # fmt: skip
HANDLES = st.text(st.sampled_from("abcXYZ019_.-"), min_size=1, max_size=12)

PLAUSIBLE: dict[T, st.SearchStrategy[Any]] = {
    T.TEXT: st.text(max_size=50),
    T.NUMBER: NUMBERS,
    T.EMAIL: st.emails(),
    T.PHONE: st.sampled_from(PHONE_EXAMPLES),
    T.URL: urls(),
    T.DATE: st.dates().map(lambda d: d.isoformat())
    | st.datetimes(timezones=OFFSETS).map(lambda d: d.isoformat())
    | st.datetimes(timezones=st.just(UTC)).map(lambda d: d.isoformat().replace("+00:00", "Z")),
    T.BOOLEAN: st.booleans(),
    T.CURRENCY: st.fixed_dictionaries({"amount": NUMBERS, "currency_code": st.sampled_from(CURRENCY_CODES)}),
    T.LOCATION: st.fixed_dictionaries(
        {},
        optional={
            "line_1": st.text(max_size=20),
            "city": st.text(max_size=20),
            "postal_code": st.text(max_size=8),
            "country": st.sampled_from(COUNTRIES),
            "latitude": st.floats(min_value=-90, max_value=90),
            "longitude": st.integers(min_value=-180, max_value=180),
        },
    ),
    T.SELECT: st.sampled_from(["Open", "won", "CLOSED LOST", "opt_open", "opt_lost"]),
    T.SOCIAL_PROFILE: st.builds(lambda host, handle: host + handle, st.sampled_from(PROFILE_HOSTS), HANDLES),
    T.DOMAIN: domains(),
    T.FULL_NAME: st.text(max_size=40)
    | st.fixed_dictionaries({}, optional={"first_name": st.text(max_size=15), "last_name": st.text(max_size=15)}),
}


def test_every_type_has_a_plausible_strategy() -> None:
    assert set(PLAUSIBLE) == set(REGISTRY)


@pytest.mark.parametrize("type_", TYPES)
@PROPERTY_SETTINGS
@given(data=st.data())
def test_normalize_is_idempotent_on_its_read_form(type_: T, data: st.DataObject, make_attribute: Any) -> None:
    raw = data.draw(PLAUSIBLE[type_])
    attribute = make_attribute(type_)
    kind = attribute_type(type_)
    try:
        stored = kind.normalize(raw, attribute)
    except InvalidValue:
        return
    _check_stored(type_, stored, attribute)
    again = kind.normalize(kind.read(stored, attribute), attribute)
    if type_ is T.FULL_NAME and isinstance(raw, dict):
        # The read form is the full name alone; splitting it again may draw the line
        # between first and last name elsewhere than the object did.
        assert again["full_name"] == stored["full_name"]
    else:
        assert again == stored


def _check_stored(type_: T, stored: Any, attribute: Any) -> None:
    kind = attribute_type(type_)
    facets = kind.facet_values(stored, attribute)
    assert facets
    assert facets[0].facet == ""
    declared = {facet.name: facet.storage for facet in kind.facets}
    assert all(declared[value.facet] == value.storage for value in facets)
    assert isinstance(kind.search_text(stored, attribute), str)
    assert isinstance(kind.unique_key(stored, attribute), str)
    kind.read(stored, attribute)


# --- email: the split fast path agrees with one full email-validator call ------------------------------------------

LOCAL_CHARACTERS = st.sampled_from([*"abcXYZ09", *".+-_!#$%&'*/=?^`{|}~", '"', " ", "(", "@", "\\", "é"])
DOMAIN_CHARACTERS = st.sampled_from([*"abcXYZ09", ".", "-", "_", " ", "[", "]", ":", "é"])
ADDRESSES = (
    st.emails()
    | st.builds(
        lambda local, domain, tld: f"{local}@{domain}.{tld}",
        st.text(LOCAL_CHARACTERS, max_size=70),
        st.text(DOMAIN_CHARACTERS, max_size=70),
        st.sampled_from(["com", "co.uk", "test", "local", "c0m", "x", "localhost"]),
    )
    | st.text(LOCAL_CHARACTERS | DOMAIN_CHARACTERS, max_size=140)
)


def _one_full_call(address: str) -> tuple[str, str] | None:
    try:
        result = validate_email(address.strip(), check_deliverability=False)
    except EmailNotValidError:
        return None
    return result.normalized.lower(), result.ascii_domain.lower()


@PROPERTY_SETTINGS
@given(address=ADDRESSES)
def test_email_fast_path_agrees_with_email_validator(address: str) -> None:
    try:
        ours: tuple[str, str] | None = email_address._normalize_address.__wrapped__(address)
    except InvalidValue:
        ours = None
    assert ours == _one_full_call(address)
