"""boolean: JSON ``true`` or ``false``, nothing else (no "yes", no 0/1)."""

from __future__ import annotations

from typing import ClassVar

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
from schema_registry.types.operands import scalar_operand
from schema_registry.types.storable import describe

TRUE_WORDS = frozenset({"true", "yes", "y", "1", "t"})
"""Spreadsheet cells read as ``true`` (compared lowercase)."""
FALSE_WORDS = frozenset({"false", "no", "n", "0", "f"})
"""Spreadsheet cells read as ``false`` (compared lowercase)."""


class BooleanType(AttributeType):
    """A flag; operators ``$eq``, ``$ne`` and ``$exists``."""

    name: ClassVar[AttributeTypeName] = AttributeTypeName.BOOLEAN
    unique_capable: ClassVar[bool] = False
    facets: ClassVar[tuple[Facet, ...]] = (Facet("", StorageClass.BOOLEAN),)

    def value_schema(self, attribute: AttributeDefinition) -> dict[str, JSON]:
        return {"type": "boolean"}

    def normalize(self, raw: JSON, attribute: AttributeDefinition) -> JSON:
        if not isinstance(raw, bool):
            raise InvalidValue(f"expected true or false, got {describe(raw)}")
        return raw

    def read(self, stored: JSON, attribute: AttributeDefinition) -> JSON:
        return stored

    def facet_values(self, stored: JSON, attribute: AttributeDefinition) -> list[FacetValue]:
        return [FacetValue("", StorageClass.BOOLEAN, bool(stored))]

    def search_text(self, stored: JSON, attribute: AttributeDefinition) -> str:
        # A flag matches nothing in full-text search: "true" would only add noise.
        return ""

    def filter_operand(
        self, operator: str, raw: JSON, facet: Facet, attribute: AttributeDefinition
    ) -> FacetScalar:
        return scalar_operand(self, operator, raw, facet)

    def coerce_cell(self, text: str) -> JSON:
        folded = text.strip().lower()
        return True if folded in TRUE_WORDS else False if folded in FALSE_WORDS else text

    def looks_like(self, text: str) -> bool:
        # A column of 0s and 1s is offered as a number.
        return text.lower() in TRUE_WORDS | FALSE_WORDS and not text.isdigit()
