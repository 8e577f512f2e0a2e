"""Compile the query AST (``schema_registry.query``) to PostgreSQL over the EAV value table.

Two forms of the same filter:
- ``row_predicate``: a boolean expression over one record row ``r`` (EXISTS probes into the value
  index), for plans that walk records in order and test each;
- ``id_set``: a query producing the matching record ids from index range scans combined with
  INTERSECT / UNION / EXCEPT, for counting and for filter-first plans.
Parameters come from ``tessera.db.sql.Params``; ``$1`` is always the workspace id.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import orjson

from schema_registry.query import And, Changed, Condition, Node, Not, Or, SortKey, Target
from schema_registry.types.base import FacetScalar, StorageClass
from tessera.db.sql import Params

Operand = FacetScalar | tuple[FacetScalar, ...]
"""A condition's operand as the query language parses it: one facet value, or the values of
``$in``/``$nin`` (``$exists`` and ``$changed`` take theirs apart)."""
SortValue = str | int | Decimal | datetime | bool | None
"""What a sort expression (``Compiler.sort_expression``) evaluates to: a facet's typed column or
a metadata column; None for a record without a value."""

TEXT_PREFIX = 200
INDEXED_TEXT = 'left({a}.v_text, 200) COLLATE "C"'
_CASTS = {StorageClass.TEXT: "text", StorageClass.NUMERIC: "numeric", StorageClass.TIMESTAMP: "timestamptz",
          StorageClass.BOOLEAN: "boolean"}
_COLUMNS = {StorageClass.NUMERIC: "v_num", StorageClass.TIMESTAMP: "v_ts", StorageClass.BOOLEAN: "v_bool"}
_META_COLUMNS = {"id": "id", "created_at": "created_at", "updated_at": "updated_at"}
_COMPARE = {"$eq": "=", "$lt": "<", "$lte": "<=", "$gt": ">", "$gte": ">="}
_LIKE = {"$contains": "%{}%", "$starts_with": "{}%", "$ends_with": "%{}"}


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def value_column(storage: StorageClass, alias: str) -> str:
    """The sortable, indexed expression of a facet's typed column."""
    if storage is StorageClass.TEXT:
        return INDEXED_TEXT.format(a=alias)
    return f"{alias}.{_COLUMNS[storage]}"


def _bind(storage: StorageClass, value: FacetScalar | int, params: Params) -> str:
    if storage is StorageClass.TEXT:
        return params.add(str(value)[:TEXT_PREFIX], "text") + ' COLLATE "C"'
    if storage is StorageClass.NUMERIC and not isinstance(value, Decimal):
        value = Decimal(str(value))
    return params.add(value, _CASTS[storage])


def _value_predicate(storage: StorageClass, op: str, operand: Operand, params: Params, alias: str = "v") -> str:
    """A predicate on one value row (alias ``v``) for a positive operator."""
    column = value_column(storage, alias)
    if op in _LIKE:
        pattern = _LIKE[op].format(_escape_like(str(operand)))
        return f"{alias}.v_text ILIKE {params.add(pattern, 'text')}"
    if op == "$in":
        assert isinstance(operand, tuple)
        if storage is StorageClass.TEXT:
            short = sorted({str(v)[:TEXT_PREFIX] for v in operand})
            clause = f"{column} = ANY({params.add(short, 'text[]')})"
            long_values = [str(v) for v in operand if len(str(v)) >= TEXT_PREFIX]
            if long_values:  # the index holds a prefix: recheck the whole value
                exact = [str(v) for v in operand]
                clause += f" AND {alias}.v_text = ANY({params.add(exact, 'text[]')})"
            return clause
        values = [Decimal(str(v)) for v in operand] if storage is StorageClass.NUMERIC else list(operand)
        return f"{column} = ANY({params.add(values, _CASTS[storage] + '[]')})"
    assert not isinstance(operand, tuple)
    clause = f"{column} {_COMPARE[op]} {_bind(storage, operand, params)}"
    if storage is StorageClass.TEXT and op == "$eq" and len(str(operand)) >= TEXT_PREFIX:
        clause += f" AND {alias}.v_text = {params.add(str(operand), 'text')}"
    return clause


def _positive(op: str) -> str:
    return {"$ne": "$eq", "$nin": "$in"}.get(op, op)


def _meta_predicate(column: str, op: str, operand: Operand, storage: StorageClass, params: Params) -> str:
    cast = "bigint" if column.endswith(".id") else _CASTS[storage]

    def convert(value: FacetScalar) -> FacetScalar | int:
        # The one bigint column is the id, whose operands the query language parses as Decimals.
        return int(value) if cast == "bigint" and isinstance(value, Decimal) else value

    if op in ("$in", "$nin"):
        assert isinstance(operand, tuple)
        clause = f"{column} = ANY({params.add([convert(v) for v in operand], cast + '[]')})"
        return f"NOT ({clause})" if op == "$nin" else clause
    assert not isinstance(operand, tuple)
    if op == "$ne":
        return f"{column} <> {params.add(convert(operand), cast)}"
    return f"{column} {_COMPARE[op]} {params.add(convert(operand), cast)}"


