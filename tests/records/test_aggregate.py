"""Aggregations (``POST /v1/objects/{slug}/records/aggregate`` and a list's entries).

The property checks the API's buckets against a pure-Python evaluation over the random dataset of
the query-language property (``test_query_properties``: ~50 records with a select, a multi-value
text, a number, a date, a boolean, a multi-value email and a currency, with records lacking values):
random filters, 0-2 group_by members (plain, facets, date buckets, created_at), random metrics
and limits, so counts, sums, min/max, averages, count_distinct, multi-value rows, null groups,
ranking ties and the recomputed ``other`` bucket are all exercised.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from schema_registry.definitions import AttributeTypeName
from schema_registry.evaluate import RecordState, evaluate
from schema_registry.query import Target, parse_filter, resolve_target
from schema_registry.types import attribute_type
from tessera.wire import iso
from tests.conftest import Workspace, WorkspaceFactory
from tests.records.test_query_properties import (  # noqa: F401  (the dataset fixture)
    PREPARED,
    PROPERTY_SETTINGS,
    SLUG,
    Dataset,
    dataset,
    fields,
    filters,
    prepared,
)

PATH = f"/v1/objects/{SLUG}/records/aggregate"
GROUPS: list[Any] = ["stage", "tags", "flag", "qty", "emails", "emails.domain", "price.currency_code",
                     "due", {"attribute": "due", "bucket": "day"}, {"attribute": "due", "bucket": "week"},
                     {"attribute": "due", "bucket": "month"}, {"attribute": "due", "bucket": "quarter"},
                     {"attribute": "due", "bucket": "year"}, {"attribute": "created_at", "bucket": "day"}]
METRICS: list[dict[str, str]] = [
    {"op": "count"}, {"op": "sum", "attribute": "qty"}, {"op": "avg", "attribute": "qty"},
    {"op": "min", "attribute": "qty"}, {"op": "max", "attribute": "qty"},
    {"op": "count_distinct", "attribute": "tags"}, {"op": "count_distinct", "attribute": "stage"},
    {"op": "count_distinct", "attribute": "emails.domain"}, {"op": "sum", "attribute": "price"},
    {"op": "max", "attribute": "price"}]


# --- the oracle --------------------------------------------------------------------------------

def _facet_values(target: Target, record: RecordState) -> list[Any]:
    if target.meta is not None:
        return [record.created_at if target.meta == "created_at" else record.updated_at]
    assert target.attribute is not None and target.facet is not None
    kind = attribute_type(target.attribute.type)
    return [f.value for stored in record.data.get(str(target.attribute.id)) or []
            for f in kind.facet_values(stored, target.attribute) if f.facet == target.facet.name]


def _truncate(value: datetime, bucket: str) -> datetime:
    day = value.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    if bucket == "week":
        return day - timedelta(days=day.weekday())
    if bucket == "month":
        return day.replace(day=1)
    if bucket == "quarter":
        return day.replace(day=1, month=3 * ((day.month - 1) // 3) + 1)
    if bucket == "year":
        return day.replace(day=1, month=1)
    return day


def _group_json(target: Target, bucket: str | None, value: Any) -> Any:
    if value is None:
        return None
    if bucket is not None:
        return _truncate(value, bucket).date().isoformat()
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, Decimal):
        return float(value)
    if target.attribute is not None and target.attribute.type is AttributeTypeName.SELECT:
        option = target.attribute.option_by_id(value)
        assert option is not None
        return {"id": value, "title": option.name}
    return value


def _currency(target: Target, record: RecordState) -> list[str]:
    assert target.attribute is not None
    return [stored["currency_code"] for stored in record.data.get(str(target.attribute.id)) or []]


def _metric(data: Dataset, metric: dict[str, str], rows: list[RecordState]) -> tuple[Any, bool]:
    """A metric over the rows of one bucket, and whether it mixes currencies."""
    if metric["op"] == "count":
        return len(rows), False
    target = resolve_target(data.obj, metric["attribute"], "m")
    values = [v for r in rows for v in _facet_values(target, r)]
    if metric["op"] == "count_distinct":
        return len(set(values)), False
    is_currency = target.attribute is not None and target.attribute.type is AttributeTypeName.CURRENCY
    codes = {c for r in rows for c in _currency(target, r)} if is_currency else set()
    amount: Any
    if metric["op"] == "sum":
        amount = float(sum(values, Decimal(0)))
    elif not values:
        amount = None
    elif metric["op"] == "avg":
        amount = float(sum(values, Decimal(0)) / len(values))
    else:
        amount = float(min(values) if metric["op"] == "min" else max(values))
    if is_currency:
        if amount is None or not codes:
            return (None if metric["op"] != "sum" or values else {"amount": 0, "currency_code": None}), False
        return {"amount": amount, "currency_code": min(codes)}, len(codes) > 1
    return amount, False


def expected(data: Dataset, flt: Any, group_by: list[Any], metrics: list[dict[str, str]], limit: int
             ) -> tuple[dict[str, Any] | None, bool]:
    node = parse_filter(data.obj, flt)
    keys = [(resolve_target(data.obj, g["attribute"] if isinstance(g, dict) else g, "g"),
             g.get("bucket") if isinstance(g, dict) else None) for g in group_by]
    groups: dict[tuple[Any, ...], list[RecordState]] = defaultdict(list)
    for record in data.states:
        if not evaluate(node, record):
            continue
        per_key = []
        for target, bucket in keys:
            found = {_truncate(v, bucket) if bucket else v for v in _facet_values(target, record)}
            per_key.append(found or {None})
        for combination in set(itertools.product(*per_key)):
            groups[combination].append(record)

    def order(item: tuple[tuple[Any, ...], list[RecordState]]) -> tuple[Any, ...]:
        return (-len(item[1]), *((v is None, v if v is not None else 0) for v in item[0]))

    ranked = sorted(groups.items(), key=order)
    if not group_by and not ranked:
        ranked = [((), [])]
    mixed = False

    def bucket(key: tuple[Any, ...], rows: list[RecordState], grouped: bool) -> dict[str, Any]:
        nonlocal mixed
        values = []
        for metric in metrics:
            value, mixes = _metric(data, metric, rows)
            mixed = mixed or mixes
            values.append(value)
        group = [_group_json(t, b, v) for (t, b), v in zip(keys, key, strict=True)] if grouped else []
        return {"group": group, "count": len(rows), "metrics": values}

    buckets = [bucket(k, rows, True) for k, rows in ranked[:limit]]
    other = None
    if len(ranked) > limit:
        tail = [r for _, rows in ranked[limit:] for r in rows]  # a row per (record, group)
        other = bucket((), tail, False)
    return {"buckets": buckets, "other": other, "groups": len(ranked), "limit": limit}, mixed


def _close(a: Any, b: Any) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    return bool(a == b)


async def check(data: Dataset, flt: Any, group_by: list[Any], metrics: list[dict[str, str]], limit: int) -> None:
    body: dict[str, Any] = {"group_by": group_by, "metrics": metrics, "limit": limit}
    if flt is not None:
        body["filter"] = flt
    response = await data.ws.post(PATH, body)
    want, mixed = expected(data, flt, group_by, metrics, limit)
    if mixed:
        assert response.status_code == 400, (body, response.text)
        assert "currenc" in response.json()["message"]
        return
    assert response.status_code == 200, (body, response.text)
    got = response.json()
    assert _close(got, want), (body, got, want)


@settings(PROPERTY_SETTINGS, max_examples=120)
@given(choice=st.data())
def test_aggregation_equals_python_evaluation(prepared: None, choice: st.DataObject) -> None:  # noqa: F811
    flt = choice.draw(st.none() | filters(PREPARED["catalog"]), label="filter")
    group_by = choice.draw(st.lists(st.sampled_from(GROUPS), max_size=2, unique_by=repr), label="group_by")
    metrics = choice.draw(st.lists(st.sampled_from(METRICS), min_size=1, max_size=4), label="metrics")
    limit = choice.draw(st.sampled_from([1, 2, 3, 5, 1000]), label="limit")
    PREPARED["loop"].run_until_complete(check(PREPARED["dataset"], flt, group_by, metrics, limit))


async def test_examples_read_as_documented(dataset: Dataset) -> None:  # noqa: F811
    """Fixed cases the property may draw rarely: no group_by at all, and a select's option."""
    PREPARED.setdefault("catalog", fields(dataset))
    await check(dataset, None, [], [{"op": "count"}, {"op": "sum", "attribute": "qty"}], 10)
    for group in ("stage", "flag", "price.currency_code", {"attribute": "due", "bucket": "month"}):
        await check(dataset, None, [group], [{"op": "count"}], 2)  # counted on the value index alone
    response = await dataset.ws.post(PATH, {"group_by": ["stage"], "limit": 1})
    body = response.json()
    assert response.status_code == 200
    assert set(body["buckets"][0]["group"][0]) == {"id", "title"}
    assert body["other"]["count"] == sum(1 for _ in dataset.states) - body["buckets"][0]["count"]
    assert body["groups"] == 4  # three options and the records without a stage
    await check(dataset, None, ["price.currency_code"], [{"op": "sum", "attribute": "price"}], 2)
    mixed = await dataset.ws.post(PATH, {"metrics": [{"op": "sum", "attribute": "price"}]})
    assert mixed.status_code == 400 and mixed.json()["errors"][0]["path"] == "metrics"


