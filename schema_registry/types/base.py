"""The contract every attribute type fulfils.

An attribute type turns a value as a client writes it (the *write form*) into the value Tessera
stores (the *stored form*, plain JSON), and back into what a client reads (the *read form*). It
also says how the stored value is projected into typed, indexed *facets* (the rows the record
engine writes into its EAV value table), how it sorts, how it is searched and how it is compared
for uniqueness. It declares which attribute options it takes (``is_unique``, the type-specific
``TypeOption``s) and how a spreadsheet cell's text becomes its write form (imports). Everything
type-specific lives behind this interface so the record engine, the query compiler, search, the
registry's option checks and imports stay generic (one registry keyed by type, no if/elif chains).
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, ClassVar

from schema_registry.definitions import AttributeDefinition, AttributeTypeName

JSON = Any
"""A JSON-compatible Python value (dict, list, str, int, float, bool, None)."""


class StorageClass(StrEnum):
    """Which typed column of the EAV value table holds a facet."""

    TEXT = "text"
    NUMERIC = "numeric"
    TIMESTAMP = "timestamp"
    BOOLEAN = "boolean"


FacetScalar = str | Decimal | datetime | bool


@dataclass(frozen=True, slots=True)
class Facet:
    """A named, typed projection of a stored value. The facet named ``""`` is the main one:
    it is what sorting uses and what a filter on the bare attribute slug compares against.
    Sub-field filters (``name.last_name``, ``price.currency_code``) address the other facets."""

    name: str
    storage: StorageClass


@dataclass(frozen=True, slots=True)
class FacetValue:
    facet: str
    storage: StorageClass
    value: FacetScalar


class InvalidValue(ValueError):
    """A value (or filter operand) the type refuses. ``path`` is relative to the value itself,
    e.g. ``""`` for the value, ``".amount"`` for a member of a composite value."""

    def __init__(self, message: str, path: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.path = path


TEXT_OPERATORS = frozenset(
    {"$eq", "$ne", "$in", "$nin", "$contains", "$starts_with", "$ends_with", "$exists"}
)
ORDERED_OPERATORS = frozenset({"$eq", "$ne", "$in", "$nin", "$lt", "$lte", "$gt", "$gte", "$exists"})
EQUALITY_OPERATORS = frozenset({"$eq", "$ne", "$in", "$nin", "$exists"})
BOOLEAN_OPERATORS = frozenset({"$eq", "$ne", "$exists"})

DEFAULT_OPERATORS: dict[StorageClass, frozenset[str]] = {
    StorageClass.TEXT: TEXT_OPERATORS,
    StorageClass.NUMERIC: ORDERED_OPERATORS,
    StorageClass.TIMESTAMP: ORDERED_OPERATORS,
    StorageClass.BOOLEAN: BOOLEAN_OPERATORS,
}


class TypeOption(StrEnum):
    """Attribute options that only some types take (``AttributeType.options``)."""

    SELECT_OPTIONS = "select_options"
    IS_WHOLE_NUMBER = "is_whole_number"
    USE_RAW_FORMAT = "use_raw_format"


CELL_SEPARATORS = re.compile(r"[;\n]")
"""What separates the values of a multi-value spreadsheet cell."""
CELL_SEPARATORS_WITH_COMMA = re.compile(r"[;,\n]")
"""The same, and commas, for types whose values never hold one (addresses, phone numbers, domains)."""


class AttributeType(ABC):
    """One attribute type. Implementations are stateless singletons registered in
    ``schema_registry.types.REGISTRY``."""

    name: ClassVar[AttributeTypeName]
    facets: ClassVar[tuple[Facet, ...]]
    """All facets of the type; ``facets[0]`` is the main facet and is named ``""``."""
    composite: ClassVar[bool] = False
    """True when the stored form is a JSON object (currency, location, full_name, social_profile)."""
    unique_capable: ClassVar[bool]
    """Whether an attribute of this type may be ``is_unique`` (every type says so itself)."""
    options: ClassVar[frozenset[TypeOption]] = frozenset()
    """The type-specific attribute options this type takes; setting another one is refused."""
    members: ClassVar[tuple[str, ...]] = ()
    """Members of the write form that an import column may fill on its own (``price.amount``)."""
    cell_separators: ClassVar[re.Pattern[str]] = CELL_SEPARATORS
    """What separates the values of a multi-value spreadsheet cell of this type."""

    @abstractmethod
    def value_schema(self, attribute: AttributeDefinition) -> dict[str, JSON]:
        """JSON Schema (2020-12) fragment for ONE write-form value (never an array, never null:
        the compiler adds multi-value and null handling)."""

    @abstractmethod
    def normalize(self, raw: JSON, attribute: AttributeDefinition) -> JSON:
        """Turn one write-form value into its stored form. Raise ``InvalidValue`` when refused."""

    @abstractmethod
    def read(self, stored: JSON, attribute: AttributeDefinition) -> JSON:
        """The read form of one stored value (the simple form of the contract)."""

    @abstractmethod
    def facet_values(self, stored: JSON, attribute: AttributeDefinition) -> list[FacetValue]:
        """Indexed projections of one stored value; the main facet first. Facets with no value
        (a location without a city) are omitted."""

    @abstractmethod
    def search_text(self, stored: JSON, attribute: AttributeDefinition) -> str:
        """Text under which full-text search finds this value."""

    def unique_key(self, stored: JSON, attribute: AttributeDefinition) -> str:
        """The string two values share exactly when they count as the same for ``is_unique``
        and upsert matching."""
        main = self.facet_values(stored, attribute)[0].value
        if isinstance(main, datetime):
            return main.isoformat()
        if isinstance(main, Decimal):
            return format(main.normalize(), "f")
        return str(main)

    def facet(self, name: str) -> Facet | None:
        for facet in self.facets:
            if facet.name == name:
                return facet
        return None

    def operators(self, facet: Facet) -> frozenset[str]:
        """Filter operators allowed on a facet of this type."""
        return DEFAULT_OPERATORS[facet.storage]

    @abstractmethod
    def filter_operand(
        self, operator: str, raw: JSON, facet: Facet, attribute: AttributeDefinition
    ) -> FacetScalar:
        """Turn one filter operand (one element for $in/$nin) into a value comparable with the
        facet column, normalised the way stored values are (an email operand lowercased, a
        select option name resolved to its id...). For $contains/$starts_with/$ends_with the
        result is a plain string matched case-insensitively. Raise ``InvalidValue`` when the
        operand cannot be compared with the facet."""

    def coerce_cell(self, text: str) -> JSON:
        """The write form of one value in a spreadsheet cell (never blank; one part of a
        multi-value cell). Text the type cannot read is handed on unchanged, so the attribute's
        validation refuses it with the row and column. Surrounding whitespace goes."""
        return text.strip()

    def coerce_member(self, member: str, text: str) -> JSON:
        """The write form of one of ``members`` from a spreadsheet cell (never blank)."""
        return text.strip()

    def looks_like(self, text: str) -> bool:
        """Whether a cell's text (stripped, never empty) looks like a value of this type, for
        guessing what an import column holds. Types nobody guesses say no."""
        return False
