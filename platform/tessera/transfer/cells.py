"""Spreadsheet cells to attribute values, and guessing what a column holds (pure).

A CSV cell is text; attribute types want JSON. A column maps to an attribute (``amount``) or to
one member of a composite attribute (``price.currency_code``, ``office.city``,
``name.last_name``). Multi-value attributes split a cell on ``;`` (and, for addresses, phone
numbers and domains, on ``,`` too). What cannot be coerced is passed on unchanged, so the
attribute's own validation reports it with the row and column. How each type reads a cell is
the type's own (``AttributeType.coerce_cell``, ``coerce_member``, ``looks_like``).
"""

from __future__ import annotations

import re

from schema_registry.definitions import AttributeDefinition
from schema_registry.types import attribute_type
from schema_registry.types import infer_type as infer_attribute_type
from schema_registry.types.base import JSON


def coerce_cell(attribute: AttributeDefinition, text: str) -> JSON:
    """The write-form value of a whole-attribute cell (None for an empty cell)."""
    if not text.strip():
        return None
    kind = attribute_type(attribute.type)
    if attribute.is_multi_value:
        parts = [p for p in kind.cell_separators.split(text) if p.strip()]
        return [kind.coerce_cell(p) for p in parts]
    return kind.coerce_cell(text)


def coerce_member(attribute: AttributeDefinition, member: str, text: str) -> JSON:
    """The value of one member of a composite attribute (None for an empty cell)."""
    if not text.strip():
        return None
    return attribute_type(attribute.type).coerce_member(member, text)


def infer_type(samples: list[str]) -> str:
    """The name of the attribute type most cells of a column look like (``text`` when unsure)."""
    return infer_attribute_type(samples).value


_PLAIN_NUMBER = re.compile(r"^[+-][\d\s().]*$")


def escape_formula(text: str) -> str:
    """Neutralise spreadsheet formula injection (OWASP): a cell starting with = + - @ or a tab or
    carriage return is prefixed with a quote. A signed plain number (``+14155552671``, ``-5``)
    cannot run as a formula and is left as it is."""
    if text and text[0] in "=+-@\t\r" and not _PLAIN_NUMBER.match(text):
        return "'" + text
    return text
