"""Evaluate a parsed filter against one record in Python, with the same semantics as the SQL
compiler (``tessera.records.sql``). Used to test a record against webhook subscription filters
and, in tests, as the oracle the database's answers are compared with. ``$changed`` needs the
attribute history and is not supported here."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from schema_registry.query import And, Condition, Node, Not, Or, Target
from schema_registry.types import attribute_type
from schema_registry.types.base import JSON, FacetScalar, StorageClass


@dataclass(frozen=True, slots=True)
class RecordState:
    id: int
    created_at: datetime
    updated_at: datetime
    data: Mapping[str, list[JSON]]


def _facet_values(target: Target, record: RecordState) -> list[FacetScalar]:
    assert target.attribute is not None and target.facet is not None
    kind = attribute_type(target.attribute.type)
    out = []
    for stored in record.data.get(str(target.attribute.id)) or []:
        for facet in kind.facet_values(stored, target.attribute):
            if facet.facet == target.facet.name:
                out.append(facet.value)
    return out


def _normalize(value: Any, storage: StorageClass) -> Any:
    if storage is StorageClass.NUMERIC and not isinstance(value, bool):
        return Decimal(str(value))
    return value


def _matches(value: FacetScalar, op: str, operand: Any, storage: StorageClass) -> bool:
    value = _normalize(value, storage)
    if op == "$eq":
        return bool(value == _normalize(operand, storage))
    if op == "$in":
        return any(value == _normalize(o, storage) for o in operand)
    if op in ("$contains", "$starts_with", "$ends_with"):
        text, needle = str(value).lower(), str(operand).lower()
        if op == "$contains":
            return needle in text
        return text.startswith(needle) if op == "$starts_with" else text.endswith(needle)
    other = _normalize(operand, storage)
    if op == "$lt":
        return bool(value < other)
    if op == "$lte":
        return bool(value <= other)
    if op == "$gt":
        return bool(value > other)
    if op == "$gte":
        return bool(value >= other)
    raise ValueError(f"unsupported operator {op}")


def _meta_value(target: Target, record: RecordState) -> Any:
    if target.meta == "id":
        return Decimal(record.id)
    return record.created_at if target.meta == "created_at" else record.updated_at


def _condition(cond: Condition, record: RecordState, parent: RecordState | None) -> bool:
    target = cond.target
    subject = parent if target.parent else record
    if subject is None:
        return False
    if target.meta is not None:
        value = _meta_value(target, subject)
        op = cond.op
        if op in ("$ne", "$nin"):
            return not _matches(value, "$eq" if op == "$ne" else "$in", cond.operand, StorageClass.NUMERIC
                                if target.meta == "id" else target.storage)
        storage = StorageClass.NUMERIC if target.meta == "id" else target.storage
        return _matches(value, op, cond.operand, storage)
    if cond.op == "$changed":
        raise NotImplementedError("$changed needs the attribute history")
    values = _facet_values(target, subject)
    if cond.op == "$exists":
        return bool(values) is cond.operand
    if cond.op in ("$ne", "$nin"):
        positive = "$eq" if cond.op == "$ne" else "$in"
        return not any(_matches(v, positive, cond.operand, target.storage) for v in values)
    return any(_matches(v, cond.op, cond.operand, target.storage) for v in values)


def evaluate(node: Node | None, record: RecordState, parent: RecordState | None = None) -> bool:
    """Whether ``record`` (a list entry when ``parent`` is given) satisfies the filter."""
    if node is None:
        return True
    if isinstance(node, And):
        return all(evaluate(c, record, parent) for c in node.children)
    if isinstance(node, Or):
        return any(evaluate(c, record, parent) for c in node.children)
    if isinstance(node, Not):
        return not evaluate(node.child, record, parent)
    return _condition(node, record, parent)
