"""Dates and RFC 3339 date-times as Tessera accepts and stores them.

Python's ``fromisoformat`` alone would accept far more than RFC 3339 (week dates, compact
forms, naive times), so a strict pattern picks the shape first and the standard library then
checks the calendar (no 2026-02-30) and does the arithmetic.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time

from schema_registry.types.base import JSON, InvalidValue
from schema_registry.types.storable import check_storable_text, describe

_MAX_INPUT_LENGTH = 64

# [0-9], not \d: \d also matches other scripts' digits, which are no part of RFC 3339.
_DATE = re.compile(r"(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2})")
_DATE_TIME = re.compile(
    r"(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2})[Tt ]"
    r"(?P<time>[0-9]{2}:[0-9]{2}:[0-9]{2})(?:\.(?P<fraction>[0-9]{1,9}))?"
    r"(?P<offset>[Zz]|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])"
)
_NAIVE_DATE_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?")

_FORMS = "expected a date (YYYY-MM-DD) or an RFC 3339 date-time with a time zone"


def parse_temporal(raw: JSON) -> date | datetime:
    """A ``date`` for ``YYYY-MM-DD``, an aware UTC ``datetime`` for an RFC 3339 date-time.

    Refused: other shapes, impossible dates, years outside 0001-9999 (also after conversion
    to UTC), naive date-times, leap seconds. Fractions beyond microseconds are truncated.
    """
    if not isinstance(raw, str):
        raise InvalidValue(f"{_FORMS}, got {describe(raw)}")
    if len(raw) > _MAX_INPUT_LENGTH:
        raise InvalidValue(_FORMS)
    check_storable_text(raw)
    if _DATE.fullmatch(raw):
        return _parse_date(raw)
    match = _DATE_TIME.fullmatch(raw)
    if match is None:
        if _NAIVE_DATE_TIME.fullmatch(raw):
            raise InvalidValue("a date-time needs a time zone: end it with Z or an offset such as +02:00")
        raise InvalidValue(_FORMS)
    _parse_date(match["date"])  # for its precise message about impossible dates
    try:
        # The pattern admits only RFC 3339 shapes; fromisoformat (3.11) then checks the
        # clock and truncates fractions beyond microseconds. upper(): "t" and "z" are legal.
        local = datetime.fromisoformat(raw.upper())
    except ValueError as err:
        raise InvalidValue(f"{match['time']} is not a valid time of day") from err
    try:
        return local.astimezone(UTC)
    except OverflowError as err:
        raise InvalidValue("the date-time falls outside the years 0001-9999 in UTC") from err


def format_temporal(value: date | datetime) -> str:
    """The stored form: ``YYYY-MM-DD`` or ``YYYY-MM-DDTHH:MM:SS[.ffffff]Z`` (UTC)."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None).isoformat() + "Z"
    return value.isoformat()


def to_timestamp(value: date | datetime) -> datetime:
    """The aware UTC instant a value sorts and filters as; a date is its midnight UTC."""
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    return datetime.combine(value, time(), tzinfo=UTC)


def _parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as err:
        raise InvalidValue(f"{text} is not a valid calendar date") from err
