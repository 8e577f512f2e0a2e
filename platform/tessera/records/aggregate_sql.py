"""Run an ``AggregatePlan`` as one statement over the EAV value table (one snapshot).

Shape (CTEs):
- ``m``: the matching record ids (the filter's ``Compiler.id_set``, as the listing's count uses);
- ``k``: one row per (record, group): each ``group_by`` member is a LEFT JOIN to its values, so a
  record without a value falls in the NULL group and a multi-value attribute puts the record in one
  group per value (DISTINCT: once per group, however many of its values fall there);
- ``per``: each row with its record's numeric metric inputs (sum, count, min, max of the values,
  and the lowest/highest currency code for currency attributes);
- ``grp``/``ranked``: the groups, ranked by count desc then group values (NULLS LAST);
- ``cd<i>``: a ``count_distinct`` per output slot (rank, or ``limit + 1`` for everything past the
  limit), recomputed over the rows, never summed.
The answer holds at most ``limit + 1`` rows; the work is linear in the matching rows, bounded by
the statement timeout.
"""

from __future__ import annotations

import asyncpg

from schema_registry.definitions import AttributeTypeName
from schema_registry.types.base import StorageClass
from tessera.db.sql import Params
from tessera.db.tenant import Tenant
from tessera.records.aggregate import AggregatePlan, BucketRow, GroupKey, MetricSpec, NumericPart
from tessera.records.sql import INDEXED_TEXT, Compiler

_COLUMN = {StorageClass.TEXT: 'v_text COLLATE "C"', StorageClass.NUMERIC: "v_num",
           StorageClass.TIMESTAMP: "v_ts", StorageClass.BOOLEAN: "v_bool"}
_TYPED = {StorageClass.TEXT: "v_text", StorageClass.NUMERIC: "v_num", StorageClass.TIMESTAMP: "v_ts",
          StorageClass.BOOLEAN: "v_bool"}
_NULL_STANDIN = {StorageClass.TEXT: "''", StorageClass.NUMERIC: "0", StorageClass.TIMESTAMP: "'epoch'::timestamptz",
                 StorageClass.BOOLEAN: "false"}


def _values_join(params: Params, alias: str, record: str, key: GroupKey | MetricSpec, facet: str | None = None) -> str:
    """The value rows of one attribute facet of a record. Such a row always holds its typed column;
    saying so (``IS NOT NULL``) lets PostgreSQL use the partial value indexes."""
    target = key.target
    assert target is not None and target.attribute is not None and target.facet is not None
    storage = StorageClass.TEXT if facet is not None else target.storage
    return (f"{alias}.workspace_id = $1 AND {alias}.record_id = {record} "
            f"AND {alias}.attribute_id = {params.add(target.attribute.id, 'bigint')} "
            f"AND {alias}.facet = {params.add(target.facet.name if facet is None else facet, 'text')} "
            f"AND {alias}.{_TYPED[storage]} IS NOT NULL")


def _group_column(key: GroupKey, alias: str) -> str:
    """A group value's column. Select option ids are at most 64 characters: their indexed prefix is
    the whole id, so a count by a select reads the value index alone."""
    attribute = key.target.attribute
    if attribute is not None and attribute.type is AttributeTypeName.SELECT and key.target.storage is StorageClass.TEXT:
        return INDEXED_TEXT.format(a=alias)
    return f"{alias}.{_COLUMN[key.target.storage]}"


def _counts_from_values(plan: AggregatePlan) -> bool:
    """No filter, one single-value attribute group and only counts: the groups are counted on the
    value index alone and the records without a value are the object's count minus the valued."""
    if plan.node is not None or len(plan.groups) != 1 or any(m.op != "count" for m in plan.metrics):
        return False
    attribute = plan.groups[0].target.attribute
    return attribute is not None and not attribute.is_multi_value and not plan.groups[0].target.parent


def _value_counts(params: Params, plan: AggregatePlan, object_id: int) -> str:
    key = plan.groups[0]
    expression = _group_column(key, "v")
    if key.bucket is not None:
        expression = f"date_trunc({params.add(key.bucket, 'text')}, {expression}, 'UTC')"
    valued = f"record_values v WHERE {_values_join(params, 'v', 'v.record_id', key)}"
    everything = (f"SELECT count(*) FROM records r WHERE r.workspace_id = $1 "
                  f"AND r.object_id = {params.add(object_id, 'bigint')}")
    return (f"grp AS (SELECT * FROM (SELECT {expression} AS k0, count(*) AS n FROM {valued} GROUP BY 1 "
            f"UNION ALL SELECT NULL, ({everything}) - (SELECT count(*) FROM {valued})) AS counted WHERE n > 0)")