# --- list entries, isolation, errors, scopes -------------------------------------------------

async def _leads(ws: Workspace) -> str:
    list_id: str = (await ws.post("/v1/objects/person/lists", {"name": "Leads", "slug": "leads"})).json()["id"]
    await ws.post("/v1/objects/leads/attributes", {"name": "Score", "slug": "score", "type": "number"})
    await ws.post("/v1/objects/leads/attributes", {
        "name": "Stage", "slug": "stage", "type": "select",
        "options": {"select_options": [{"name": "New"}, {"name": "Qualified"}]}})
    for name, title, score, stage in (("Ann Lee", "CTO", 50, "New"), ("Bob Ray", "CEO", 70, "Qualified"),
                                      ("Cid Moe", "CTO", 90, "Qualified"), ("Dee Fox", "CTO", None, None)):
        person = (await ws.post("/v1/objects/person", {"attributes": {"name": name, "job_title": title}})).json()
        attributes = {k: v for k, v in (("score", score), ("stage", stage)) if v is not None}
        added = await ws.post(f"/v1/lists/{list_id}", {"parent_id": person["id"], "attributes": attributes})
        assert added.status_code == 200, added.text
    return list_id


async def test_list_entries_aggregate(ws: Workspace) -> None:
    list_id = await _leads(ws)
    response = await ws.post(f"/v1/lists/{list_id}/records/aggregate", {
        "filter": {"parent.job_title": "CTO"}, "group_by": ["stage"],
        "metrics": [{"op": "count"}, {"op": "sum", "attribute": "score"}, {"op": "avg", "attribute": "score"}]})
    assert response.status_code == 200, response.text
    body = response.json()
    # all counts tie at 1: the options come by option id, the records without a stage last
    *options, none = body["buckets"]
    by_title = {b["group"][0]["title"]: b["metrics"] for b in options}
    assert by_title == {"Qualified": [1, 90, 90.0], "New": [1, 50, 50.0]}
    assert [b["group"][0]["id"] for b in options] == sorted(b["group"][0]["id"] for b in options)
    assert none["group"] == [None] and none["metrics"] == [1, 0, None]
    assert body["other"] is None and body["groups"] == 3


