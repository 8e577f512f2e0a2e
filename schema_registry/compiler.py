"""Compile an object definition into the JSON Schema (2020-12) of a record's ``attributes``.

The document is what ``GET /v1/objects/{slug}/schema`` serves and what the cached validators
in ``schema_registry.validation`` run. It checks shapes and bounds; the attribute types'
normalizers then check meaning (a valid email, a known option, a real calendar date).
"""

from __future__ import annotations

from typing import Literal

from schema_registry.definitions import AttributeDefinition, ObjectDefinition
from schema_registry.types import attribute_type
from schema_registry.types.base import JSON

Mode = Literal["create", "update"]
"""``create``: required attributes must be present. ``update`` (PATCH, and the update half
of an upsert): any subset of attributes may be given."""

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

MAX_VALUES_PER_ATTRIBUTE = 100
"""Most values one multi-value attribute takes in one write: enough for any real person's
addresses, small enough that one body cannot fan out into thousands of value rows."""


def compile_schema(obj: ObjectDefinition, mode: Mode) -> dict[str, JSON]:
    """The JSON Schema a record's ``attributes`` object must satisfy.

    - An object; unknown slugs are refused (``additionalProperties: false``).
    - One property per attribute, in ``position`` order: the type's value schema; a
      multi-value attribute also takes an array of up to ``MAX_VALUES_PER_ATTRIBUTE`` values;
      a single-value attribute never takes an array.
    - ``null`` (and for multi-value attributes ``[]``) clears a value, except on required
      attributes, in either mode: a required attribute always has a value.
    - In ``create`` mode required attributes are listed in ``required``.

    Pure: the same definition and mode always give an equal document. It carries no ``$id``;
    the API serves it under the object's URL.
    """
    attributes = sorted(obj.attributes, key=lambda attribute: (attribute.position, attribute.id))
    schema: dict[str, JSON] = {
        "$schema": SCHEMA_DIALECT,
        "title": f"{obj.name or obj.slug} attributes ({mode})",
        "description": f"The attributes object of a {obj.slug} record, as accepted on {mode}.",
        "type": "object",
        "properties": {attribute.slug: compile_attribute_schema(attribute) for attribute in attributes},
        "additionalProperties": False,
    }
    if mode == "create":
        required = [attribute.slug for attribute in attributes if attribute.is_required]
        if required:
            schema["required"] = required
    return schema


def compile_attribute_schema(attribute: AttributeDefinition) -> dict[str, JSON]:
    """The schema of one attribute's entry in ``attributes`` (value, array of values, null)."""
    value = attribute_type(attribute.type).value_schema(attribute)
    forms: list[dict[str, JSON]] = [value]
    if attribute.is_multi_value:
        array: dict[str, JSON] = {"type": "array", "items": value, "maxItems": MAX_VALUES_PER_ATTRIBUTE}
        if attribute.is_required:
            array["minItems"] = 1
        forms.append(array)
    if not attribute.is_required:
        forms.append({"type": "null"})
    schema: dict[str, JSON] = dict(value) if len(forms) == 1 else {"anyOf": forms}
    schema["title"] = attribute.name or attribute.slug
    if attribute.description:
        schema["description"] = attribute.description
    return schema
