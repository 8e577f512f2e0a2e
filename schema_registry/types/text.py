"""text: a string of at most 10,000 characters, stored and read as given."""

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
)
from schema_registry.types.operands import scalar_operand
from schema_registry.types.storable import MAX_TEXT_LENGTH, storable_string


class TextType(AttributeType):
    """Free text. Whitespace is kept as written; the empty string is a value like any other."""

    name: ClassVar[AttributeTypeName] = AttributeTypeName.TEXT
    unique_capable: ClassVar[bool] = True
    facets: ClassVar[tuple[Facet, ...]] = (Facet("", StorageClass.TEXT),)

    def value_schema(self, attribute: AttributeDefinition) -> dict[str, JSON]:
        return {"type": "string", "maxLength": MAX_TEXT_LENGTH}

    def normalize(self, raw: JSON, attribute: AttributeDefinition) -> JSON:
        return storable_string(raw, max_length=MAX_TEXT_LENGTH)

    def read(self, stored: JSON, attribute: AttributeDefinition) -> JSON:
        return stored

    def facet_values(self, stored: JSON, attribute: AttributeDefinition) -> list[FacetValue]:
        return [FacetValue("", StorageClass.TEXT, stored)]

    def search_text(self, stored: JSON, attribute: AttributeDefinition) -> str:
        return str(stored)

    def filter_operand(
        self, operator: str, raw: JSON, facet: Facet, attribute: AttributeDefinition
    ) -> FacetScalar:
        return scalar_operand(self, operator, raw, facet)