class Compiler:
    """Compiles filters for one object (records, or entries of one list)."""

    def __init__(self, params: Params, object_id: int, *, probe_per_row: bool = False) -> None:
        """``probe_per_row``: the row form is for a walk (records in some order, each probed until
        the page is full). Its EXISTS probes are then fenced with ``OFFSET 0``, so PostgreSQL runs
        them per row instead of turning them into a semi-join over every match (at 1M records
        that hash join took seconds where the walk takes tens of milliseconds: docs/storage.md)."""
        self.params = params
        self.object_id = object_id
        self.fence = " OFFSET 0" if probe_per_row else ""

    # --- row form -----------------------------------------------------------------------

    def _record_column(self, target: Target, alias: str) -> str:
        return f"{alias}.parent_record_id" if target.parent else f"{alias}.id"

    def _exists(self, target: Target, predicate: str | None, alias: str) -> str:
        assert target.attribute is not None and target.facet is not None
        attr = self.params.add(target.attribute.id, "bigint")
        facet = self.params.add(target.facet.name, "text")
        where = (f"v.workspace_id = $1 AND v.record_id = {self._record_column(target, alias)} "
                 f"AND v.attribute_id = {attr} AND v.facet = {facet}")
        if predicate:
            where += f" AND {predicate}"
        return f"EXISTS (SELECT 1 FROM record_values v WHERE {where}{self.fence})"

    def row_predicate(self, node: Node, alias: str = "r") -> str:
        if isinstance(node, And):
            return "(" + " AND ".join(self.row_predicate(c, alias) for c in node.children) + ")"
        if isinstance(node, Or):
            return "(" + " OR ".join(self.row_predicate(c, alias) for c in node.children) + ")"
        if isinstance(node, Not):
            return f"NOT {self.row_predicate(node.child, alias)}"
        return self._condition_row(node, alias)

    def _condition_row(self, cond: Condition, alias: str) -> str:
        target = cond.target
        if target.meta is not None:
            if target.parent:
                column = (f"(SELECT p.{_META_COLUMNS[target.meta]} FROM records p "
                          f"WHERE p.workspace_id = $1 AND p.id = {alias}.parent_record_id)")
            else:
                column = f"{alias}.{_META_COLUMNS[target.meta]}"
            return _meta_predicate(column, cond.op, cond.operand, target.storage, self.params)
        if cond.op == "$exists":
            exists = self._exists(target, None, alias)
            return exists if cond.operand else f"NOT {exists}"
        if cond.op == "$changed":
            return self._changed(cond, alias)
        op = _positive(cond.op)
        exists = self._exists(target, _value_predicate(target.storage, op, cond.operand, self.params), alias)
        return f"NOT {exists}" if op != cond.op else exists

    def _history_match(self, target: Target, values: tuple[FacetScalar, ...], alias: str) -> str:
        items = [float(v) if isinstance(v, Decimal) else v for v in values]
        options = " OR ".join(f"{alias}.value @> {self.params.add(orjson.dumps([item]).decode(), 'jsonb')}"
                              for item in items)
        return f"({options})"

    def _changed(self, cond: Condition, alias: str) -> str:
        target, spec = cond.target, cond.operand
        assert isinstance(spec, Changed) and target.attribute is not None
        attr = self.params.add(target.attribute.id, "bigint")
        since = self.params.add(spec.since or datetime.min.replace(year=1900), "timestamptz")
        record = f"{alias}.id"
        attribute_key = str(target.attribute.id).replace("'", "")  # digits only: safe to inline
        since_of_current = (f"coalesce(({alias}.value_meta -> '{attribute_key}' ->> 'since')::timestamptz, "
                            f"{alias}.created_at)")
        history = (f"attribute_history h WHERE h.workspace_id = $1 AND h.record_id = {record} "
                   f"AND h.attribute_id = {attr}")
        parts = []
        if spec.to is not None and spec.from_ is None:
            current = self._exists(target, _value_predicate(target.storage, "$in", spec.to, self.params), alias)
            parts.append(f"(EXISTS (SELECT 1 FROM {history} AND h.active_from >= {since} "
                         f"AND {self._history_match(target, spec.to, 'h')}) "
                         f"OR ({current} AND {since_of_current} >= {since}))")
        elif spec.from_ is not None:
            after = ""
            if spec.to is not None:
                current = self._exists(target, _value_predicate(target.storage, "$in", spec.to, self.params), alias)
                after = (f" AND (EXISTS (SELECT 1 FROM attribute_history h2 WHERE h2.workspace_id = $1 "
                         f"AND h2.record_id = {record} AND h2.attribute_id = {attr} "
                         f"AND h2.active_from = h.active_until AND {self._history_match(target, spec.to, 'h2')}) "
                         f"OR ({current} AND {since_of_current} = h.active_until))")
            parts.append(f"EXISTS (SELECT 1 FROM {history} AND h.active_until >= {since} "
                         f"AND {self._history_match(target, spec.from_, 'h')}{after})")
        else:
            parts.append(f"(EXISTS (SELECT 1 FROM {history} AND h.active_until >= {since}) "
                         f"OR {since_of_current} > {alias}.created_at AND {since_of_current} >= {since})")
        return " AND ".join(parts)

    # --- set form -----------------------------------------------------------------------

    def all_ids(self) -> str:
        return (f"SELECT a.id FROM records a WHERE a.workspace_id = $1 "
                f"AND a.object_id = {self.params.add(self.object_id, 'bigint')}")

    def id_set(self, node: Node) -> str:
        if isinstance(node, And):
            return " INTERSECT ".join(f"({self.id_set(c)})" for c in node.children)
        if isinstance(node, Or):
            return " UNION ".join(f"({self.id_set(c)})" for c in node.children)
        if isinstance(node, Not):
            return f"({self.all_ids()}) EXCEPT ({self.id_set(node.child)})"
        return self._condition_set(node)

    def _condition_set(self, cond: Condition) -> str:
        target = cond.target
        negative = cond.op in ("$ne", "$nin") or (cond.op == "$exists" and not cond.operand)
        if target.meta is not None or cond.op == "$changed" or target.parent:
            return f"SELECT r.id FROM records r WHERE r.workspace_id = $1 AND r.object_id = " \
                   f"{self.params.add(self.object_id, 'bigint')} AND {self._condition_row(cond, 'r')}"
        assert target.attribute is not None and target.facet is not None
        attr = self.params.add(target.attribute.id, "bigint")
        facet = self.params.add(target.facet.name, "text")
        where = f"v.workspace_id = $1 AND v.attribute_id = {attr} AND v.facet = {facet}"
        if cond.op != "$exists":
            where += " AND " + _value_predicate(target.storage, _positive(cond.op), cond.operand, self.params)
        positive = f"SELECT v.record_id FROM record_values v WHERE {where}"
        return f"({self.all_ids()}) EXCEPT ({positive})" if negative else positive

    # --- sorting --------------------------------------------------------------------------

    def sort_expression(self, key: SortKey, alias: str = "r") -> str:
        target = key.target
        if target.meta is not None:
            if target.parent:
                return (f"(SELECT p.{_META_COLUMNS[target.meta]} FROM records p "
                        f"WHERE p.workspace_id = $1 AND p.id = {alias}.parent_record_id)")
            return f"{alias}.{_META_COLUMNS[target.meta]}"
        assert target.attribute is not None and target.facet is not None
        attr = self.params.add(target.attribute.id, "bigint")
        facet = self.params.add(target.facet.name, "text")
        record = f"{alias}.parent_record_id" if target.parent else f"{alias}.id"
        return (f"(SELECT {value_column(target.storage, 'v')} FROM record_values v WHERE v.workspace_id = $1 "
                f"AND v.record_id = {record} AND v.attribute_id = {attr} AND v.facet = {facet} "
                f"AND v.ord = 0 LIMIT 1)")

    def keyset_after(self, expressions: list[tuple[str, bool, StorageClass]], values: list[SortValue], last_id: int,
                     id_column: str = "r.id") -> str:
        """Rows strictly after (values..., last_id) in ``ORDER BY expr [DESC] NULLS LAST, id``."""
        clauses = []
        equal_so_far: list[str] = []
        for (expression, descending, storage), value in zip(expressions, values, strict=True):
            if value is not None:
                bound = _bind(storage, value, self.params) if storage is not StorageClass.TEXT else \
                    self.params.add(value, "text") + ' COLLATE "C"'
                after = f"({expression} {'<' if descending else '>'} {bound} OR {expression} IS NULL)"
                clauses.append(" AND ".join([*equal_so_far, after]))
                equal_so_far.append(f"{expression} = {bound}")
            else:
                equal_so_far.append(f"{expression} IS NULL")
        clauses.append(" AND ".join([*equal_so_far, f"{id_column} > {self.params.add(last_id, 'bigint')}"]))
        return "(" + " OR ".join(f"({c})" for c in clauses) + ")"
