"""number: a JSON number within the range every store and JSON client holds exactly.

Bounds (see ``storable_number``): integers up to 2**53 - 1 in magnitude; numbers with a
fraction below 1e15. Integral floats (``3.0``) are stored as integers, so ``3`` and ``3.0``
are the same value; with ``is_whole_number`` a fraction is refused.
"""

from __future__ import annotations

from typing import ClassVar

from schema_registry.definitions import AttributeDefinition, AttributeTypeName
from schema_registry.types.base import (
    JSON,
    AttributeType,
    Facet,
    FacetScalar,
    FacetValue,
    StorageClass,
    TypeOption,
)
from schema_registry.types.cell_text import is_number, parse_number
from schema_registry.types.operands import scalar_operand
from schema_registry.types.storable import MAX_SAFE_INTEGER, storable_number, to_decimal


def number_schema(*, whole: bool) -> dict[str, JSON]:
    """JSON Schema of a storable number (the fraction bound is left to the normalizer)."""
    return {
        "type": "integer" if whole else "number",
        "minimum": -MAX_SAFE_INTEGER,
        "maximum": MAX_SAFE_INTEGER,
    }


class NumberType(AttributeType):
    """A number; sorted and compared as ``Decimal``."""

    name: ClassVar[AttributeTypeName] = AttributeTypeName.NUMBER
    unique_capable: ClassVar[bool] = True
    options: ClassVar[frozenset[TypeOption]] = frozenset({TypeOption.IS_WHOLE_NUMBER, TypeOption.USE_RAW_FORMAT})
    facets: ClassVar[tuple[Facet, ...]] = (Facet("", StorageClass.NUMERIC),)

    def value_schema(self, attribute: AttributeDefinition) -> dict[str, JSON]:
        return number_schema(whole=attribute.is_whole_number)

    def normalize(self, raw: JSON, attribute: AttributeDefinition) -> JSON:
        return storable_number(raw, whole=attribute.is_whole_number)

    def read(self, stored: JSON, attribute: AttributeDefinition) -> JSON:
        return stored

    def facet_values(self, stored: JSON, attribute: AttributeDefinition) -> list[FacetValue]:
        return [FacetValue("", StorageClass.NUMERIC, to_decimal(stored))]

    def search_text(self, stored: JSON, attribute: AttributeDefinition) -> str:
        return str(stored)

    def filter_operand(
        self, operator: str, raw: JSON, facet: Facet, attribute: AttributeDefinition
    ) -> FacetScalar:
        # Operands are not held to is_whole_number: "price > 2.5" is a fair question to ask
        # of whole numbers.
        return scalar_operand(self, operator, raw, facet)

    def coerce_cell(self, text: str) -> JSON:
        return parse_number(text)

    def looks_like(self, text: str) -> bool:
        return is_number(text)
