"""Translate jsonschema-rs errors into ``(path segments, message)`` pairs a client can act on.

The library's own messages quote the offending value, which may be megabytes long or private;
these messages name the JSON kind of the value instead. ``anyOf`` errors (value | array of
values | null) are unwrapped to the branch the client evidently meant, so that a bad address
in a list is reported at ``attributes.email_addresses[1]``, not as "matches no schema".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from jsonschema_rs import ValidationError, ValidationErrorKind

from schema_registry.issues import PathSegment
from schema_registry.types.base import JSON
from schema_registry.types.storable import describe

SchemaIssue = tuple[tuple[PathSegment, ...], str]

_MISSING = object()

_TYPE_PHRASES = {
    "string": "a string",
    "number": "a number",
    "integer": "a whole number",
    "object": "an object",
    "array": "an array",
    "boolean": "a boolean",
    "null": "null",
}


def translate_error(error: ValidationError, body: JSON) -> list[SchemaIssue]:
    """The issues one jsonschema-rs error stands for; ``body`` is the validated instance,
    consulted for the offending value's kind (jsonschema-rs reports NaN as null)."""
    path = tuple(error.instance_path)
    if isinstance(error.kind, ValidationErrorKind.AnyOf):
        return _translate_any_of(path, error.kind.context, body)
    kind = error.kind.name
    details: dict[str, Any] = error.kind.as_dict()
    if kind == "additionalProperties":
        label = "unknown attribute" if not path else "unknown field"
        return [((*path, key), label) for key in details["unexpected"]]
    if kind == "required":
        return [((*path, details["property"]), "required")]
    value = _value_at(body, path)
    if kind == "type":
        return [(path, _type_message(details["types"], value, path))]
    describe_problem = _MESSAGES.get(kind)
    if describe_problem is None:
        return [(path, "is not valid here")]
    return [(path, describe_problem(details, len(path)))]


def _translate_any_of(
    path: tuple[PathSegment, ...], branches: Sequence[Sequence[ValidationError]], body: JSON
) -> list[SchemaIssue]:
    # A branch the value merely has the wrong JSON type for was not what the client meant;
    # the first branch that failed for any other reason (a bad member, a long string) was.
    expected: list[str] = []
    for errors in branches:
        mismatches = [error for error in errors if error.kind.name == "type" and tuple(error.instance_path) == path]
        if len(mismatches) < len(errors):
            return [issue for error in errors for issue in translate_error(error, body)]
        for error in mismatches:
            expected.extend(error.kind.as_dict()["types"])
    return [(path, _type_message(expected, _value_at(body, path), path))]


def _type_message(expected: Sequence[str], value: object, path: Sequence[PathSegment]) -> str:
    if value is None and len(path) == 1:
        return "is required and cannot be null"
    if isinstance(value, list) and "array" not in expected and len(path) == 1:
        return "takes a single value, not an array"
    phrases = list(dict.fromkeys(_TYPE_PHRASES.get(name, name) for name in expected))
    wanted = phrases[0] if len(phrases) == 1 else ", ".join(phrases[:-1]) + " or " + phrases[-1]
    return f"expected {wanted}, got {describe(value)}"


def _value_at(body: JSON, path: Sequence[PathSegment]) -> object:
    value: object = body
    for segment in path:
        in_list = isinstance(segment, int) and isinstance(value, list) and 0 <= segment < len(value)
        in_object = isinstance(segment, str) and isinstance(value, dict) and segment in value
        if not (in_list or in_object):
            return _MISSING
        value = value[segment]  # type: ignore[index]
    return value


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


_MESSAGES: dict[str, Callable[[dict[str, Any], int], str]] = {
    "maxLength": lambda d, depth: f"is longer than {_plural(d['limit'], 'character')}",
    "minLength": lambda d, depth: (
        "must not be empty" if d["limit"] == 1 else f"is shorter than {d['limit']} characters"
    ),
    "maxItems": lambda d, depth: f"takes at most {_plural(d['limit'], 'value')}",
    "minItems": lambda d, depth: f"needs at least {_plural(d['limit'], 'value')}"
    + (" (the attribute is required)" if depth == 1 else ""),
    "minimum": lambda d, depth: f"must be at least {d['limit']}",
    "maximum": lambda d, depth: f"must be at most {d['limit']}",
    "exclusiveMinimum": lambda d, depth: f"must be greater than {d['limit']}",
    "exclusiveMaximum": lambda d, depth: f"must be less than {d['limit']}",
    "minProperties": lambda d, depth: "must not be an empty object",
    "maxProperties": lambda d, depth: f"has more than {_plural(d['limit'], 'member')}",
    "enum": lambda d, depth: "is not one of the allowed values",
    "const": lambda d, depth: "is not the allowed value",
    "pattern": lambda d, depth: "does not have the expected format",
    "format": lambda d, depth: "does not have the expected format",
}
