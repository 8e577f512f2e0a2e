"""Reading the text of a spreadsheet cell: what ``AttributeType.coerce_cell`` shares.

Cells come from tenants' files: every pattern here and in the types' ``coerce_cell`` and
``looks_like`` runs in time linear in the cell. Possessive quantifiers (``*+``, ``++``) never
give back what they took, so no two neighbouring repeats can trade characters: ``\\d+\\.?\\d*``
took 11.5 s on three 12,000-digit cells; ``\\d++(?:\\.\\d*+)?``, which accepts the same text, takes
microseconds.
"""

from __future__ import annotations

import re

from schema_registry.types.base import JSON

_INT = re.compile(r"[+-]?\d++")
_FLOAT = re.compile(r"[+-]?(?:\d++(?:\.\d*+)?|\.\d++)(?:[eE][+-]?\d++)?")
_THOUSANDS = re.compile(r"[+-]?\d{1,3}+(?:,\d{3})++(?:\.\d++)?")

MAX_NUMBER_LENGTH = 100
"""A longer cell is not read as a number (no storable number needs as many characters; ``int``
refuses more than 4,300 digits anyway)."""


def parse_number(text: str) -> JSON:
    """An int or float when ``text`` is one (``1,234.5`` accepted), else the text itself."""
    raw = text.strip()
    if len(raw) > MAX_NUMBER_LENGTH:
        return text
    if _THOUSANDS.fullmatch(raw):
        raw = raw.replace(",", "")
    if _INT.fullmatch(raw):
        return int(raw)
    if _FLOAT.fullmatch(raw):
        return float(raw)
    return text


def is_number(text: str) -> bool:
    """Whether ``parse_number`` reads ``text`` as a number."""
    return not isinstance(parse_number(text), str)
