"""Translate the record query language (``schema_registry.query`` AST) into a Meilisearch filter
over the facets ``build_document`` stores (``f.<attribute id>.<facet>``).

Supported: $eq $ne $in $nin $lt $lte $gt $gte $exists and $and/$or/$not on any attribute facet.
Not supported in search (``UnsupportedFilter``): substring operators, ``$changed`` and metadata
targets; use ``POST /v1/objects/{slug}/records`` for those. Note that Meilisearch compares
strings case-insensitively, where the records endpoint compares them exactly.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from schema_registry.query import And, Condition, Node, Not, Or
from search.documents import facet_key

_COMPARE = {"$eq": "=", "$lt": "<", "$lte": "<=", "$gt": ">", "$gte": ">="}


class UnsupportedFilter(ValueError):
    """A filter that cannot be expressed for Meilisearch; ``path`` names the target."""

    def __init__(self, message: str, path: str) -> None:
        super().__init__(message)
        self.message = message
        self.path = path


def literal(value: Any) -> str:
    """A filter literal: strings quoted and escaped, timestamps as epoch seconds."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return repr(value.timestamp())
    if isinstance(value, (int, float, Decimal)):
        return repr(float(value))
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def _condition(cond: Condition) -> str:
    target = cond.target
    if target.meta is not None or target.parent or target.attribute is None or target.facet is None:
        raise UnsupportedFilter(f"'{target.path}' cannot be used in a search filter", f"filter.{target.path}")
    field = f"f.{target.attribute.id}.{facet_key(target.facet.name)}"
    op = cond.op
    if op == "$exists":
        return f"{field} EXISTS" if cond.operand else f"NOT {field} EXISTS"
    if op in ("$in", "$nin"):
        clause = f"{field} IN [{', '.join(literal(v) for v in cond.operand)}]"
        return clause if op == "$in" else f"NOT {clause}"
    if op == "$ne":
        return f"NOT {field} = {literal(cond.operand)}"
    if op in _COMPARE:
        return f"{field} {_COMPARE[op]} {literal(cond.operand)}"
    raise UnsupportedFilter(f"operator {op} is not supported in search filters", f"filter.{target.path}.{op}")


def to_meili_filter(node: Node) -> str:
    if isinstance(node, And):
        return "(" + " AND ".join(to_meili_filter(c) for c in node.children) + ")"
    if isinstance(node, Or):
        return "(" + " OR ".join(to_meili_filter(c) for c in node.children) + ")"
    if isinstance(node, Not):
        return f"NOT ({to_meili_filter(node.child)})"
    return _condition(node)
