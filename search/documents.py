"""Search documents, built from a record's current state (pure).

Layout (see docs/search.md): one index holds every workspace's records. A document carries
``workspace_id`` and ``object_id`` (filterable: every query is filtered by workspace in the
engine), ``primary_value`` and ``text`` (searchable: each attribute's search text by slug) and
``f`` (filterable facets: ``f.<attribute id>.<facet>``, main facet ``_``) so the record query
language can be translated into Meilisearch filters.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from schema_registry.definitions import ObjectDefinition
from schema_registry.types import attribute_type

MAIN_FACET = "_"
MAX_TEXT = 2000


def facet_key(facet: str) -> str:
    return facet or MAIN_FACET


def filter_scalar(value: Any) -> Any:
    """A facet value as Meilisearch stores it: timestamps as epoch seconds, numbers as floats."""
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, Decimal):
        return float(value)
    return value


def build_document(obj: ObjectDefinition, record_id: int, workspace_id: int,
                   data: Mapping[str, list[Any]]) -> dict[str, Any]:
    """The document of one record (not a list entry)."""
    text: dict[str, Any] = {}
    facets: dict[str, dict[str, list[Any]]] = {}
    primary = obj.primary_attribute
    primary_value = ""
    for attribute in obj.attributes:
        stored_list = data.get(str(attribute.id))
        if not stored_list:
            continue
        kind = attribute_type(attribute.type)
        texts = [kind.search_text(v, attribute)[:MAX_TEXT] for v in stored_list]
        text[attribute.slug] = texts if attribute.is_multi_value else texts[0]
        if primary is not None and attribute.id == primary.id:
            primary_value = texts[0]
        per_facet = facets.setdefault(str(attribute.id), {})
        for stored in stored_list:
            for facet in kind.facet_values(stored, attribute):
                per_facet.setdefault(facet_key(facet.facet), []).append(filter_scalar(facet.value))
    return {
        "id": str(record_id),
        "workspace_id": workspace_id,
        "object_id": obj.id,
        "primary_value": primary_value,
        "text": text,
        "f": facets,
    }


def index_settings() -> dict[str, Any]:
    """Settings of the records index; the same for every workspace and object."""
    return {
        "searchableAttributes": ["primary_value", "text"],
        "filterableAttributes": [
            "workspace_id",
            "object_id",
            {"attributePatterns": ["f.*"],
             "features": {"facetSearch": False, "filter": {"equality": True, "comparison": True}}},
        ],
        "displayedAttributes": ["id", "object_id", "primary_value", "text"],
        "typoTolerance": {"enabled": True},
        "pagination": {"maxTotalHits": 1000},
    }