def _key_expression(params: Params, index: int, key: GroupKey) -> tuple[str, str]:
    """The group value's expression and the join it needs (empty for metadata)."""
    target = key.target
    if target.meta is not None:
        expression, join = f"m.{target.meta}", ""
    else:
        alias = f"g{index}"
        expression = _group_column(key, alias)
        join = f" LEFT JOIN record_values {alias} ON {_values_join(params, alias, 'm.id', key)}"
    if key.bucket is not None:
        expression = f"date_trunc({params.add(key.bucket, 'text')}, {expression}, 'UTC')"
    return expression, join


def _numeric_inputs(params: Params, index: int, spec: MetricSpec) -> tuple[str, str]:
    """Per-record columns ``s/c/lo/hi/cl/ch<index>`` of one numeric metric, and their join."""
    assert spec.target is not None and spec.target.attribute is not None
    x, cc = f"x{index}", f"xc{index}"
    currency = (f" LEFT JOIN record_values {cc} ON {_values_join(params, cc, f'{x}.record_id', spec, 'currency_code')}"
                f" AND {cc}.attribute_id = {x}.attribute_id AND {cc}.ord = {x}.ord") if spec.currency else ""
    code = f"{cc}.v_text COLLATE \"C\"" if spec.currency else "NULL::text"
    if not spec.target.attribute.is_multi_value:
        columns = (f"{x}.v_num AS s{index}, ({x}.v_num IS NOT NULL)::int AS c{index}, {x}.v_num AS lo{index}, "
                   f"{x}.v_num AS hi{index}, {code} AS cl{index}, {code} AS ch{index}")
        return columns, f" LEFT JOIN record_values {x} ON {_values_join(params, x, 'k.id', spec)}{currency}"
    inner = (f"SELECT sum({x}.v_num) AS s, count({x}.v_num) AS c, min({x}.v_num) AS lo, max({x}.v_num) AS hi, "
             f"min({code}) AS cl, max({code}) AS ch FROM record_values {x}{currency} "
             f"WHERE {_values_join(params, x, 'k.id', spec)}")
    columns = (f"p{index}.s AS s{index}, p{index}.c AS c{index}, p{index}.lo AS lo{index}, p{index}.hi AS hi{index}, "
               f"p{index}.cl AS cl{index}, p{index}.ch AS ch{index}")
    return columns, f" LEFT JOIN LATERAL ({inner}) p{index} ON TRUE"


def _grouped_ctes(params: Params, plan: AggregatePlan, object_id: int, numeric: list[int]) -> list[str]:
    """``m``, ``k``, ``per`` and ``grp``: the general plan, any filter, keys and metrics."""
    compiler = Compiler(params, object_id)
    where = f"r.workspace_id = $1 AND r.object_id = {params.add(object_id, 'bigint')}"
    if plan.node is not None:
        where += f" AND r.id IN ({compiler.id_set(plan.node)})"
    keys = [f"k{i}" for i in range(len(plan.groups))]
    expressions, joins = [], []
    for index, key in enumerate(plan.groups):
        expression, join = _key_expression(params, index, key)
        expressions.append(f"{expression} AS k{index}")
        joins.append(join)
    multi = any(k.target.attribute is not None and k.target.attribute.is_multi_value for k in plan.groups)
    distinct = "DISTINCT " if multi else ""
    k_columns = ", ".join(["m.id", *expressions])
    # Not MATERIALIZED: PostgreSQL keeps a CTE read twice (by a count_distinct) and inlines the others.
    ctes = [f"m AS (SELECT r.id, r.created_at, r.updated_at FROM records r WHERE {where})",
            f"k AS (SELECT {distinct}{k_columns} FROM m{''.join(joins)})"]
    per_columns, per_joins = ["k.*"], []
    for i in numeric:
        columns, join = _numeric_inputs(params, i, plan.metrics[i])
        per_columns.append(columns)
        per_joins.append(join)
    ctes.append(f"per AS (SELECT {', '.join(per_columns)} FROM k{''.join(per_joins)})")
    aggregates = ["count(*) AS n"] + [f"sum(s{i}) AS s{i}, sum(c{i}) AS c{i}, min(lo{i}) AS lo{i}, "
                                      f"max(hi{i}) AS hi{i}, min(cl{i}) AS cl{i}, max(ch{i}) AS ch{i}"
                                      for i in numeric]
    group_by = f" GROUP BY {', '.join(keys)}" if keys else ""
    ctes.append(f"grp AS (SELECT {', '.join([*keys, *aggregates])} FROM per{group_by})")
    return ctes


