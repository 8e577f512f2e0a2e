"""The record query language: parse a JSON filter and sort specification into a small AST,
validated against the object's attributes and their types. Pure; no SQL here.

Filter grammar (documented with examples in docs/query.md)::

    filter     := {"$and": [filter, ...]} | {"$or": [filter, ...]} | {"$not": filter}
                | {target: condition, ...}            # several targets: all must hold
    target     := slug | slug.facet | parent.slug[.facet] (list queries) | id | created_at | updated_at
    condition  := value                    # shorthand for {"$eq": value}
                | [value, ...]             # shorthand for {"$in": [...]}
                | null                     # shorthand for {"$exists": false}
                | {"$op": operand, ...}    # several operators: all must hold

Multi-value attributes match when ANY value satisfies a positive operator; ``$ne``/``$nin``
match when NO value equals, so records without a value match them too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from schema_registry.definitions import AttributeDefinition, ObjectDefinition
from schema_registry.types import attribute_type
from schema_registry.types.base import Facet, FacetScalar, InvalidValue, StorageClass
from schema_registry.types.timestamps import parse_temporal, to_timestamp

MAX_DEPTH = 8
MAX_CONDITIONS = 50
MAX_IN_VALUES = 500
MAX_SORT_KEYS = 5
META_FIELDS = {"id": StorageClass.NUMERIC, "created_at": StorageClass.TIMESTAMP,
               "updated_at": StorageClass.TIMESTAMP}
NEGATIVE = {"$ne": "$eq", "$nin": "$in"}


@dataclass(frozen=True, slots=True)
class Target:
    """What a condition looks at: an attribute facet (of the record, or of a list entry's parent
    record) or a record metadata column."""

    path: str
    storage: StorageClass
    attribute: AttributeDefinition | None = None
    facet: Facet | None = None
    meta: str | None = None
    parent: bool = False


class QueryError(ValueError):
    """A filter or sort the language refuses; ``path`` points into the request body
    (``filter.$and[1].stage.$gt``). The HTTP layer answers it with 400."""

    def __init__(self, message: str, path: str) -> None:
        super().__init__(message)
        self.message = message
        self.path = path


@dataclass(frozen=True, slots=True)
class Changed:
    """``$changed``: the attribute took value ``to`` (and/or left value ``from_``) at or after ``since``."""

    to: tuple[FacetScalar, ...] | None
    from_: tuple[FacetScalar, ...] | None
    since: datetime | None


@dataclass(frozen=True, slots=True)
class Condition:
    target: Target
    op: str
    operand: Any


@dataclass(frozen=True, slots=True)
class And:
    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Not:
    child: Node


Node = Condition | And | Or | Not


@dataclass(frozen=True, slots=True)
class SortKey:
    target: Target
    descending: bool = False


@dataclass
class _Budget:
    conditions: int = 0


def _fail(path: str, message: str) -> QueryError:
    return QueryError(message, path)


def resolve_target(obj: ObjectDefinition, name: str, path: str, *, parent: ObjectDefinition | None = None,
                   allow_meta: bool = True) -> Target:
    """Find what ``name`` addresses on ``obj`` (or, with ``parent.``, on a list's parent object)."""
    if name in META_FIELDS and allow_meta:
        return Target(path=name, storage=META_FIELDS[name], meta=name)
    owner, is_parent, rest = obj, False, name
    if name.startswith("parent.") and parent is not None:
        owner, is_parent, rest = parent, True, name.removeprefix("parent.")
        if rest in META_FIELDS:
            return Target(path=name, storage=META_FIELDS[rest], meta=rest, parent=True)
    slug, _, facet_name = rest.partition(".")
    attribute = owner.attribute(slug)
    if attribute is None:
        raise _fail(path, f"unknown attribute '{name[:80]}' on '{owner.slug}'")
    facet = attribute_type(attribute.type).facet(facet_name)
    if facet is None:
        known = ", ".join(f.name for f in attribute_type(attribute.type).facets if f.name)
        raise _fail(path, f"'{attribute.slug}' ({attribute.type.value}) has no sub-field '{facet_name[:40]}'"
                    + (f"; known: {known}" if known else ""))
    return Target(path=name, storage=facet.storage, attribute=attribute, facet=facet, parent=is_parent)


def _operand(target: Target, op: str, raw: Any, path: str) -> FacetScalar:
    if target.meta is not None:
        if target.storage is StorageClass.TIMESTAMP and isinstance(raw, str):
            try:
                return to_timestamp(parse_temporal(raw))
            except InvalidValue as err:
                raise _fail(path, f"'{target.path}' {op}: {err.message}") from err
        if target.meta == "id" and isinstance(raw, str) and raw.isdigit() and len(raw) < 20 and int(raw) < 2**63:
            return Decimal(raw)
        raise _fail(path, f"'{target.path}' {op} got an operand of the wrong type")
    assert target.attribute is not None and target.facet is not None
    kind = attribute_type(target.attribute.type)
    try:
        return kind.filter_operand(op, raw, target.facet, target.attribute)
    except InvalidValue as err:
        raise _fail(path, f"'{target.path}' {op}: {err.message}") from err


def _operators(target: Target) -> frozenset[str]:
    if target.meta is not None:
        return frozenset({"$eq", "$ne", "$in", "$nin", "$lt", "$lte", "$gt", "$gte"})
    assert target.attribute is not None and target.facet is not None
    allowed = set(attribute_type(target.attribute.type).operators(target.facet)) | {"$exists"}
    kind = attribute_type(target.attribute.type)
    # History keeps stored values; only scalar ones compare with an operand's facet value.
    if target.facet.name == "" and not target.parent and not kind.composite and \
            target.storage in (StorageClass.TEXT, StorageClass.NUMERIC, StorageClass.BOOLEAN):
        allowed.add("$changed")
    return frozenset(allowed)


def _changed(target: Target, raw: Any, path: str) -> Changed:
    if not isinstance(raw, dict) or not raw or set(raw) - {"to", "from", "since"}:
        raise _fail(path, "$changed takes an object with 'to', 'from' and/or 'since'")

    def values(key: str) -> tuple[FacetScalar, ...] | None:
        if key not in raw:
            return None
        items = raw[key] if isinstance(raw[key], list) else [raw[key]]
        if not items or len(items) > MAX_IN_VALUES:
            raise _fail(f"{path}.{key}", f"$changed.{key} needs 1-{MAX_IN_VALUES} values")
        return tuple(_operand(target, "$eq", item, f"{path}.{key}") for item in items)

    since = None
    if "since" in raw:
        try:
            since = to_timestamp(parse_temporal(raw["since"]))
        except InvalidValue as err:
            raise _fail(f"{path}.since", f"since: {err.message}") from err
    return Changed(to=values("to"), from_=values("from"), since=since)


def _condition(target: Target, op: str, raw: Any, path: str, budget: _Budget) -> Condition:
    budget.conditions += 1
    if budget.conditions > MAX_CONDITIONS:
        raise _fail(path, f"more than {MAX_CONDITIONS} conditions")
    if op not in _operators(target):
        name = target.attribute.type.value if target.attribute else "metadata"
        raise _fail(path, f"operator {op} is not supported on '{target.path}' ({name})")
    if op == "$exists":
        if not isinstance(raw, bool):
            raise _fail(path, "$exists takes true or false")
        return Condition(target, op, raw)
    if op == "$changed":
        return Condition(target, op, _changed(target, raw, path))
    if op in ("$in", "$nin"):
        if not isinstance(raw, list) or not raw or len(raw) > MAX_IN_VALUES:
            raise _fail(path, f"{op} takes a list of 1-{MAX_IN_VALUES} values")
        return Condition(target, op, tuple(_operand(target, "$eq", item, f"{path}[{i}]")
                                           for i, item in enumerate(raw)))
    if raw is None or isinstance(raw, (list, dict)):
        raise _fail(path, f"{op} takes a single value")
    return Condition(target, op, _operand(target, op, raw, path))


def _target_conditions(target: Target, raw: Any, path: str, budget: _Budget) -> list[Node]:
    if raw is None:
        return [_condition(target, "$exists", False, path, budget)]
    if isinstance(raw, list):
        return [_condition(target, "$in", raw, path, budget)]
    if isinstance(raw, dict):
        if not raw:
            raise _fail(path, "an empty condition matches nothing sensible")
        conditions: list[Node] = []
        for op, operand in raw.items():
            if not isinstance(op, str) or not op.startswith("$"):
                raise _fail(path, f"expected operators such as $eq, got '{str(op)[:40]}'")
            conditions.append(_condition(target, op, operand, f"{path}.{op}", budget))
        return conditions
    return [_condition(target, "$eq", raw, path, budget)]


def _node(obj: ObjectDefinition, raw: Any, path: str, depth: int, budget: _Budget,
          parent: ObjectDefinition | None) -> Node:
    if depth > MAX_DEPTH:
        raise _fail(path, f"nested deeper than {MAX_DEPTH} levels")
    if not isinstance(raw, dict) or not raw:
        raise _fail(path, "each filter must be a non-empty object")
    children: list[Node] = []
    for key, value in raw.items():
        child_path = f"{path}.{key}"
        if key in ("$and", "$or"):
            if not isinstance(value, list) or not value:
                raise _fail(child_path, f"{key} takes a non-empty list of filters")
            nodes = tuple(_node(obj, item, f"{child_path}[{i}]", depth + 1, budget, parent)
                          for i, item in enumerate(value))
            children.append(And(nodes) if key == "$and" else Or(nodes))
        elif key == "$not":
            children.append(Not(_node(obj, value, child_path, depth + 1, budget, parent)))
        elif key.startswith("$"):
            raise _fail(child_path, f"unknown operator {key[:40]} (use $and, $or, $not or an attribute)")
        else:
            target = resolve_target(obj, key, child_path, parent=parent)
            children.extend(_target_conditions(target, value, child_path, budget))
    return children[0] if len(children) == 1 else And(tuple(children))


def parse_filter(obj: ObjectDefinition, raw: Any, *, parent: ObjectDefinition | None = None) -> Node | None:
    """The AST of a filter (None for no filter). Raises ``QueryError`` naming the path, the
    attribute and the operator at fault."""
    if raw is None:
        return None
    return _node(obj, raw, "filter", 1, _Budget(), parent)


def parse_sorts(obj: ObjectDefinition, sorts: list[tuple[str, str]], *,
                parent: ObjectDefinition | None = None) -> list[SortKey]:
    """Sort keys from (attribute slug or id, direction) pairs."""
    if len(sorts) > MAX_SORT_KEYS:
        raise QueryError(f"at most {MAX_SORT_KEYS} sort keys", "sorts")
    keys = []
    for index, (name, direction) in enumerate(sorts):
        path = f"sorts[{index}]"
        if direction not in ("asc", "desc"):
            raise QueryError(f"sort direction must be 'asc' or 'desc', got '{direction[:20]}'",
                             f"{path}.direction")
        if name.isdigit() and obj.attribute_by_id(int(name)) is not None:
            attribute = obj.attribute_by_id(int(name))
            assert attribute is not None
            name = attribute.slug
        target = resolve_target(obj, name, f"{path}.attribute", parent=parent)
        keys.append(SortKey(target, direction == "desc"))
    return keys
