"""Aggregations at scale: ``POST /v1/objects/deal/records/aggregate`` over 1,000,000 deals in one
workspace (``--quick``: 50,000).

One run, one fresh database (``harness.bench_database``), one Tessera server:

1. Load the deals with ``workload_data.copy_records`` (COPY of exactly the rows the product writes,
   built by its own validation and value-row code; the same data generator as ``bench_records``),
   then ``VACUUM ANALYZE`` (as autovacuum would after a bulk load).
2. One client, one request at a time, p50/p95/p99 of:
   - ``count_by_select``: ``group_by: ["stage"]``, count (target p95 <= 100 ms at 1M);
   - ``sum_by_select``: ``group_by: ["region"]``, sum and avg of ``score`` (target p95 <= 500 ms);
   - ``filtered_count_by_select``: the same count under a filter (``is_active: true``), and
     ``month_buckets``: count per close-date month (no targets, for reference).
   The slowest statement of each shape is kept with ``EXPLAIN (ANALYZE, BUFFERS)``.

Not part of ``make bench`` (run it by hand): ``python tests/benchmarks/bench_aggregate.py --quick``
(or ``--records N`` for another size; the targets are stated for 1,000,000).
Writes ``results/aggregate.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))  # run as a plain script from anywhere

import httpx  # noqa: E402
from harness import (  # noqa: E402
    BenchmarkError,
    bench_database,
    create_workspace,
    free_port,
    load_average,
    serve,
    stack_env,
)
from records_data import OBJECT_SLUG, attribute_specs, generate_batch  # noqa: E402
from workload_data import (  # noqa: E402
    api_client,
    copy_records,
    explain,
    load_object,
    log,
    percentiles,
    run_sized,
    sample,
    sized_parser,
    vacuum_analyze,
)

NAME = "aggregate"
DATABASE = "tessera_bench_aggregate"
BATCH = 1000
TARGETS_MS = {"count_by_select": 100.0, "sum_by_select": 500.0}
SHAPES: dict[str, dict[str, Any]] = {
    "count_by_select": {"group_by": ["stage"], "metrics": [{"op": "count"}]},
    "sum_by_select": {"group_by": ["region"], "metrics": [{"op": "count"}, {"op": "sum", "attribute": "score"},
                                                          {"op": "avg", "attribute": "score"}]},
    "filtered_count_by_select": {"filter": {"is_active": True}, "group_by": ["stage"]},
    "month_buckets": {"group_by": [{"attribute": "close_date", "bucket": "month"}], "limit": 1000},
}


def _items(total: int) -> Any:
    for batch in range((total + BATCH - 1) // BATCH):
        yield from generate_batch(11, 0, batch, BATCH)[: total - batch * BATCH]


def _check(response: httpx.Response) -> None:
    if response.status_code != 200:
        raise BenchmarkError(f"aggregate answered {response.status_code}: {response.text[:500]}")


def _statement(url: str, workspace_id: int, body: dict[str, Any]) -> tuple[str, list[Any]]:
    from schema_registry.query import parse_filter
    from tessera.records.aggregate import GroupRequest, MetricRequest, plan_aggregate
    from tessera.records.aggregate_sql import build_statement

    obj = asyncio.run(load_object(url, workspace_id, OBJECT_SLUG))
    groups = [GroupRequest(g["attribute"], g["bucket"]) if isinstance(g, dict) else GroupRequest(g)
              for g in body.get("group_by", [])]
    metrics = [MetricRequest(m["op"], m.get("attribute")) for m in body.get("metrics", [{"op": "count"}])]
    plan = plan_aggregate(obj, parse_filter(obj, body.get("filter")), groups, metrics, body.get("limit", 100))
    sql, params = build_statement(plan, obj.id)
    return sql, [workspace_id, *params.values]


def run(args: argparse.Namespace) -> dict[str, Any]:
    total = args.records or (50_000 if args.quick else 1_000_000)
    rounds = 20 if args.quick or args.records else 30
    env = stack_env()
    warnings: list[str] = []
    with bench_database(env, name=DATABASE) as url:
        env = {**env, "DATABASE_URL": url}
        made = create_workspace(env)
        workspace_id, key = int(made["workspace_id"]), made["api_key"]
        with serve(env, free_port()) as server, api_client(server.base_url, key) as client:
            client.post("/v1/objects", json={"name": "Deal", "slug": OBJECT_SLUG, "type": "custom"}).raise_for_status()
            for spec in attribute_specs():
                client.post(f"/v1/objects/{OBJECT_SLUG}/attributes", json=spec.request()).raise_for_status()
            log(f"loading {total} deals")
            load = asyncio.run(copy_records(url, workspace_id, OBJECT_SLUG, _items(total), total))
            load["vacuum_analyze_s"] = vacuum_analyze(url, ["records", "record_values", "unique_values"])
            log(f"loaded: {load}")
            shapes: dict[str, Any] = {}
            path = f"/v1/objects/{OBJECT_SLUG}/records/aggregate"
            for name, body in SHAPES.items():
                latencies = sample(client, [("POST", path, body)], rounds=rounds, warmup=3, check=_check)
                answer = client.post(path, json=body).json()
                shapes[name] = {"body": body, "latency_ms": percentiles(latencies), "groups": answer["groups"],
                                "first_bucket": answer["buckets"][0] if answer["buckets"] else None}
                sql, values = _statement(url, workspace_id, body)
                shapes[name]["explain"] = explain(url, sql, *values)
                log(f"{name}: {shapes[name]['latency_ms']}")
    headline: dict[str, Any] = {}
    for name, target in TARGETS_MS.items():
        p95 = shapes[name]["latency_ms"]["p95"]
        headline[f"{name}_p95_ms"] = {"value": p95, "unit": "ms", "max": target}
        if total >= 1_000_000 and p95 > target:
            warnings.append(f"{name} p95 {p95} ms > target {target} ms")
    return {"records": total, "quick": args.quick, "load": load, "shapes": shapes, "headline": headline,
            "load_average": {"start": args.start_load, "end": load_average()}, "warnings": warnings}


def main() -> None:
    parser = sized_parser(__doc__)
    parser.add_argument("--records", type=int, default=0, help="another size (the targets are for 1,000,000)")
    run_sized(NAME, run, parser.parse_args())


if __name__ == "__main__":
    main()