def build_statement(plan: AggregatePlan, object_id: int) -> tuple[str, Params]:
    params = Params()
    limit = int(plan.limit)
    keys = [f"k{i}" for i in range(len(plan.groups))]
    numeric = [i for i, spec in enumerate(plan.metrics) if spec.op not in ("count", "count_distinct")]
    # Metrics on one attribute (sum and avg of score) share its per-record inputs: one join.
    first: dict[tuple[int, str], int] = {}
    source = {}
    for i in numeric:
        target = plan.metrics[i].target
        assert target is not None and target.attribute is not None and target.facet is not None
        source[i] = first.setdefault((target.attribute.id, target.facet.name), i)
    if _counts_from_values(plan):
        ctes = [_value_counts(params, plan, object_id)]
    else:
        ctes = _grouped_ctes(params, plan, object_id, sorted(set(source.values())))
    order = ", ".join(["n DESC", *(f"{k} ASC NULLS LAST" for k in keys)])
    ctes.append(f"ranked AS (SELECT grp.*, row_number() OVER (ORDER BY {order}) AS rn, count(*) OVER () AS groups "
                f"FROM grp)")
    same_group = " AND ".join(
        f"(k.{k} IS NULL) = (q.{k} IS NULL) AND coalesce(k.{k}, {_NULL_STANDIN[_storage(g)]}) = "
        f"coalesce(q.{k}, {_NULL_STANDIN[_storage(g)]})" for k, g in zip(keys, plan.groups, strict=True)) or "TRUE"
    distinct_metrics = [i for i, spec in enumerate(plan.metrics) if spec.op == "count_distinct"]
    for i in distinct_metrics:
        spec = plan.metrics[i]
        assert spec.target is not None
        column = _COLUMN[spec.target.storage]
        ctes.append(f"cd{i} AS (SELECT least(q.rn, {limit + 1}) AS slot, count(DISTINCT d.{column}) AS d "
                    f"FROM k JOIN ranked q ON {same_group} JOIN record_values d "
                    f"ON {_values_join(params, 'd', 'k.id', spec)} GROUP BY 1)")
    numeric_top = [f"q.s{j}, q.c{j}, q.lo{j}, q.hi{j}, q.cl{j}, q.ch{j}" for j in (source[i] for i in numeric)]
    numeric_rest = [f"sum(q.s{j}), sum(q.c{j}), min(q.lo{j}), max(q.hi{j}), min(q.cl{j}), max(q.ch{j})"
                    for j in (source[i] for i in numeric)]
    top = ", ".join(["q.rn", "q.groups", *(f"q.{k}" for k in keys), "q.n", *numeric_top,
                     *(f"(SELECT d FROM cd{i} WHERE slot = q.rn) AS d{i}" for i in distinct_metrics)])
    rest = ", ".join([f"{limit + 1}::bigint", "max(q.groups)", *(f"NULL AS {k}" for k in keys), "sum(q.n)::bigint",
                      *numeric_rest, *(f"(SELECT d FROM cd{i} WHERE slot = {limit + 1})" for i in distinct_metrics)])
    sql = (f"WITH {', '.join(ctes)} "
           f"SELECT {top} FROM ranked q WHERE q.rn <= {limit} "
           f"UNION ALL SELECT {rest} FROM ranked q WHERE q.rn > {limit} HAVING count(*) > 0 "
           f"ORDER BY 1")
    return sql, params


def _storage(key: GroupKey) -> StorageClass:
    return StorageClass.TIMESTAMP if key.bucket is not None else key.target.storage


def _row(plan: AggregatePlan, record: asyncpg.Record) -> BucketRow:
    values = list(record.values())
    groups = len(plan.groups)
    keys = values[2:2 + groups]
    cursor = 3 + groups
    numeric: list[NumericPart | None] = []
    distinct: list[int | None] = []
    for spec in plan.metrics:
        if spec.op in ("count", "count_distinct"):
            numeric.append(None)
            continue
        s, c, lo, hi, cl, ch = values[cursor:cursor + 6]
        cursor += 6
        numeric.append(NumericPart(s, int(c or 0), lo, hi, cl, ch))
    for spec in plan.metrics:
        if spec.op == "count_distinct":
            distinct.append(None if values[cursor] is None else int(values[cursor]))
            cursor += 1
        else:
            distinct.append(None)
    return BucketRow(int(values[0]), int(values[1]), keys, int(values[2 + groups]), numeric, distinct)


async def run_aggregate(tenant: Tenant, plan: AggregatePlan, object_id: int) -> list[BucketRow]:
    """The ranked groups (at most ``limit``) then, if any group is past the limit, the ``other`` row."""
    sql, params = build_statement(plan, object_id)
    return [_row(plan, r) for r in await tenant.fetch(sql, *params.values)]
