"""Validate and normalise a record's ``attributes`` with cached, compiled validators.

Two passes, every problem collected: the object's compiled JSON Schema (run by jsonschema-rs)
checks shapes, then each value the schema let through goes to its type's normalizer, which
checks meaning and produces the stored form. Compiling a schema costs far more than running
it, so validators are cached per object, schema version and mode.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass

import jsonschema_rs

from schema_registry.compiler import Mode, compile_schema
from schema_registry.definitions import AttributeDefinition, ObjectDefinition
from schema_registry.issues import (
    PathSegment,
    RecordValidationError,
    ValidationIssue,
    format_path,
)
from schema_registry.schema_errors import translate_error
from schema_registry.types import attribute_type
from schema_registry.types.base import JSON, AttributeType, InvalidValue
from schema_registry.types.storable import describe

__all__ = [
    "MAX_ATTRIBUTES_PER_BODY",
    "RecordValidationError",
    "ValidationIssue",
    "clear_validator_cache",
    "compiled_validator",
    "validate_attributes",
]

MAX_ATTRIBUTES_PER_BODY = 1_000
"""A body naming more attributes than this is refused with one issue, unvalidated: no object
has that many attributes, and reporting thousands of unknown slugs helps nobody."""

_CACHE_SIZE = 512

_MAX_NESTING = 8
"""Deepest a legitimate value nests (a list of objects of scalars is 2), with room to spare."""

_CacheKey = tuple[int, int, int, Mode]

_Issue = tuple[tuple[PathSegment, ...], str, str]
"""(path segments, path suffix from a normalizer such as ``.amount``, message)."""


@dataclass(frozen=True, slots=True)
class _CompiledObject:
    validator: jsonschema_rs.Validator
    attributes: Mapping[str, tuple[AttributeDefinition, AttributeType]]


class _CompiledObjectCache:
    """A bounded LRU map, safe under threads (validation may run in a thread pool)."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._entries: OrderedDict[_CacheKey, _CompiledObject] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: _CacheKey) -> _CompiledObject | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
            return entry

    def put(self, key: _CacheKey, entry: _CompiledObject) -> _CompiledObject:
        with self._lock:
            # Two threads may compile the same key at once; the first one stored wins so
            # that every caller sees one validator object per key.
            kept = self._entries.setdefault(key, entry)
            self._entries.move_to_end(key)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
            return kept

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


_cache = _CompiledObjectCache(_CACHE_SIZE)


def _compiled(obj: ObjectDefinition, mode: Mode) -> _CompiledObject:
    key: _CacheKey = (obj.workspace_id, obj.id, obj.schema_version, mode)
    entry = _cache.get(key)
    if entry is not None:
        return entry
    validator = jsonschema_rs.Draft202012Validator(compile_schema(obj, mode), validate_formats=False, offline=True)
    attributes = {attribute.slug: (attribute, attribute_type(attribute.type)) for attribute in obj.attributes}
    return _cache.put(key, _CompiledObject(validator, attributes))


def compiled_validator(obj: ObjectDefinition, mode: Mode) -> jsonschema_rs.Validator:
    """The jsonschema-rs validator of ``compile_schema(obj, mode)``, compiled once per
    (workspace, object id, ``schema_version``, mode) and kept in a bounded LRU cache.

    The cache trusts ``schema_version``: whoever changes an object's attributes or their
    options must bump it, or the old validator keeps answering.
    """
    return _compiled(obj, mode).validator


def clear_validator_cache() -> None:
    """Forget every compiled validator (for tests)."""
    _cache.clear()


def validate_attributes(obj: ObjectDefinition, attributes: object, mode: Mode) -> dict[str, list[JSON] | None]:
    """Check a record body's ``attributes`` against ``obj`` and return the stored values.

    Returns slug -> list of stored values for every attribute the body names: a
    single-value attribute gives a list of one; ``null`` or ``[]`` gives ``None`` (clear the
    attribute). Duplicate values of a multi-value attribute (equal once normalized) are
    collapsed, first occurrence kept. Raises ``RecordValidationError`` listing every problem
    (schema and normalizer alike) with its path: ``attributes`` itself when it is not an
    object or names more than ``MAX_ATTRIBUTES_PER_BODY`` keys, ``attributes.nickname`` for
    an unknown slug, ``attributes.email_addresses[1]``, ``attributes.price.amount``...
    """
    if not isinstance(attributes, dict):
        raise RecordValidationError([ValidationIssue("attributes", f"expected an object, got {describe(attributes)}")])
    if len(attributes) > MAX_ATTRIBUTES_PER_BODY:
        raise RecordValidationError(
            [ValidationIssue("attributes", f"names more than {MAX_ATTRIBUTES_PER_BODY} attributes")]
        )
    compiled = _compiled(obj, mode)
    try:
        valid = compiled.validator.is_valid(attributes)
    except ValueError as err:
        # jsonschema-rs refuses what is not JSON at all (a non-string key, a Python
        # object); a parsed request body never holds one.
        raise RecordValidationError([ValidationIssue("attributes", "is not a JSON object")]) from err
    issues = [] if valid else _schema_issues(compiled.validator, attributes)
    refused = {_value_key(path, attributes) for path, _, _ in issues}
    values: dict[str, list[JSON] | None] = {}
    for slug, raw in attributes.items():
        entry = compiled.attributes.get(slug)
        if entry is None or (refused and (slug, None) in refused):
            continue
        if raw is None or (type(raw) is list and not raw):
            values[slug] = None
        elif type(raw) is list:
            # Only multi-value attributes get here with a list: the schema refuses the rest.
            values[slug] = _normalize_list(slug, raw, entry, refused, issues)
        else:
            try:
                values[slug] = [entry[1].normalize(raw, entry[0])]
            except InvalidValue as err:
                issues.append(((slug,), err.path, err.message))
    if issues:
        raise RecordValidationError(_sorted_issues(issues, attributes))
    return values


