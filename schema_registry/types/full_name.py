"""full_name: a person's name, stored with ``first_name``, ``last_name`` and ``full_name``.

Write forms: a string, split by nameparser (``"Dr. Mary Jane Watson Jr."`` gives first
``Mary``, last ``Watson``; titles, middle names and suffixes stay only in ``full_name``), or
an object with any of ``first_name``, ``last_name``, ``full_name``. An object's parts are
taken as given; a missing ``full_name`` is ``"first last"``; an object with only
``full_name`` is split like a string. Runs of whitespace collapse to one space. Missing parts
are stored as ``""``. Read form: the ``full_name`` string.
"""

from __future__ import annotations

from functools import lru_cache
from typing import ClassVar

from nameparser import HumanName

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
from schema_registry.types.operands import SUBSTRING_OPERATORS, scalar_operand
from schema_registry.types.storable import (
    MAX_SHORT_TEXT_LENGTH,
    optional_member_string,
    require_object,
    storable_string,
)

_MAX_FULL_NAME_LENGTH = 2 * MAX_SHORT_TEXT_LENGTH
_PARTS = ("first_name", "last_name")
_KEYS = frozenset({*_PARTS, "full_name"})


def _collapse(text: str) -> str:
    return " ".join(text.split())


@lru_cache(maxsize=4096)
def _split(full_name: str) -> tuple[str, str]:
    # nameparser costs ~60 us a name; names repeat (imports, upserts).
    parsed = HumanName(full_name)
    return _collapse(parsed.first), _collapse(parsed.last)


def _stored(first: str, last: str, full: str) -> dict[str, JSON]:
    if not full:
        raise InvalidValue("a name needs at least one of first_name, last_name, full_name")
    return {"first_name": first, "last_name": last, "full_name": full}


def normalize_full_name(raw: JSON) -> dict[str, JSON]:
    """The stored form of a name (see the module's rules)."""
    if not isinstance(raw, dict):
        full = _collapse(storable_string(raw, max_length=_MAX_FULL_NAME_LENGTH, what="name"))
        return _stored(*_split(full), full)
    value = require_object(raw, _KEYS, "a name")
    first = _collapse(optional_member_string(value, "first_name", MAX_SHORT_TEXT_LENGTH) or "")
    last = _collapse(optional_member_string(value, "last_name", MAX_SHORT_TEXT_LENGTH) or "")
    full = _collapse(optional_member_string(value, "full_name", _MAX_FULL_NAME_LENGTH) or "")
    if not first and not last:
        return _stored(*_split(full), full) if full else _stored("", "", "")
    return _stored(first, last, full or f"{first} {last}".strip())


class FullNameType(AttributeType):
    """A person's name. Facets: full_name (main, sorts), first_name, last_name."""

    name: ClassVar[AttributeTypeName] = AttributeTypeName.FULL_NAME
    unique_capable: ClassVar[bool] = True
    members: ClassVar[tuple[str, ...]] = _PARTS
    facets: ClassVar[tuple[Facet, ...]] = (
        Facet("", StorageClass.TEXT),
        Facet("first_name", StorageClass.TEXT),
        Facet("last_name", StorageClass.TEXT),
    )
    composite: ClassVar[bool] = True

    def value_schema(self, attribute: AttributeDefinition) -> dict[str, JSON]:
        part = {"type": ["string", "null"], "maxLength": MAX_SHORT_TEXT_LENGTH}
        return {
            "type": ["string", "object"],
            "minLength": 1,
            "maxLength": _MAX_FULL_NAME_LENGTH,
            "properties": {
                "first_name": part,
                "last_name": part,
                "full_name": {"type": ["string", "null"], "maxLength": _MAX_FULL_NAME_LENGTH},
            },
            "additionalProperties": False,
            "minProperties": 1,
        }

    def normalize(self, raw: JSON, attribute: AttributeDefinition) -> JSON:
        return normalize_full_name(raw)

    def read(self, stored: JSON, attribute: AttributeDefinition) -> JSON:
        return stored["full_name"]

    def facet_values(self, stored: JSON, attribute: AttributeDefinition) -> list[FacetValue]:
        values = [FacetValue("", StorageClass.TEXT, stored["full_name"])]
        values += [FacetValue(part, StorageClass.TEXT, stored[part]) for part in _PARTS if stored[part]]
        return values

    def search_text(self, stored: JSON, attribute: AttributeDefinition) -> str:
        return str(stored["full_name"])

    def filter_operand(
        self, operator: str, raw: JSON, facet: Facet, attribute: AttributeDefinition
    ) -> FacetScalar:
        # Stored names have their whitespace collapsed, so equality operands get the same
        # treatment; they are not parsed (a last_name operand is a last name already).
        operand = scalar_operand(self, operator, raw, facet)
        if operator in SUBSTRING_OPERATORS or not isinstance(operand, str):
            return operand
        return _collapse(operand)
