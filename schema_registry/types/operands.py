"""Filter operands for facets that need no type-specific treatment.

Types normalise operands of their main facet the way they normalise values (an email
lowercased, a select name resolved to its id); every other facet (a location's city, a
currency's amount) takes its operand here, by storage class.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from schema_registry.types.base import (
    JSON,
    AttributeType,
    Facet,
    FacetScalar,
    InvalidValue,
    StorageClass,
)
from schema_registry.types.storable import (
    MAX_TEXT_LENGTH,
    describe,
    storable_number,
    storable_string,
    to_decimal,
)
from schema_registry.types.timestamps import parse_temporal, to_timestamp

SUBSTRING_OPERATORS = frozenset({"$contains", "$starts_with", "$ends_with"})


def check_operator(attribute_type: AttributeType, operator: str, facet: Facet) -> None:
    """Refuse an operator the facet does not support (the engine checks first; this keeps a
    type from ever building an operand for a comparison it cannot make)."""
    if operator not in attribute_type.operators(facet):
        raise InvalidValue(f"operator {operator} is not supported here")


def text_operand(operator: str, raw: JSON) -> str:
    """A text operand: any storable string, non-blank for the substring operators."""
    text = storable_string(raw, max_length=MAX_TEXT_LENGTH, what="operand")
    if operator in SUBSTRING_OPERATORS and not text.strip():
        raise InvalidValue(f"{operator} needs a non-empty string")
    return text


def numeric_operand(operator: str, raw: JSON) -> Decimal:
    """A numeric operand: a storable JSON number, as ``Decimal``."""
    return to_decimal(storable_number(raw))


def timestamp_operand(operator: str, raw: JSON) -> FacetScalar:
    """A date or RFC 3339 date-time operand, as an aware UTC ``datetime``."""
    return to_timestamp(parse_temporal(raw))


def boolean_operand(operator: str, raw: JSON) -> bool:
    """A boolean operand: JSON ``true`` or ``false`` only."""
    if not isinstance(raw, bool):
        raise InvalidValue(f"expected true or false, got {describe(raw)}")
    return raw


_BY_STORAGE: dict[StorageClass, Callable[[str, JSON], FacetScalar]] = {
    StorageClass.TEXT: text_operand,
    StorageClass.NUMERIC: numeric_operand,
    StorageClass.TIMESTAMP: timestamp_operand,
    StorageClass.BOOLEAN: boolean_operand,
}


def scalar_operand(attribute_type: AttributeType, operator: str, raw: JSON, facet: Facet) -> FacetScalar:
    """The operand for ``facet`` judged by its storage class alone."""
    check_operator(attribute_type, operator, facet)
    return _BY_STORAGE[facet.storage](operator, raw)
