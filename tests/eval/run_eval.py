"""Evaluate the default extractor on the annotated texts of tests/data/context_eval/*.jsonl.

    python tests/eval/run_eval.py [--json out.json] [--cases path ...] [--show-misses]

The sets: ``cases.jsonl`` (73 texts), ``holdout.jsonl`` (20) and ``fresh.jsonl`` (15); by default
all of them are scored together. See docs/intelligence.md for how each was written and what the
extractor scored on the later two before it was tuned on them.

Prints precision, recall and F1 per entity kind and the signal scores, writes
``tests/benchmarks/results/eval.json`` (headline figures with their targets, so the benchmark
table in docs/benchmarks.md lists them) and exits 1 when a target is missed.

Matching rules (documented in docs/intelligence.md):

- emails: lowercase addresses of people (role addresses such as ``sales@`` belong to no one);
- domains: the registered domains of companies;
- person names: casefolded, whitespace collapsed, equal;
- company names: a company without a name in the annotations is keyed by its first domain.
  Two keys match when their ``compact`` forms (casefold, accents and punctuation removed, legal
  suffix such as Inc/GmbH/Ltd dropped) are equal, or when one is a domain whose label spells the
  other (``techflow.io`` ~ ``TechFlow``, ``pinecrestcap.com`` ~ ``Pinecrest Capital``: the rule of
  ``workers.intelligence.companies.name_matches_domain``);
- person -> company links: a predicted person matches an expected one by a shared address or an
  equal name; the link counts when the two company strings match as company names do, or name
  the same expected company (its name or one of its domains);
- signals: per text, the set of predicted signal types against the annotated set: Jaccard
  (1.0 when both are empty), averaged over texts, is the headline ``signal_accuracy``; exact-set
  accuracy and per-type precision/recall are reported too.

Each kind is scored per text and summed: a true positive is a one-to-one match inside a text.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from workers.intelligence.companies import compact_name, name_matches_domain  # noqa: E402
from workers.intelligence.extractor import RuleExtractor  # noqa: E402
from workers.intelligence.model import SIGNAL_TYPES, Extraction  # noqa: E402

DATA = REPO / "tests" / "data" / "context_eval"
CASES = DATA / "cases.jsonl"
RESULTS = REPO / "tests" / "benchmarks" / "results" / "eval.json"
TARGETS = {"email_f1": 0.95, "domain_f1": 0.95, "person_name_f1": 0.8, "company_name_f1": 0.8,
           "signal_accuracy": 0.75}


@dataclass
class Tally:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    misses: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def normalize_person(name: str) -> str:
    return " ".join(name.casefold().split())


def is_domain(key: str) -> bool:
    return "." in key and " " not in key and not key.endswith(".")


def company_keys_match(a: str, b: str) -> bool:
    """The company-name rule of the module docstring."""
    if is_domain(a) and is_domain(b):
        return a.lower() == b.lower()
    if is_domain(a):
        return name_matches_domain(b, a.lower())
    if is_domain(b):
        return name_matches_domain(a, b.lower())
    return compact_name(a) == compact_name(b) and compact_name(a) != ""


def match_count(expected: list[Any], predicted: list[Any], same: Callable[[Any, Any], bool]) -> int:
    """Greedy one-to-one matches between two lists."""
    free = list(predicted)
    count = 0
    for item in expected:
        for index, candidate in enumerate(free):
            if same(item, candidate):
                count += 1
                del free[index]
                break
    return count


def tally(kind: Tally, case_id: str, expected: list[Any], predicted: list[Any],
          same: Callable[[Any, Any], bool]) -> None:
    hits = match_count(expected, predicted, same)
    kind.tp += hits
    kind.fp += len(predicted) - hits
    kind.fn += len(expected) - hits
    if hits != len(expected) or hits != len(predicted):
        kind.misses.append(f"{case_id}: expected {expected} got {predicted}")


def company_key(company: dict[str, Any]) -> str | None:
    return company.get("name") or (company.get("domains") or [None])[0]


def _same_link(expected_companies: list[dict[str, Any]]) -> Callable[[Any, Any], bool]:
    def entity_of(key: str) -> int | None:
        for index, company in enumerate(expected_companies):
            keys = [k for k in [company.get("name"), *company.get("domains", [])] if k]
            if any(company_keys_match(key, k) for k in keys):
                return index
        return None

    def same(e: tuple[dict[str, Any], str], p: tuple[dict[str, Any], str]) -> bool:
        (e_person, e_company), (p_person, p_company) = e, p
        by_email = set(e_person.get("emails", [])) & set(p_person.get("emails", []))
        by_name = e_person.get("name") and p_person.get("name") and \
            normalize_person(e_person["name"]) == normalize_person(p_person["name"])
        if not (by_email or by_name):
            return False
        if company_keys_match(e_company, p_company):
            return True
        entity = entity_of(e_company)
        return entity is not None and entity == entity_of(p_company)
    return same


def score(cases: list[dict[str, Any]], extractions: list[Extraction]) -> dict[str, Any]:
    kinds = {k: Tally() for k in ("emails", "domains", "person_names", "company_names", "person_company_links")}
    jaccards: list[float] = []
    exact = 0
    per_type = {t: Tally() for t in SIGNAL_TYPES}
    signal_misses: list[str] = []
    for case, extraction in zip(cases, extractions, strict=True):
        cid, exp = case["id"], case["expected"]
        people = [{"name": p.name, "emails": list(p.emails), "company": p.company} for p in extraction.people]
        companies = [{"name": c.name, "domains": list(c.domains)} for c in extraction.companies]
        eq = str.__eq__
        tally(kinds["emails"], cid, sorted({e for p in exp["people"] for e in p["emails"]}),
              sorted({e for p in people for e in p["emails"]}), eq)
        tally(kinds["domains"], cid, sorted({d for c in exp["companies"] for d in c["domains"]}),
              sorted({d for c in companies for d in c["domains"]}), eq)
        tally(kinds["person_names"], cid, [normalize_person(p["name"]) for p in exp["people"] if p["name"]],
              [normalize_person(p["name"]) for p in people if p["name"]], eq)
        tally(kinds["company_names"], cid, [k for c in exp["companies"] if (k := company_key(c))],
              [k for c in companies if (k := company_key(c))], company_keys_match)
        tally(kinds["person_company_links"], cid, [(p, p["company"]) for p in exp["people"] if p["company"]],
              [(p, p["company"]) for p in people if p["company"]], _same_link(exp["companies"]))
        want = set(exp["signals"])
        got = {s.type for s in extraction.signals}
        jaccards.append(len(want & got) / len(want | got) if want | got else 1.0)
        exact += want == got
        if want != got:
            signal_misses.append(f"{cid}: missing {sorted(want - got)} extra {sorted(got - want)}")
        for kind in SIGNAL_TYPES:
            per_type[kind].tp += kind in want and kind in got
            per_type[kind].fp += kind in got and kind not in want
            per_type[kind].fn += kind in want and kind not in got
    return {
        "cases": len(cases),
        "kinds": {name: {"precision": round(t.precision, 3), "recall": round(t.recall, 3), "f1": round(t.f1, 3),
                         "tp": t.tp, "fp": t.fp, "fn": t.fn} for name, t in kinds.items()},
        "signal_accuracy": round(sum(jaccards) / len(jaccards), 3) if jaccards else 1.0,
        "signal_exact_set_accuracy": round(exact / len(cases), 3) if cases else 1.0,
        "signal_types": {name: {"precision": round(t.precision, 3), "recall": round(t.recall, 3), "f1": round(t.f1, 3),
                                "tp": t.tp, "fp": t.fp, "fn": t.fn} for name, t in per_type.items()},
        "misses": {**{name: t.misses for name, t in kinds.items()}, "signals": signal_misses},
    }


def headline(report: dict[str, Any]) -> dict[str, dict[str, float]]:
    kinds = report["kinds"]
    values = {"email_f1": kinds["emails"]["f1"], "domain_f1": kinds["domains"]["f1"],
              "person_name_f1": kinds["person_names"]["f1"], "company_name_f1": kinds["company_names"]["f1"],
              "signal_accuracy": report["signal_accuracy"]}
    result: dict[str, dict[str, float]] = {name: {"value": value, "min": TARGETS[name]}
                                           for name, value in values.items()}
    result["person_company_link_f1"] = {"value": kinds["person_company_links"]["f1"]}
    result["signal_exact_set_accuracy"] = {"value": report["signal_exact_set_accuracy"]}
    return result


def missed_targets(report: dict[str, Any]) -> list[str]:
    return [f"{name} {entry['value']} < {entry['min']}" for name, entry in headline(report).items()
            if "min" in entry and entry["value"] < entry["min"]]


def load_cases(path: Path = CASES) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


async def _extract_all(cases: Iterable[dict[str, Any]]) -> list[Extraction]:
    extractor = RuleExtractor()
    return [await extractor.extract(case["text"], case.get("context")) for case in cases]


def evaluate(paths: list[Path]) -> dict[str, Any]:
    """Run the default extractor over every case of ``paths`` and score them together."""
    cases = [case for path in paths for case in load_cases(path)]
    report = score(cases, asyncio.run(_extract_all(cases)))
    report["sets"] = {path.name: len(load_cases(path)) for path in paths}
    return report


def render(report: dict[str, Any]) -> str:
    sets = ", ".join(f"{name} {count}" for name, count in report.get("sets", {}).items())
    lines = [f"Context extraction evaluation: {report['cases']} texts" + (f" ({sets})" if sets else ""), "",
             f"{'kind':<22}{'precision':>10}{'recall':>9}{'F1':>8}{'tp':>6}{'fp':>5}{'fn':>5}"]
    for name, row in report["kinds"].items():
        lines.append(f"{name:<22}{row['precision']:>10.3f}{row['recall']:>9.3f}{row['f1']:>8.3f}"
                     f"{row['tp']:>6}{row['fp']:>5}{row['fn']:>5}")
    lines += ["", f"signal accuracy (mean Jaccard of type sets): {report['signal_accuracy']:.3f}",
              f"signal exact-set accuracy: {report['signal_exact_set_accuracy']:.3f}", "",
              f"{'signal type':<22}{'precision':>10}{'recall':>9}{'F1':>8}{'tp':>6}{'fp':>5}{'fn':>5}"]
    for name, row in report["signal_types"].items():
        lines.append(f"{name:<22}{row['precision']:>10.3f}{row['recall']:>9.3f}{row['f1']:>8.3f}"
                     f"{row['tp']:>6}{row['fp']:>5}{row['fn']:>5}")
    lines.append("")
    for name, entry in headline(report).items():
        if "min" in entry:
            verdict = "pass" if entry["value"] >= entry["min"] else "MISS"
            lines.append(f"target {name:<18} {entry['value']:.3f} >= {entry['min']:<5} {verdict}")
    return "\n".join(lines)


def write_results(report: dict[str, Any]) -> None:
    result = {
        "benchmark": "eval",
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {"cpu_count": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                    "pinned": False},
        "headline": headline(report),
        "cases": report["cases"],
        "sets": report.get("sets", {}),
        "kinds": report["kinds"],
        "signal_types": report["signal_types"],
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")


NEGATIVES = REPO / "tests" / "data" / "precision_eval" / "heldout_kinds.jsonl"


def negative_companies() -> list[str]:
    """Companies the extractor reads out of the negative texts (products, programming languages,
    tools, weekdays, cities, holidays: none of them an organisation). Expected: none."""
    extractor = RuleExtractor()
    found = []
    for line in NEGATIVES.read_text().splitlines():
        case = json.loads(line) if line.strip() else None
        if case is None or not case["id"].startswith("hk-neg-"):
            continue
        extraction = asyncio.run(extractor.extract(case["text"], case.get("context")))
        expected = {c.get("name", "").casefold() for c in case["expected"].get("companies", [])}
        found += [f"{c.name} ({case['id']})" for c in extraction.companies if (c.name or "").casefold() not in expected]
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", type=Path, help="also write the full report (with every miss) here")
    parser.add_argument("--cases", type=Path, nargs="+", default=sorted(DATA.glob("*.jsonl")),
                        help="annotated sets to score together (default: every tests/data/context_eval/*.jsonl)")
    parser.add_argument("--show-misses", action="store_true", help="print every text where a kind was missed")
    parser.add_argument("--no-results", action="store_true",
                        help=f"do not write {RESULTS.relative_to(REPO)}")
    args = parser.parse_args()
    report = evaluate(args.cases)
    print(render(report))
    if args.show_misses:
        for name, misses in report["misses"].items():
            print(f"\n## {name}")
            print("\n".join(misses) or "(none)")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    if not args.no_results:
        write_results(report)
    missed = missed_targets(report)
    false_orgs = negative_companies()
    print(f"\nnegative set ({NEGATIVES.relative_to(REPO)}, hk-neg-*): {len(false_orgs)} false companies"
          + (": " + ", ".join(false_orgs) if false_orgs else " (target 0)"))
    if false_orgs:
        missed.append(f"{len(false_orgs)} companies extracted from the negative set (target 0)")
    if missed:
        print("\nMISSED: " + "; ".join(missed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