async def test_isolation(ws: Workspace, make_workspace: WorkspaceFactory) -> None:
    list_id = await _leads(ws)
    other = await make_workspace("aggregate-other")
    assert (await other.post(f"/v1/lists/{list_id}/records/aggregate", {})).status_code == 404
    await other.post("/v1/objects/person", {"attributes": {"name": "Solo"}})
    mine = (await ws.post("/v1/objects/person/records/aggregate", {})).json()
    theirs = (await other.post("/v1/objects/person/records/aggregate", {})).json()
    assert mine["buckets"][0]["count"] == 4 and theirs["buckets"][0]["count"] == 1
    assert (await other.post("/v1/objects/leads/records/aggregate", {})).status_code == 404


async def test_bad_requests_are_400_with_paths(ws: Workspace) -> None:
    await ws.post("/v1/objects/person/attributes", {"name": "Born", "slug": "born", "type": "date"})
    cases: list[tuple[dict[str, Any], str]] = [
        ({"group_by": ["nope"]}, "group_by[0]"),
        ({"group_by": [{"attribute": "name", "bucket": "month"}]}, "group_by[0].bucket"),
        ({"group_by": [{"attribute": "born", "bucket": "decade"}]}, "group_by[0]"),
        ({"group_by": ["id"]}, "group_by[0]"),
        ({"metrics": [{"op": "sum", "attribute": "name"}]}, "metrics[0].attribute"),
        ({"metrics": [{"op": "avg", "attribute": "missing"}]}, "metrics[0].attribute"),
        ({"metrics": [{"op": "sum"}]}, "metrics[0].attribute"),
        ({"metrics": [{"op": "count", "attribute": "name"}]}, "metrics[0].attribute"),
        ({"metrics": [{"op": "median", "attribute": "name"}]}, "metrics[0]"),
        ({"metrics": []}, "metrics"),
        ({"metrics": [{"op": "count"}] * 11}, "metrics"),
        ({"group_by": ["name", "born", "job_title", "name"]}, "group_by"),
        ({"limit": 0}, "limit"),
        ({"limit": 1001}, "limit"),
        ({"filter": {"name": {"$gt": 1}}}, "filter.name.$gt"),
    ]
    for body, path in cases:
        response = await ws.post("/v1/objects/person/records/aggregate", body)
        assert response.status_code == 400, (body, response.text)
        error = response.json()
        assert error["code"] == 400 and error["message"]
        assert any(e["path"].startswith(path) for e in error.get("errors", [])), (body, error)
    assert (await ws.post("/v1/objects/nothing/records/aggregate", {})).status_code == 404


async def test_scopes(ws: Workspace) -> None:
    list_id = await _leads(ws)
    lists_only = await ws.new_key(["list.member.read"])
    records_only = await ws.new_key(["record.read"])
    assert (await ws.post("/v1/objects/person/records/aggregate", {}, key=lists_only)).status_code == 403
    assert (await ws.post(f"/v1/lists/{list_id}/records/aggregate", {}, key=records_only)).status_code == 403
    assert (await ws.post("/v1/objects/person/records/aggregate", {}, key=records_only)).status_code == 200
    assert (await ws.post(f"/v1/lists/{list_id}/records/aggregate", {}, key=lists_only)).status_code == 200
