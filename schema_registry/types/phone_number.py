"""phone: a valid phone number, stored and read in E.164 (``+12015550123``).

Write forms: a string with a leading ``+`` and country calling code (``"+1 201-555-0123"``,
or the URI ``tel:+1-201-555-0123``); the spec's object
``{"number": "2015550123", "country_code": 1}`` (a calling code, as a number or digit
string); or ``{"number": "...", "country": "US"}`` with an ISO 3166 alpha-2 region (a
two-letter ``country_code`` is read as a region too, the way Attio spells it). A number must
be *possible* for its region per libphonenumber (right length and shape). Stricter validity
(assigned number ranges) is not required: clients and the spec's own example use fictional
numbers such as ``+1 555 123 4567``, and refusing them would break a Nex client's first call.
Extensions are refused: E.164 cannot hold them.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import ClassVar

import phonenumbers

from schema_registry.definitions import AttributeDefinition, AttributeTypeName
from schema_registry.types.base import (
    CELL_SEPARATORS_WITH_COMMA,
    JSON,
    AttributeType,
    Facet,
    FacetScalar,
    FacetValue,
    InvalidValue,
    StorageClass,
    TypeOption,
)
from schema_registry.types.operands import SUBSTRING_OPERATORS, check_operator, scalar_operand
from schema_registry.types.storable import describe, member_path, require_object, storable_string

_MAX_INPUT_LENGTH = 64
_OBJECT_KEYS = frozenset({"number", "country_code", "country"})
_NEEDS_COUNTRY = (
    "a phone number needs its country: write it with a leading + and calling code "
    '("+1 201-555-0123") or as {"number": ..., "country": "US"}'
)


@lru_cache(maxsize=8192)
def _parse(text: str, region: str | None) -> phonenumbers.PhoneNumber:
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as err:
        # str(err) reads "(1) The string supplied did not seem to be a phone number."
        reason = str(err).split(") ", 1)[-1]
        raise InvalidValue(f"not a phone number: {reason}") from err
    if number.extension:
        raise InvalidValue("phone extensions cannot be stored (E.164 has no room for them)")
    if not phonenumbers.is_possible_number(number):
        raise InvalidValue("not a possible phone number for its country (wrong length)")
    return number


def _region(raw: JSON, key: str) -> str:
    region = raw.upper() if isinstance(raw, str) else None
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise InvalidValue("expected an ISO 3166 alpha-2 country code such as US", member_path(key))
    return region


def _calling_code(raw: JSON) -> int:
    digits = raw.lstrip("+") if isinstance(raw, str) else raw
    if isinstance(digits, str) and digits.isascii() and digits.isdigit() and len(digits) <= 3:
        digits = int(digits)
    if isinstance(digits, bool) or not isinstance(digits, int) or not 1 <= digits <= 999:
        raise InvalidValue(
            f"expected a country calling code such as 1, got {describe(raw)}", member_path("country_code")
        )
    return digits


def _parse_object(raw: dict[str, JSON]) -> phonenumbers.PhoneNumber:
    number = raw.get("number")
    if isinstance(number, int) and not isinstance(number, bool) and 0 <= number < 10**20:
        number = str(number)
    if not isinstance(number, str):
        raise InvalidValue(f"expected the number as a string, got {describe(number)}", member_path("number"))
    try:
        text = storable_string(number, max_length=_MAX_INPUT_LENGTH, what="number").strip()
    except InvalidValue as err:
        raise InvalidValue(err.message, member_path("number")) from err
    if text.startswith("+"):
        return _parse(text, None)
    country_code = raw.get("country_code")
    if isinstance(country_code, str) and len(country_code) == 2 and country_code.isalpha():
        return _parse(text, _region(country_code, "country_code"))
    if country_code is not None:
        return _parse(f"+{_calling_code(country_code)} {text}", None)
    if raw.get("country") is not None:
        return _parse(text, _region(raw["country"], "country"))
    raise InvalidValue(_NEEDS_COUNTRY)


def parse_phone(raw: JSON) -> phonenumbers.PhoneNumber:
    """Parse any write form into a valid libphonenumber ``PhoneNumber``."""
    if isinstance(raw, dict):
        return _parse_object(require_object(raw, _OBJECT_KEYS, "a phone number"))
    text = storable_string(raw, max_length=_MAX_INPUT_LENGTH, what="phone number").strip()
    # An RFC 3966 "tel:+..." URI carries its country code as well.
    if not text.startswith("+") and not text[:5].lower() == "tel:+":
        raise InvalidValue(_NEEDS_COUNTRY)
    return _parse(text, None)


def normalize_phone(raw: JSON) -> str:
    """The stored form: E.164."""
    return phonenumbers.format_number(parse_phone(raw), phonenumbers.PhoneNumberFormat.E164)


_LOOKS_LIKE_PHONE = re.compile(r"^\+?[\d\s().-]{7,20}$")


class PhoneType(AttributeType):
    """A phone number. Facets: E.164, and the number's region (``US``) when it has one."""

    name: ClassVar[AttributeTypeName] = AttributeTypeName.PHONE
    unique_capable: ClassVar[bool] = True
    options: ClassVar[frozenset[TypeOption]] = frozenset({TypeOption.USE_RAW_FORMAT})
    cell_separators: ClassVar[re.Pattern[str]] = CELL_SEPARATORS_WITH_COMMA
    facets: ClassVar[tuple[Facet, ...]] = (
        Facet("", StorageClass.TEXT),
        Facet("country_code", StorageClass.TEXT),
    )

    def value_schema(self, attribute: AttributeDefinition) -> dict[str, JSON]:
        # One "type" list rather than anyOf: string keywords apply to strings only and
        # object keywords to objects only, and errors point at the offending member.
        return {
            "type": ["string", "object"],
            "maxLength": _MAX_INPUT_LENGTH,
            "properties": {
                "number": {"type": ["string", "integer"], "maxLength": _MAX_INPUT_LENGTH},
                "country_code": {"type": ["integer", "string"], "maxLength": 4},
                "country": {"type": "string", "maxLength": 2},
            },
            "required": ["number"],
            "additionalProperties": False,
        }

    def normalize(self, raw: JSON, attribute: AttributeDefinition) -> JSON:
        return normalize_phone(raw)

    def read(self, stored: JSON, attribute: AttributeDefinition) -> JSON:
        return stored

    def facet_values(self, stored: JSON, attribute: AttributeDefinition) -> list[FacetValue]:
        values = [FacetValue("", StorageClass.TEXT, stored)]
        region = phonenumbers.region_code_for_number(_parse(stored, None))
        # Non-geographic numbers (+800 freephone) belong to region "001": no country.
        if region and region.isalpha():
            values.append(FacetValue("country_code", StorageClass.TEXT, region))
        return values

    def search_text(self, stored: JSON, attribute: AttributeDefinition) -> str:
        national = phonenumbers.national_significant_number(_parse(stored, None))
        return f"{stored} {national}"

    def filter_operand(
        self, operator: str, raw: JSON, facet: Facet, attribute: AttributeDefinition
    ) -> FacetScalar:
        check_operator(self, operator, facet)
        if operator in SUBSTRING_OPERATORS:
            return scalar_operand(self, operator, raw, facet)
        if facet.name == "country_code":
            return _region(raw, "country_code")
        return normalize_phone(raw)

    def looks_like(self, text: str) -> bool:
        return bool(_LOOKS_LIKE_PHONE.match(text)) and sum(c.isdigit() for c in text) >= 7
