"""What PostgreSQL, Meilisearch and JSON clients can all hold: the shared guards of every type.

Every normalizer funnels its strings and numbers through these checks, so a value that Python
accepts but a store would choke on (a NUL byte, a lone surrogate, NaN, a 400-digit integer) is
refused as ``InvalidValue`` (a 400) before it gets anywhere near a database.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal

from schema_registry.types.base import JSON, InvalidValue

MAX_TEXT_LENGTH = 10_000
"""Longest text value, in characters."""

MAX_SHORT_TEXT_LENGTH = 500
"""Longest member of a composite value (a city, a first name) and longest select option."""

MAX_SAFE_INTEGER = 2**53 - 1
"""Largest integer every JSON client (JavaScript included) reads back exactly."""

MAX_FRACTIONAL_MAGNITUDE = 1e15
"""Numbers with a fractional part must be smaller than this in magnitude: beyond it a double
keeps no digit after the point, so the fraction would be noise."""

# NUL cannot live in a PostgreSQL text value; lone surrogates cannot be encoded as UTF-8.
_UNSTORABLE_CHARACTER = re.compile("[\x00\ud800-\udfff]")

_JSON_KIND: dict[type, str] = {
    str: "a string",
    bool: "a boolean",
    int: "a number",
    float: "a number",
    dict: "an object",
    list: "an array",
    type(None): "null",
}


def describe(value: object) -> str:
    """A short human phrase for the JSON kind of ``value`` ("a string", "an array"), for
    messages; never the value itself, which may be huge or private."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN or Infinity"
    return _JSON_KIND.get(type(value), "a value that is not JSON")


def check_storable_text(text: str, what: str = "value") -> None:
    """Raise ``InvalidValue`` when ``text`` holds a NUL character or a lone surrogate."""
    match = _UNSTORABLE_CHARACTER.search(text)
    if match is not None:
        if match.group() == "\x00":
            raise InvalidValue(f"{what} contains a NUL character, which cannot be stored")
        raise InvalidValue(f"{what} contains a lone surrogate, which is not valid Unicode")


def storable_string(raw: JSON, *, max_length: int, what: str = "value") -> str:
    """``raw`` itself when it is a string of at most ``max_length`` storable characters."""
    if not isinstance(raw, str):
        raise InvalidValue(f"expected a string, got {describe(raw)}")
    if len(raw) > max_length:
        raise InvalidValue(f"{what} is longer than {max_length} characters")
    check_storable_text(raw, what)
    return raw


def storable_number(raw: JSON, *, whole: bool = False) -> int | float:
    """A JSON number within the storable range, integral values as ``int``.

    Bounds: integers (and integral floats such as ``1.0``) up to ``MAX_SAFE_INTEGER`` in
    magnitude; numbers with a fraction below ``MAX_FRACTIONAL_MAGNITUDE``. Booleans, NaN and
    Infinity are refused; ``whole`` refuses any fraction.
    """
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise InvalidValue(f"expected a number, got {describe(raw)}")
    number: int | float = raw
    if isinstance(number, float):
        if not math.isfinite(number):
            raise InvalidValue("NaN and Infinity are not numbers that can be stored")
        if not number.is_integer():
            if whole:
                raise InvalidValue("expected a whole number")
            if abs(number) >= MAX_FRACTIONAL_MAGNITUDE:
                raise InvalidValue("a number with a fraction must be smaller than 1e15 in magnitude")
            return number
        number = int(number)
    if abs(number) > MAX_SAFE_INTEGER:
        raise InvalidValue(f"numbers must lie between -{MAX_SAFE_INTEGER} and {MAX_SAFE_INTEGER}")
    return number


def to_decimal(number: int | float) -> Decimal:
    """The exact decimal a stored number stands for (``0.1`` gives ``Decimal("0.1")``, the
    shortest repr, not the binary expansion)."""
    return Decimal(number) if isinstance(number, int) else Decimal(repr(number))


def require_object(raw: JSON, allowed: frozenset[str], what: str) -> dict[str, JSON]:
    """``raw`` when it is an object whose keys are all in ``allowed``; an unknown key is refused
    at its own path (``.nickname``)."""
    if not isinstance(raw, dict):
        raise InvalidValue(f"expected {what}, got {describe(raw)}")
    for key in raw:
        if not isinstance(key, str):
            raise InvalidValue("object keys must be strings")
        if key not in allowed:
            raise InvalidValue("unknown field", member_path(key))
    return raw


def optional_member_string(obj: dict[str, JSON], key: str, max_length: int) -> str | None:
    """The string member ``key`` with surrounding whitespace removed; ``None`` when absent,
    null or blank. Errors carry the member's path."""
    raw = obj.get(key)
    if raw is None:
        return None
    try:
        text = storable_string(raw, max_length=max_length, what=key)
    except InvalidValue as err:
        raise InvalidValue(err.message, member_path(key)) from err
    return text.strip() or None


def optional_member_number(obj: dict[str, JSON], key: str, low: float, high: float) -> int | float | None:
    """The number member ``key`` within ``[low, high]``; ``None`` when absent or null."""
    raw = obj.get(key)
    if raw is None:
        return None
    try:
        number = storable_number(raw)
    except InvalidValue as err:
        raise InvalidValue(err.message, member_path(key)) from err
    if not low <= number <= high:
        raise InvalidValue(f"{key} must lie between {low:g} and {high:g}", member_path(key))
    return number


_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_-]{0,99}")
_MAX_KEY_IN_PATH = 100


def member_path(key: str) -> str:
    """The relative path of an object member: ``.city``, or ``["odd key"]`` for a key that is
    not a plain name. Long keys are cut so that a message never echoes megabytes, and NUL or
    lone surrogates are spelled out so that the message itself stays storable JSON."""
    if _PLAIN_KEY.fullmatch(key):
        return f".{key}"
    shown = key if len(key) <= _MAX_KEY_IN_PATH else key[:_MAX_KEY_IN_PATH] + "..."
    escaped = shown.replace("\\", "\\\\").replace('"', '\\"')
    escaped = _UNSTORABLE_CHARACTER.sub(lambda m: f"\\u{ord(m.group()):04x}", escaped)
    return f'["{escaped}"]'
