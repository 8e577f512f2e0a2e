"""select: one of the attribute's options, written by id or by name (case-insensitive),
stored as the option id and read as the option name.

The id wins when a string is both an option's id and another option's name: ids are what
stored values and API responses carry, so they are the unambiguous spelling.
"""

from __future__ import annotations

from typing import ClassVar

from schema_registry.definitions import AttributeDefinition, AttributeTypeName, SelectOption
from schema_registry.types.base import (
    EQUALITY_OPERATORS,
    JSON,
    AttributeType,
    Facet,
    FacetScalar,
    FacetValue,
    InvalidValue,
    StorageClass,
    TypeOption,
)
from schema_registry.types.operands import check_operator
from schema_registry.types.storable import MAX_SHORT_TEXT_LENGTH, describe

# Listing a few option names in the served schema helps a client; all of them could be
# thousands of names.
_EXAMPLE_OPTIONS = 20


def resolve_option(raw: JSON, attribute: AttributeDefinition) -> SelectOption:
    """The option a write names, by exact id or by case-insensitive name."""
    if not isinstance(raw, str):
        raise InvalidValue(f"expected an option name or id, got {describe(raw)}")
    text = raw.strip()
    # The length check keeps casefold() away from megabyte strings; no option is longer.
    option = None
    if 0 < len(text) <= MAX_SHORT_TEXT_LENGTH:
        option = attribute.option_by_id(text) or attribute.option_by_name(text)
    if option is None:
        raise InvalidValue("unknown option")
    return option


class SelectType(AttributeType):
    """A choice among named options; operators ``$eq``, ``$ne``, ``$in``, ``$nin``, ``$exists``."""

    name: ClassVar[AttributeTypeName] = AttributeTypeName.SELECT
    unique_capable: ClassVar[bool] = False
    options: ClassVar[frozenset[TypeOption]] = frozenset({TypeOption.SELECT_OPTIONS})
    facets: ClassVar[tuple[Facet, ...]] = (Facet("", StorageClass.TEXT),)

    def value_schema(self, attribute: AttributeDefinition) -> dict[str, JSON]:
        schema: dict[str, JSON] = {
            "type": "string",
            "minLength": 1,
            "maxLength": MAX_SHORT_TEXT_LENGTH,
            "description": "an option name (any case) or option id",
        }
        if attribute.select_options:
            schema["examples"] = [option.name for option in attribute.select_options[:_EXAMPLE_OPTIONS]]
        return schema

    def normalize(self, raw: JSON, attribute: AttributeDefinition) -> JSON:
        return resolve_option(raw, attribute).id

    def read(self, stored: JSON, attribute: AttributeDefinition) -> JSON:
        # An option deleted after the value was written reads as its bare id rather than
        # failing the whole record.
        option = attribute.option_by_id(stored)
        return option.name if option is not None else stored

    def facet_values(self, stored: JSON, attribute: AttributeDefinition) -> list[FacetValue]:
        return [FacetValue("", StorageClass.TEXT, stored)]

    def search_text(self, stored: JSON, attribute: AttributeDefinition) -> str:
        return str(self.read(stored, attribute))

    def operators(self, facet: Facet) -> frozenset[str]:
        return EQUALITY_OPERATORS

    def filter_operand(
        self, operator: str, raw: JSON, facet: Facet, attribute: AttributeDefinition
    ) -> FacetScalar:
        check_operator(self, operator, facet)
        return resolve_option(raw, attribute).id