def _schema_issues(validator: jsonschema_rs.Validator, attributes: dict[str, JSON]) -> list[_Issue]:
    # Error reports hand the offending values back to Python, which jsonschema-rs cannot do
    # past ~250 levels of nesting; no attribute value nests deeper than _MAX_NESTING, so
    # such values are refused here and the schema reports on the rest.
    issues: list[_Issue] = []
    shallow: dict[str, JSON] = {}
    for slug, raw in attributes.items():
        if _nests_deeper_than(raw, _MAX_NESTING):
            issues.append(((slug,), "", "is nested too deeply"))
        else:
            shallow[slug] = raw
    try:
        return issues + _translated(validator, shallow)
    except ValueError:
        pass
    # Nor can it report on a value holding a lone surrogate (it cannot be UTF-8): find the
    # culprits one attribute at a time, then add what the empty body lacks ("required").
    for slug, raw in shallow.items():
        try:
            issues += [issue for issue in _translated(validator, {slug: raw}) if issue[0][:1] == (slug,)]
        except ValueError:
            issues.append(((slug,), "", "holds text that is not valid Unicode (a lone surrogate)"))
    issues += [issue for issue in _translated(validator, {}) if issue[0][:1] and issue[0][0] not in attributes]
    return issues


def _translated(validator: jsonschema_rs.Validator, body: dict[str, JSON]) -> list[_Issue]:
    return [
        (path, "", message) for error in validator.iter_errors(body) for path, message in translate_error(error, body)
    ]


def _nests_deeper_than(value: JSON, limit: int) -> bool:
    level: list[JSON] = [value]
    for _ in range(limit + 1):
        level = [
            child
            for container in level
            if isinstance(container, dict | list)
            for child in (container.values() if isinstance(container, dict) else container)
        ]
        if not level:
            return False
    return True


def _normalize_list(
    slug: str,
    raw: list[JSON],
    entry: tuple[AttributeDefinition, AttributeType],
    refused: set[tuple[str, int | None]],
    issues: list[_Issue],
) -> list[JSON]:
    definition, kind = entry
    stored: list[JSON] = []
    for index, item in enumerate(raw):
        if refused and (slug, index) in refused:
            continue
        try:
            value = kind.normalize(item, definition)
        except InvalidValue as err:
            issues.append(((slug, index), err.path, err.message))
            continue
        # At most 100 values: a linear scan is cheaper than hashing stored objects.
        if value not in stored:
            stored.append(value)
    return stored


def _sorted_issues(issues: list[_Issue], attributes: dict[str, JSON]) -> list[ValidationIssue]:
    """Issues in body order (then by list index), whichever pass found them."""
    order = {slug: position for position, slug in enumerate(attributes)}

    def position(issue: _Issue) -> tuple[int, int]:
        path = issue[0]
        if not path:
            return (-1, -1)
        index = path[1] if len(path) > 1 and isinstance(path[1], int) else -1
        return (order.get(str(path[0]), len(order)), index)

    ordered = sorted(issues, key=position)
    return [ValidationIssue(format_path(path) + suffix, message) for path, suffix, message in ordered]


def _value_key(path: tuple[PathSegment, ...], attributes: dict[str, JSON]) -> tuple[str, int | None]:
    """Which value a schema issue is about: (slug, index in the list) or (slug, None) for
    the attribute as a whole. Refused values are not normalized, so no issue is reported
    twice."""
    if not path:
        return ("", None)
    slug = str(path[0])
    if len(path) > 1 and isinstance(path[1], int) and isinstance(attributes.get(slug), list):
        return (slug, path[1])
    return (slug, None)
