"""date: ``YYYY-MM-DD`` or an RFC 3339 date-time with a time zone, kept at the precision given.

A date stays a date (``2026-01-02``); a date-time is stored converted to UTC
(``2026-01-02T03:04:05Z``, microseconds when there are any). Both sort and filter as an aware
UTC timestamp, a date as its midnight UTC. Naive date-times are refused: a timestamp without
a zone means different instants to different readers.
"""

from __future__ import annotations

import re
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
from schema_registry.types.timestamps import format_temporal, parse_temporal, to_timestamp

_LOOKS_LIKE_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2})?(\.\d+)?(Z|[+-]\d{2}:?\d{2})?)?$")
"""What a date column's cells look like; looser than ``normalize`` (a naive date-time matches, and
is then refused cell by cell)."""


class DateType(AttributeType):
    """A calendar date or an instant."""

    name: ClassVar[AttributeTypeName] = AttributeTypeName.DATE
    unique_capable: ClassVar[bool] = True
    facets: ClassVar[tuple[Facet, ...]] = (Facet("", StorageClass.TIMESTAMP),)

    def value_schema(self, attribute: AttributeDefinition) -> dict[str, JSON]:
        return {
            "type": "string",
            "maxLength": 64,
            "description": "YYYY-MM-DD, or an RFC 3339 date-time with a time zone",
            "examples": ["2026-01-02", "2026-01-02T03:04:05Z"],
        }

    def normalize(self, raw: JSON, attribute: AttributeDefinition) -> JSON:
        return format_temporal(parse_temporal(raw))

    def read(self, stored: JSON, attribute: AttributeDefinition) -> JSON:
        return stored

    def facet_values(self, stored: JSON, attribute: AttributeDefinition) -> list[FacetValue]:
        return [FacetValue("", StorageClass.TIMESTAMP, to_timestamp(parse_temporal(stored)))]

    def search_text(self, stored: JSON, attribute: AttributeDefinition) -> str:
        return str(stored)

    def unique_key(self, stored: JSON, attribute: AttributeDefinition) -> str:
        # The stored string, not the instant: the date 2026-01-02 and the instant
        # 2026-01-02T00:00:00Z are different values even though they sort together.
        return str(stored)

    def filter_operand(
        self, operator: str, raw: JSON, facet: Facet, attribute: AttributeDefinition
    ) -> FacetScalar:
        return scalar_operand(self, operator, raw, facet)

    def looks_like(self, text: str) -> bool:
        return bool(_LOOKS_LIKE_DATE.match(text))
