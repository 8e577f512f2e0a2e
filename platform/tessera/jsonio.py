"""Strict JSON in, fast JSON out.

Input that Python would accept but PostgreSQL or Meilisearch would choke on is refused here,
once, for every endpoint: NaN/Infinity and lone surrogates (orjson refuses them), NUL characters,
absurd nesting and absurdly many members.
"""

from __future__ import annotations

import orjson

from tessera.errors import BadRequest
from tessera.wire import JsonValue

MAX_MEMBERS = 100_000
"""Total number of values (objects, arrays, scalars) accepted in one body."""


def parse_json(body: bytes, *, max_depth: int) -> JsonValue:
    """Parse a request body, refusing what cannot be stored. Raises ``BadRequest``."""
    try:
        value: JsonValue = orjson.loads(body)
    except orjson.JSONDecodeError as err:
        raise BadRequest(f"Malformed JSON: {err.msg} at position {err.pos}") from err
    check_storable(value, max_depth=max_depth)
    return value


def check_storable(value: JsonValue, *, max_depth: int) -> None:
    """Walk a parsed document iteratively and refuse NUL characters, depth beyond ``max_depth``
    and more than ``MAX_MEMBERS`` values."""
    stack: list[tuple[JsonValue, int]] = [(value, 1)]
    seen = 0
    while stack:
        node, depth = stack.pop()
        seen += 1
        if seen > MAX_MEMBERS:
            raise BadRequest(f"JSON body has more than {MAX_MEMBERS} values")
        if isinstance(node, str):
            if "\x00" in node:
                raise BadRequest("JSON strings may not contain NUL (\\u0000) characters")
        elif isinstance(node, dict):
            if depth > max_depth:
                raise BadRequest(f"JSON nesting deeper than {max_depth} levels")
            for key, item in node.items():
                if "\x00" in key:
                    raise BadRequest("JSON keys may not contain NUL (\\u0000) characters")
                stack.append((item, depth + 1))
        elif isinstance(node, list):
            if depth > max_depth:
                raise BadRequest(f"JSON nesting deeper than {max_depth} levels")
            stack.extend((item, depth + 1) for item in node)


def dump_json(value: object) -> bytes:
    """Serialize a response: JSON values, TypedDicts, dataclasses, whatever orjson encodes (else
    ``TypeError``). Datetimes become RFC3339 with ``Z``; non-str dict keys are allowed."""
    return orjson.dumps(value, option=orjson.OPT_UTC_Z | orjson.OPT_NON_STR_KEYS)
