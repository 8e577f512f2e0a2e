"""The pure half of aggregations (``records.aggregate``): planning and reading values back, no I/O."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from schema_registry.definitions import (
    AttributeDefinition,
    AttributeTypeName,
    ObjectDefinition,
    ObjectType,
    SelectOption,
)
from tessera.errors import BadRequest
from tessera.records.aggregate import (
    GroupRequest,
    MetricRequest,
    NumericPart,
    group_json,
    metric_json,
    plan_aggregate,
)

STAGE = AttributeDefinition(1, 9, "stage", "Stage", AttributeTypeName.SELECT,
                            select_options=(SelectOption("o1", "Open"), SelectOption("o2", "Won")))
OBJ = ObjectDefinition(9, 1, "deal", "Deal", ObjectType.CUSTOM, attributes=(
    STAGE, AttributeDefinition(2, 9, "amount", "Amount", AttributeTypeName.CURRENCY),
    AttributeDefinition(3, 9, "due", "Due", AttributeTypeName.DATE),
    AttributeDefinition(4, 9, "qty", "Qty", AttributeTypeName.NUMBER)))


def test_group_values_read_as_documented() -> None:
    plan = plan_aggregate(OBJ, None, [GroupRequest("stage"), GroupRequest("due", "quarter"), GroupRequest("due")],
                          [MetricRequest("count")], 10)
    stage, quarter, due = plan.groups
    code, = plan_aggregate(OBJ, None, [GroupRequest("amount.currency_code")], [MetricRequest("count")], 1).groups
    assert group_json(stage, "o2") == {"id": "o2", "title": "Won"}
    assert group_json(stage, "gone") == {"id": "gone", "title": "gone"}  # option deleted since
    assert group_json(quarter, datetime(2026, 4, 1, tzinfo=UTC)) == "2026-04-01"
    assert group_json(due, datetime(2026, 4, 1, 8, 30, tzinfo=UTC)) == "2026-04-01T08:30:00Z"
    assert group_json(code, "EUR") == "EUR" and group_json(stage, None) is None


def test_metrics_over_no_values() -> None:
    plan = plan_aggregate(OBJ, None, [], [MetricRequest("sum", "qty"), MetricRequest("avg", "qty"),
                                          MetricRequest("sum", "amount"), MetricRequest("max", "amount")], 10)
    empty = NumericPart(None, 0, None, None)
    total, mean, money, top = plan.metrics
    assert metric_json(total, 3, empty, None) == 0 and metric_json(mean, 3, empty, None) is None
    assert metric_json(money, 3, empty, None) == {"amount": 0, "currency_code": None}
    assert metric_json(top, 3, empty, None) is None
    part = NumericPart(Decimal("10.50"), 2, Decimal("0.5"), Decimal(10), "EUR", "EUR")
    assert metric_json(mean, 2, part, None) == 5.25
    assert metric_json(top, 2, part, None) == {"amount": 10, "currency_code": "EUR"}


@pytest.mark.parametrize(("groups", "metrics", "limit", "path"), [
    ([GroupRequest("qty", "month")], [MetricRequest("count")], 10, "group_by[0].bucket"),
    ([GroupRequest("id")], [MetricRequest("count")], 10, "group_by[0]"),
    ([], [MetricRequest("min", "stage")], 10, "metrics[0].attribute"),
    ([], [MetricRequest("sum", "amount.currency_code")], 10, "metrics[0].attribute"),
    ([], [MetricRequest("count_distinct", "created_at")], 10, "metrics[0].attribute"),
    ([GroupRequest("qty")] * 4, [MetricRequest("count")], 10, "group_by"),
    ([], [MetricRequest("count")] * 11, 10, "metrics"),
    ([], [MetricRequest("count")], 1001, "limit"),
])
def test_refusals_name_the_path(groups: list[GroupRequest], metrics: list[MetricRequest], limit: int,
                                path: str) -> None:
    with pytest.raises(BadRequest) as caught:
        plan_aggregate(OBJ, None, groups, metrics, limit)
    assert [e.path for e in caught.value.errors] == [path]
