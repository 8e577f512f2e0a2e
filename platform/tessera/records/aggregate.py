"""Aggregations over records (or a list's entries): what a request asks for, validated against the
object's attributes into an ``AggregatePlan``, and how a bucket's raw database values read back.
Pure; the SQL is in ``records.aggregate_sql``. Semantics are documented in docs/query.md
("Aggregations").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Literal

from schema_registry.definitions import AttributeTypeName, ObjectDefinition
from schema_registry.query import Node, QueryError, Target, resolve_target
from schema_registry.types.base import StorageClass
from tessera.errors import BadRequest, FieldError
from tessera.wire import JsonObject, JsonValue, iso

Bucket = Literal["day", "week", "month", "quarter", "year"]
MetricOp = Literal["count", "sum", "avg", "min", "max", "count_distinct"]
NUMERIC_OPS = frozenset({"sum", "avg", "min", "max"})
MAX_GROUP_BY = 3
MAX_METRICS = 10
MAX_LIMIT = 1000
_NUMERIC_TYPES = frozenset({AttributeTypeName.NUMBER, AttributeTypeName.CURRENCY})


@dataclass(frozen=True, slots=True)
class GroupKey:
    """One ``group_by`` member: an attribute facet or ``created_at``/``updated_at``, maybe bucketed."""

    target: Target
    bucket: Bucket | None = None


@dataclass(frozen=True, slots=True)
class MetricSpec:
    op: MetricOp
    target: Target | None = None

    @property
    def currency(self) -> bool:
        return self.target is not None and self.target.attribute is not None \
            and self.target.attribute.type is AttributeTypeName.CURRENCY


@dataclass(frozen=True, slots=True)
class AggregatePlan:
    node: Node | None
    groups: tuple[GroupKey, ...]
    metrics: tuple[MetricSpec, ...]
    limit: int


@dataclass(frozen=True, slots=True)
class GroupRequest:
    """A ``group_by`` member as sent: a name, or a name with a bucket."""

    attribute: str
    bucket: Bucket | None = None


@dataclass(frozen=True, slots=True)
class MetricRequest:
    op: MetricOp
    attribute: str | None = None


def _refuse(path: str, message: str) -> BadRequest:
    return BadRequest(f"Invalid aggregation: {path}: {message}", errors=[FieldError(path, message)])


def _resolve(obj: ObjectDefinition, name: str, path: str) -> Target:
    try:
        return resolve_target(obj, name, path)
    except QueryError as err:
        raise _refuse(err.path, err.message) from err


def resolve_group(obj: ObjectDefinition, group: GroupRequest, path: str) -> GroupKey:
    target = _resolve(obj, group.attribute, f"{path}.attribute" if group.bucket else path)
    if target.meta == "id":
        raise _refuse(path, "cannot group by id (every record is its own group)")
    if group.bucket is not None and target.storage is not StorageClass.TIMESTAMP:
        raise _refuse(f"{path}.bucket", f"'{group.attribute[:80]}' is not a date: only dates, created_at and "
                      "updated_at take a bucket")
    return GroupKey(target, group.bucket)


def resolve_metric(obj: ObjectDefinition, metric: MetricRequest, path: str) -> MetricSpec:
    if metric.op == "count":
        if metric.attribute is not None:
            raise _refuse(f"{path}.attribute", "count takes no attribute (count_distinct counts values)")
        return MetricSpec("count")
    if metric.attribute is None:
        raise _refuse(f"{path}.attribute", f"{metric.op} needs an attribute")
    target = _resolve(obj, metric.attribute, f"{path}.attribute")
    if target.attribute is None:
        raise _refuse(f"{path}.attribute", f"{metric.op} takes an attribute, not '{target.path}'")
    if metric.op in NUMERIC_OPS and (target.attribute.type not in _NUMERIC_TYPES
                                     or target.storage is not StorageClass.NUMERIC):
        raise _refuse(f"{path}.attribute", f"{metric.op} needs a number or currency attribute; "
                      f"'{target.path}' is {target.attribute.type.value}")
    return MetricSpec(metric.op, target)


def plan_aggregate(obj: ObjectDefinition, node: Node | None, groups: list[GroupRequest],
                   metrics: list[MetricRequest], limit: int) -> AggregatePlan:
    """Validate a request's ``group_by``, ``metrics`` and ``limit`` (400 naming the path at fault)."""
    if len(groups) > MAX_GROUP_BY:
        raise _refuse("group_by", f"at most {MAX_GROUP_BY} group_by members")
    if not metrics or len(metrics) > MAX_METRICS:
        raise _refuse("metrics", f"between 1 and {MAX_METRICS} metrics")
    if not 1 <= limit <= MAX_LIMIT:
        raise _refuse("limit", f"between 1 and {MAX_LIMIT}")
    keys = tuple(resolve_group(obj, g, f"group_by[{i}]") for i, g in enumerate(groups))
    specs = tuple(resolve_metric(obj, m, f"metrics[{i}]") for i, m in enumerate(metrics))
    return AggregatePlan(node, keys, specs, limit)


