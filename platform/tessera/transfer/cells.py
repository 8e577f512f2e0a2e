"""Spreadsheet cells to attribute values, and guessing what a column holds (pure).

A CSV cell is text; attribute types want JSON. A column maps to an attribute (``amount``) or to
one member of a composite attribute (``price.currency_code``, ``office.city``,
``name.last_name``). Multi-value attributes split a cell on ``;`` (and, for addresses, phone
numbers and domains, on ``,`` too). What cannot be coerced is passed on unchanged, so the
attribute's own validation reports it with the row and column.
"""

from __future__ import annotations

import re
from typing import Any

from schema_registry.definitions import AttributeDefinition, AttributeTypeName

# Cells come from tenants' files: every pattern here runs in time linear in the cell. Possessive
# quantifiers (``*+``, ``++``) never give back what they took, so no two neighbouring repeats can
# trade characters: ``\d+\.?\d*`` took 11.5 s on three 12,000-digit cells; ``\d++(?:\.\d*+)?``,
# which accepts the same text, takes microseconds.
_INT = re.compile(r"[+-]?\d++")
_FLOAT = re.compile(r"[+-]?(?:\d++(?:\.\d*+)?|\.\d++)(?:[eE][+-]?\d++)?")
_THOUSANDS = re.compile(r"[+-]?\d{1,3}+(?:,\d{3})++(?:\.\d++)?")
_MONEY = re.compile(r"\s*+(?:([A-Za-z]{3})\s*+)?([$€£¥])?\s*+([+-]?[\d,]*+(?:\.\d++|(?<=\d)))\s*+([A-Za-z]{3})?\s*+")
MAX_NUMBER_LENGTH = 100
"""A longer cell is not read as a number (no storable number needs as many characters; ``int``
refuses more than 4,300 digits anyway)."""
_SYMBOLS = {"$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY"}
_TRUE = {"true", "yes", "y", "1", "t"}
_FALSE = {"false", "no", "n", "0", "f"}
_COMMA_SPLIT = {AttributeTypeName.EMAIL, AttributeTypeName.PHONE, AttributeTypeName.DOMAIN}
MEMBER_OF = {
    AttributeTypeName.CURRENCY: ("amount", "currency_code"),
    AttributeTypeName.LOCATION: ("line_1", "city", "region", "postcode", "country_code", "latitude", "longitude"),
    AttributeTypeName.FULL_NAME: ("first_name", "last_name"),
}
_NUMERIC_MEMBERS = {"amount", "latitude", "longitude"}


def parse_number(text: str) -> Any:
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


def _scalar(attribute: AttributeDefinition, text: str) -> Any:
    kind = attribute.type
    if kind is AttributeTypeName.NUMBER:
        return parse_number(text)
    if kind is AttributeTypeName.BOOLEAN:
        folded = text.strip().lower()
        return True if folded in _TRUE else False if folded in _FALSE else text
    if kind is AttributeTypeName.CURRENCY:
        match = _MONEY.fullmatch(text)
        if match:
            code = match.group(1) or match.group(4) or _SYMBOLS.get(match.group(2) or "", "")
            amount = parse_number(match.group(3))
            if code and not isinstance(amount, str):
                return {"amount": amount, "currency_code": code}
        return text
    if kind is AttributeTypeName.LOCATION:
        return {"line_1": text.strip()}
    return text.strip()


def coerce_cell(attribute: AttributeDefinition, text: str) -> Any:
    """The write-form value of a whole-attribute cell (None for an empty cell)."""
    if not text.strip():
        return None
    if attribute.is_multi_value:
        separators = r"[;,\n]" if attribute.type in _COMMA_SPLIT else r"[;\n]"
        parts = [p for p in re.split(separators, text) if p.strip()]
        return [_scalar(attribute, p) for p in parts]
    return _scalar(attribute, text)


def coerce_member(member: str, text: str) -> Any:
    """The value of one member of a composite attribute (None for an empty cell)."""
    if not text.strip():
        return None
    return parse_number(text) if member in _NUMERIC_MEMBERS else text.strip()


_EMAIL = re.compile(r"[^@\s]++@([^@\s]++)")  # and a dot inside the domain (see _is_email)
_PHONE = re.compile(r"^\+?[\d\s().-]{7,20}$")
_URL = re.compile(r"^https?://", re.IGNORECASE)
_DOMAIN = re.compile(r"^(?:www\.)?[a-z0-9-]+(\.[a-z0-9-]+)+$", re.IGNORECASE)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2})?(\.\d+)?(Z|[+-]\d{2}:?\d{2})?)?$")


def _is_email(value: str) -> bool:
    match = _EMAIL.fullmatch(value)
    return match is not None and "." in match.group(1)[1:-1]


def infer_type(samples: list[str]) -> str:
    """The attribute type most cells of a column look like (``text`` when unsure)."""
    values = [s.strip() for s in samples if s and s.strip()]
    if not values:
        return "text"
    checks = (("email", _is_email), ("url", lambda v: bool(_URL.match(v))),
              ("date", lambda v: bool(_DATE.match(v))),
              ("boolean", lambda v: v.lower() in _TRUE | _FALSE and not v.isdigit()),
              ("number", lambda v: not isinstance(parse_number(v), str)),
              ("phone", lambda v: bool(_PHONE.match(v)) and sum(c.isdigit() for c in v) >= 7),
              ("domain", lambda v: bool(_DOMAIN.match(v))))
    for name, check in checks:
        if sum(1 for v in values if check(v)) >= max(1, int(len(values) * 0.8)):
            return name
    return "text"


_PLAIN_NUMBER = re.compile(r"^[+-][\d\s().]*$")


def escape_formula(text: str) -> str:
    """Neutralise spreadsheet formula injection (OWASP): a cell starting with = + - @ or a tab or
    carriage return is prefixed with a quote. A signed plain number (``+14155552671``, ``-5``)
    cannot run as a formula and is left as it is."""
    if text and text[0] in "=+-@\t\r" and not _PLAIN_NUMBER.match(text):
        return "'" + text
    return text
