"""Record validation: cached compiled validators against compiling one per call.

Validates N distinct 10-attribute records (text, number, email, select, date, date-time,
boolean, currency, text, whole number) with ``validate_attributes``: once with the cached
validator (the production path), once compiling the JSON Schema and its validator for every
record (what the cache saves). Every record has its own email address, name and amount, so
the per-address cache of the email normalizer never helps; the addresses' domains repeat
(997 of them, as a CRM's contacts share their companies' domains), which the per-domain cache
of the email check does use. Pure CPU, one process, no services.

Target: ``cached_records_per_s`` >= 20,000. Each kind runs ``--repeats`` times over fresh
records; the headline is the best run (as ``timeit`` advises: slower runs measure the other
processes on the machine, not this code), the median and every run are recorded beside it.

Run: ``python tests/benchmarks/bench_validation.py [--records N] [--json out.json]`` or
``python tests/benchmarks/run.py validation``. Writes ``results/validation.json`` (for
``run.py``) and, with ``--json``, the same figures to the given file.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))  # run as a plain script from anywhere

from harness import write_result  # noqa: E402

from schema_registry.definitions import (  # noqa: E402
    AttributeDefinition,
    AttributeTypeName,
    ObjectDefinition,
    ObjectType,
    SelectOption,
)
from schema_registry.validation import clear_validator_cache, validate_attributes  # noqa: E402

NAME = "validation"
CACHED_TARGET = 20_000
STAGES = (SelectOption("opt_open", "Open"), SelectOption("opt_won", "Won"), SelectOption("opt_lost", "Lost"))


def build_object() -> ObjectDefinition:
    """The benchmark's object: ten attributes of seven types, one multi-value."""
    specs: list[tuple[str, AttributeTypeName, dict[str, Any]]] = [
        ("name", AttributeTypeName.TEXT, {"is_required": True}),
        ("amount", AttributeTypeName.NUMBER, {}),
        ("email_addresses", AttributeTypeName.EMAIL, {"is_multi_value": True}),
        ("stage", AttributeTypeName.SELECT, {"select_options": STAGES}),
        ("close_date", AttributeTypeName.DATE, {}),
        ("signed_at", AttributeTypeName.DATE, {}),
        ("is_hot", AttributeTypeName.BOOLEAN, {}),
        ("price", AttributeTypeName.CURRENCY, {}),
        ("notes", AttributeTypeName.TEXT, {}),
        ("seats", AttributeTypeName.NUMBER, {"is_whole_number": True}),
    ]
    attributes = tuple(
        AttributeDefinition(id=index, object_id=1, slug=slug, name=slug, type=type_, position=index, **options)
        for index, (slug, type_, options) in enumerate(specs, start=1)
    )
    return ObjectDefinition(
        id=1, workspace_id=1, slug="deal", name="Deal", type=ObjectType.DEAL, schema_version=1, attributes=attributes
    )


def build_records(count: int, run: int) -> list[dict[str, Any]]:
    """``count`` distinct valid bodies; ``run`` makes every repetition's values new too."""
    return [
        {
            "name": f"Deal {run}-{index}",
            "amount": index + 0.25,
            "email_addresses": [f"Jane.Buyer{run}x{index}@customer{index % 997}.com"],
            "stage": ("open", "Won", "opt_lost")[index % 3],
            "close_date": f"2026-{index % 12 + 1:02d}-{index % 28 + 1:02d}",
            "signed_at": f"2026-01-02T03:{index % 60:02d}:05+02:00",
            "is_hot": index % 2 == 0,
            "price": {"amount": index * 10, "currency_code": ("usd", "EUR", "gbp")[index % 3]},
            "notes": "Met at the conference; follow up next quarter.",
            "seats": index % 500,
        }
        for index in range(count)
    ]


def records_per_second(
    obj: ObjectDefinition, count: int, repeats: int, before_each: Callable[[], None] | None = None
) -> list[float]:
    """Throughput of ``validate_attributes`` over fresh records, once per repetition."""
    figures = []
    for run in range(repeats):
        records = build_records(count, run)
        started = time.perf_counter()
        for record in records:
            if before_each is not None:
                before_each()
            validate_attributes(obj, record, "create")
        figures.append(count / (time.perf_counter() - started))
    return figures


def _listed(runs: list[float]) -> str:
    return ", ".join(f"{run:,.0f}" for run in runs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=20_000, help="records per cached run (default 20000)")
    parser.add_argument("--uncached-records", type=int, default=1_000, help="records per uncached run")
    parser.add_argument("--repeats", type=int, default=5, help="runs of each kind; the best one counts")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()

    obj = build_object()
    clear_validator_cache()
    validate_attributes(obj, build_records(1, -1)[0], "create")  # compile once, load lookup tables
    cached_runs = records_per_second(obj, args.records, args.repeats)
    uncached_runs = records_per_second(obj, args.uncached_records, args.repeats, before_each=clear_validator_cache)
    cached, uncached = max(cached_runs), max(uncached_runs)
    figures = {
        "benchmark": NAME,
        "cached_records_per_s": round(cached),
        "uncached_records_per_s": round(uncached),
        "ratio": round(cached / uncached, 1),
        "cached_median_records_per_s": round(statistics.median(cached_runs)),
        "uncached_median_records_per_s": round(statistics.median(uncached_runs)),
    }
    print(f"cached validator:   {cached:>10,.0f} records/s best  (runs: {_listed(cached_runs)})")
    print(f"compiled per call:  {uncached:>10,.0f} records/s best  (runs: {_listed(uncached_runs)})")
    print(f"ratio:              {cached / uncached:>10.1f}x   target: cached >= {CACHED_TARGET:,} records/s")
    result = write_result(
        NAME,
        {
            **figures,
            "records": args.records,
            "uncached_records": args.uncached_records,
            "repeats": args.repeats,
            "attributes_per_record": len(obj.attributes),
            "cached_runs": [round(run) for run in cached_runs],
            "uncached_runs": [round(run) for run in uncached_runs],
            "headline": {
                "cached_records_per_s": {"value": round(cached), "unit": "records/s", "min": CACHED_TARGET},
                "uncached_records_per_s": {"value": round(uncached), "unit": "records/s"},
                "cache_speedup": {"value": round(cached / uncached, 1), "unit": "x"},
            },
        },
    )
    if args.json is not None:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
