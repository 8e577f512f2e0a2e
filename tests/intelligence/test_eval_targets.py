"""The evaluation set as a regression guard: ``make test`` fails when the default extractor
drops below the targets of tests/eval/run_eval.py, or stops being deterministic."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from workers.intelligence.extractor import extract_entities

EVAL = Path(__file__).resolve().parents[1] / "eval" / "run_eval.py"
DATA = Path(__file__).resolve().parents[1] / "data" / "context_eval"


def _load_eval() -> ModuleType:
    spec = importlib.util.spec_from_file_location("context_run_eval", EVAL)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


run_eval = _load_eval()


@pytest.mark.parametrize("name", ["cases.jsonl", "holdout.jsonl", "fresh.jsonl"])
def test_eval_meets_targets(name: str) -> None:
    cases = run_eval.load_cases(DATA / name)
    extractions = [extract_entities(case["text"]) for case in cases]
    report = run_eval.score(cases, extractions)
    assert run_eval.missed_targets(report) == [], run_eval.render(report)


def test_eval_set_is_large_and_well_formed() -> None:
    cases = run_eval.load_cases(DATA / "cases.jsonl")
    assert len(cases) >= 60
    assert len({case["id"] for case in cases}) == len(cases)
    for case in cases:
        assert set(case["expected"]) == {"people", "companies", "signals"}


def test_extraction_is_deterministic() -> None:
    for case in run_eval.load_cases(DATA / "cases.jsonl"):
        assert extract_entities(case["text"]) == extract_entities(case["text"]), case["id"]


def test_matching_rules_of_the_eval() -> None:
    assert run_eval.company_keys_match("techflow.io", "TechFlow")
    assert run_eval.company_keys_match("Acme, Inc.", "acme")
    assert run_eval.company_keys_match("Pinecrest Capital", "pinecrestcap.com")
    assert not run_eval.company_keys_match("Acme", "Globex")