# --- reading values back -----------------------------------------------------------------------

def number_json(value: Decimal | float | None) -> JsonValue:
    """A numeric result as a JSON number: an integer when it is whole."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def group_json(key: GroupKey, raw: object) -> JsonValue:
    """A group's value: a select's option (id and title), a bucket's first day, a date-time in
    RFC 3339, a number, a text or a boolean; ``None`` for the records without a value."""
    if raw is None:
        return None
    if key.bucket is not None:
        assert isinstance(raw, datetime)
        return raw.astimezone(UTC).date().isoformat()
    if isinstance(raw, datetime):
        return iso(raw)
    if isinstance(raw, Decimal):
        return number_json(raw)
    attribute = key.target.attribute
    if attribute is not None and attribute.type is AttributeTypeName.SELECT and key.target.facet is not None \
            and key.target.facet.name == "":
        option = attribute.option_by_id(str(raw))
        return {"id": str(raw), "title": option.name if option is not None else str(raw)}
    assert isinstance(raw, (str, bool))
    return raw


@dataclass(frozen=True, slots=True)
class NumericPart:
    """What the database returns for one numeric metric of one bucket."""

    total: Decimal | None
    values: int
    low: Decimal | None
    high: Decimal | None
    currency_low: str | None = None
    currency_high: str | None = None


@dataclass(frozen=True, slots=True)
class BucketRow:
    """One output row: ``rank`` 1..limit for a group, ``limit + 1`` for the ``other`` bucket."""

    rank: int
    groups: int
    keys: list[object]
    count: int
    numeric: list[NumericPart | None]
    distinct: list[int | None]



def metric_json(spec: MetricSpec, count: int, part: NumericPart | None, distinct: int | None) -> JsonValue:
    """One metric of one bucket. ``sum`` over no values is 0; ``avg``/``min``/``max`` are null."""
    if spec.op == "count":
        return count
    if spec.op == "count_distinct":
        return distinct or 0
    assert part is not None
    if spec.op == "sum":
        amount: Decimal | float | None = part.total if part.total is not None else Decimal(0)
    elif spec.op == "avg":
        amount = None if not part.values or part.total is None else float(part.total / part.values)
    else:
        amount = part.low if spec.op == "min" else part.high
    if not spec.currency:
        return number_json(amount)
    if amount is None or part.currency_low is None:
        return None if spec.op != "sum" or part.values else {"amount": 0, "currency_code": None}
    return {"amount": number_json(amount), "currency_code": part.currency_low}


def mixed_currency(spec: MetricSpec, part: NumericPart) -> bool:
    return spec.currency and part.currency_low is not None and part.currency_low != part.currency_high


def aggregate_json(plan: AggregatePlan, rows: list[BucketRow]) -> JsonObject:
    """The response: ``buckets`` in rank order and ``other`` (null when every group fits)."""
    buckets: list[JsonValue] = []
    other: JsonValue = None
    groups = 0
    for row in rows:
        for spec, part in zip(plan.metrics, row.numeric, strict=True):
            if part is not None and mixed_currency(spec, part):
                assert spec.target is not None
                raise BadRequest(
                    f"Cannot add up '{spec.target.path}' across currencies ({part.currency_low}, "
                    f"{part.currency_high}, ...): group by {spec.target.path}.currency_code or filter on it",
                    errors=[FieldError("metrics", f"mixed currencies in '{spec.target.path}'")])
        groups = max(groups, row.groups)
        bucket: JsonObject = {
            "group": [group_json(k, v) for k, v in zip(plan.groups, row.keys, strict=True)] if row.rank <= plan.limit
            else [],
            "count": row.count,
            "metrics": [metric_json(spec, row.count, part, distinct)
                        for spec, part, distinct in zip(plan.metrics, row.numeric, row.distinct, strict=True)]}
        if row.rank <= plan.limit:
            buckets.append(bucket)
        else:
            other = bucket
    return {"buckets": buckets, "other": other, "groups": groups, "limit": plan.limit}
