"""location: a postal address and/or coordinates.

Write form: an object with any of ``line_1``, ``city``, ``region``, ``postcode``,
``country_code``, ``latitude``, ``longitude`` (at least one non-null), or the spec's aliases
``street`` (line_1), ``postal_code`` (postcode) and ``country`` (country_code). A country is
given by ISO 3166-1 alpha-2, alpha-3 or a name pycountry resolves (``"Germany"``) and stored
as alpha-2, uppercase. Blank strings count as absent. Latitude lies in [-90, 90], longitude in
[-180, 180]. Stored: only the members given, under their canonical names. Read: all seven
members, null where absent.
"""

from __future__ import annotations

from functools import lru_cache
from typing import ClassVar

import orjson
import pycountry

from schema_registry.definitions import AttributeDefinition, AttributeTypeName
from schema_registry.types.base import (
    JSON,
    AttributeType,
    Facet,
    FacetScalar,
    FacetValue,
    InvalidValue,
    StorageClass,
)
from schema_registry.types.cell_text import parse_number
from schema_registry.types.operands import SUBSTRING_OPERATORS, check_operator, scalar_operand
from schema_registry.types.storable import (
    MAX_SHORT_TEXT_LENGTH,
    member_path,
    optional_member_number,
    optional_member_string,
    require_object,
    to_decimal,
)

_TEXT_KEYS = ("line_1", "city", "region", "postcode", "country_code")
_COORDINATES = {"latitude": 90.0, "longitude": 180.0}
_KEYS = (*_TEXT_KEYS, *_COORDINATES)
_ALIASES = {"street": "line_1", "postal_code": "postcode", "country": "country_code"}
_ACCEPTED = frozenset(_KEYS) | frozenset(_ALIASES)


@lru_cache(maxsize=1024)
def _resolve_country(text: str) -> str | None:
    try:
        country = pycountry.countries.lookup(text)
    except LookupError:
        return None
    code: str = country.alpha_2
    return code


def normalize_country_code(raw: JSON, key: str = "country_code") -> str:
    """ISO 3166-1 alpha-2 for an alpha-2 or alpha-3 code or a country name."""
    text = optional_member_string({key: raw}, key, MAX_SHORT_TEXT_LENGTH)
    code = _resolve_country(text) if text else None
    if code is None:
        raise InvalidValue("expected an ISO 3166 country code such as US", member_path(key))
    return code


def _canonical_members(value: dict[str, JSON]) -> tuple[dict[str, JSON], dict[str, str]]:
    """The members under canonical names, and the key each was written under (for paths)."""
    members = {key: raw for key, raw in value.items() if key in _KEYS}
    written_as: dict[str, str] = {}
    for alias, canonical in _ALIASES.items():
        if value.get(alias) is None:
            continue
        if members.get(canonical) is not None:
            raise InvalidValue(f"{alias} and {canonical} name the same field; give one", member_path(alias))
        members[canonical] = value[alias]
        written_as[canonical] = alias
    return members, written_as


def _member(members: dict[str, JSON], key: str) -> JSON:
    if key in _COORDINATES:
        limit = _COORDINATES[key]
        return optional_member_number(members, key, -limit, limit)
    text = optional_member_string(members, key, MAX_SHORT_TEXT_LENGTH)
    if text is not None and key == "country_code":
        return normalize_country_code(text)
    return text


def _display(stored: dict[str, JSON]) -> str:
    parts = [str(stored[key]) for key in _TEXT_KEYS if key in stored]
    if parts:
        return ", ".join(parts)
    return ", ".join(str(stored[key]) for key in _COORDINATES if key in stored)


class LocationType(AttributeType):
    """A place. Main facet: a display string such as ``Boston, MA, US``."""

    name: ClassVar[AttributeTypeName] = AttributeTypeName.LOCATION
    unique_capable: ClassVar[bool] = False
    members: ClassVar[tuple[str, ...]] = _KEYS
    facets: ClassVar[tuple[Facet, ...]] = (
        Facet("", StorageClass.TEXT),
        *(Facet(key, StorageClass.TEXT) for key in _TEXT_KEYS),
        *(Facet(key, StorageClass.NUMERIC) for key in _COORDINATES),
    )
    composite: ClassVar[bool] = True

    def value_schema(self, attribute: AttributeDefinition) -> dict[str, JSON]:
        text = {"type": ["string", "null"], "maxLength": MAX_SHORT_TEXT_LENGTH}
        properties: dict[str, JSON] = {key: text for key in (*_TEXT_KEYS, *_ALIASES)}
        for key, limit in _COORDINATES.items():
            properties[key] = {"type": ["number", "null"], "minimum": -limit, "maximum": limit}
        return {
            "type": "object",
            "properties": properties,
            "additionalProperties": False,
            "minProperties": 1,
        }

    def normalize(self, raw: JSON, attribute: AttributeDefinition) -> JSON:
        members, written_as = _canonical_members(require_object(raw, _ACCEPTED, "a location object"))
        stored: dict[str, JSON] = {}
        for key in _KEYS:
            try:
                member = _member(members, key)
            except InvalidValue as err:
                raise InvalidValue(err.message, member_path(written_as.get(key, key))) from err
            if member is not None:
                stored[key] = member
        if not stored:
            raise InvalidValue("a location needs at least one of " + ", ".join(_KEYS))
        return stored

    def read(self, stored: JSON, attribute: AttributeDefinition) -> JSON:
        return {key: stored.get(key) for key in _KEYS}

    def facet_values(self, stored: JSON, attribute: AttributeDefinition) -> list[FacetValue]:
        values = [FacetValue("", StorageClass.TEXT, _display(stored))]
        values += [FacetValue(key, StorageClass.TEXT, stored[key]) for key in _TEXT_KEYS if key in stored]
        values += [
            FacetValue(key, StorageClass.NUMERIC, to_decimal(stored[key])) for key in _COORDINATES if key in stored
        ]
        return values

    def search_text(self, stored: JSON, attribute: AttributeDefinition) -> str:
        return " ".join(str(stored[key]) for key in _TEXT_KEYS if key in stored)

    def unique_key(self, stored: JSON, attribute: AttributeDefinition) -> str:
        # The whole value: two places sharing a display string may still differ in
        # coordinates.
        return orjson.dumps(stored, option=orjson.OPT_SORT_KEYS).decode()

    def filter_operand(
        self, operator: str, raw: JSON, facet: Facet, attribute: AttributeDefinition
    ) -> FacetScalar:
        check_operator(self, operator, facet)
        if facet.name == "country_code" and operator not in SUBSTRING_OPERATORS:
            return normalize_country_code(raw)
        return scalar_operand(self, operator, raw, facet)

    def coerce_cell(self, text: str) -> JSON:
        return {"line_1": text.strip()}

    def coerce_member(self, member: str, text: str) -> JSON:
        return parse_number(text) if member in _COORDINATES else text.strip()
