"""Run the benchmarks and publish their headline figures.

    python tests/benchmarks/run.py              # every bench_*.py in this folder but peers
    python tests/benchmarks/run.py http validation

Each ``bench_<name>.py`` runs as a subprocess with the current environment (``make bench``
exports ``.stack/env``) and must write ``results/<name>.json`` through ``harness.write_result``,
with its headline figures under ``"headline"``. Afterwards this prints a table of the figures
just measured and rewrites the generated part of ``docs/benchmarks.md`` (between
``<!-- results:start -->`` and ``<!-- results:end -->``) from every ``results/*.json``.

Exit status: 1 if a benchmark crashed or wrote no result, 2 on a bad command line; 0 otherwise,
even when a figure misses its target (misses are reported, not fatal).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parents[1]
RESULTS_DIR = BENCH_DIR / "results"
DOC = REPO / "docs" / "benchmarks.md"
START = "<!-- results:start -->"
END = "<!-- results:end -->"


@dataclass(frozen=True)
class Figure:
    """One headline figure of one benchmark, with its target if it has one."""

    benchmark: str
    metric: str
    value: float
    unit: str = ""
    minimum: float | None = None
    maximum: float | None = None

    @property
    def target(self) -> str:
        parts = []
        if self.minimum is not None:
            parts.append(f">= {format_number(self.minimum)}")
        if self.maximum is not None:
            parts.append(f"<= {format_number(self.maximum)}")
        return ", ".join(parts)

    @property
    def verdict(self) -> str:
        """``pass``, ``MISS`` or empty (no target)."""
        if self.minimum is None and self.maximum is None:
            return ""
        ok = (self.minimum is None or self.value >= self.minimum) and \
             (self.maximum is None or self.value <= self.maximum)
        return "pass" if ok else "MISS"


def format_number(value: float) -> str:
    """Readable at a glance: ``12,345``, ``123.4``, ``12.35``, ``0.512``."""
    if isinstance(value, int):
        return f"{value:,}"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 100:
        return f"{value:.1f}"
    if abs(value) >= 1:
        return f"{value:.2f}"
    return f"{value:.3g}"


def to_figures(result: dict[str, Any]) -> list[Figure]:
    """The headline figures of one results file (see ``harness.write_result`` for the format)."""
    figures = []
    for metric, entry in (result.get("headline") or {}).items():
        if isinstance(entry, dict):
            figures.append(Figure(result["benchmark"], metric, entry["value"], entry.get("unit", ""),
                                  entry.get("min"), entry.get("max")))
        else:
            figures.append(Figure(result["benchmark"], metric, entry))
    return figures


ON_REQUEST = frozenset({"peers"})  # run only when named


def discover() -> dict[str, Path]:
    """``{name: path}`` of every ``bench_<name>.py`` here."""
    return {path.stem.removeprefix("bench_"): path for path in sorted(BENCH_DIR.glob("bench_*.py"))}


def choose(available: dict[str, Path], wanted: list[str]) -> dict[str, Path]:
    """The benchmarks named on the command line (``http``, ``bench_http`` or ``bench_http.py``)."""
    if not wanted:  # peers need an install of their own: `make bench-peers`
        return {name: path for name, path in available.items() if name not in ON_REQUEST}
    chosen = {}
    for raw in wanted:
        name = Path(raw).stem.removeprefix("bench_")
        if name not in available:
            print(f"run.py: no benchmark {raw!r}; available: {', '.join(available) or 'none'}", file=sys.stderr)
            sys.exit(2)
        chosen[name] = available[name]
    return chosen


def load_results() -> dict[str, dict[str, Any]]:
    """Every results file, by benchmark name; unreadable files are skipped with a warning."""
    results = {}
    for path in sorted(RESULTS_DIR.glob("*.json")):
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError) as err:
            print(f"warning: skipping {path.name}: {err}", file=sys.stderr)
            continue
        data.setdefault("benchmark", path.stem)
        results[path.stem] = data
    return results


def run_one(name: str, path: Path, index: int, total: int) -> bool:
    """Run one benchmark script; True when it exited 0 and (re)wrote ``results/<name>.json``."""
    result_file = RESULTS_DIR / f"{name}.json"
    before = result_file.stat().st_mtime if result_file.exists() else None
    print(f"[{index}/{total}] {name}: running {path.name}", flush=True)
    started = time.monotonic()
    code = subprocess.run([sys.executable, str(path)], cwd=REPO, env=os.environ.copy(), check=False).returncode
    elapsed = time.monotonic() - started
    written = result_file.exists() and result_file.stat().st_mtime != before
    if code != 0:
        print(f"[{index}/{total}] {name}: CRASHED (exit {code}) after {elapsed:.0f} s", flush=True)
        return False
    if not written:
        print(f"[{index}/{total}] {name}: FAILED, exited 0 but wrote no results/{name}.json", flush=True)
        return False
    print(f"[{index}/{total}] {name}: done in {elapsed:.0f} s", flush=True)
    return True


def print_table(figures: list[Figure]) -> None:
    rows = [("benchmark", "metric", "value", "target", "result")]
    rows += [(f.benchmark, f.metric, f"{format_number(f.value)} {f.unit}".rstrip(), f.target, f.verdict)
             for f in figures]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for number, row in enumerate(rows):
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
        if number == 0:
            print("  ".join("-" * width for width in widths))


def render_section(results: dict[str, dict[str, Any]]) -> str:
    """The generated Markdown between the markers: one table of every headline figure, then the
    machines the figures were measured on."""
    lines = ["<!-- Generated by tests/benchmarks/run.py from tests/benchmarks/results/*.json; "
             "edits here are overwritten. -->", ""]
    if not results:
        return "\n".join([*lines, "_No results yet: run `make bench`._"])
    lines += ["| benchmark | metric | value | target | result | measured |",
              "|---|---|---:|---|---|---|"]
    machines: dict[str, list[str]] = {}
    for name, result in results.items():
        for figure in to_figures(result):
            value = f"{format_number(figure.value)} {figure.unit}".rstrip()
            verdict = "**MISS**" if figure.verdict == "MISS" else figure.verdict
            lines.append(f"| {name} | {figure.metric} | {value} | {figure.target} | {verdict} | "
                         f"{str(result.get('date', ''))[:10]} |")
        machines.setdefault(describe_machine(result.get("machine") or {}), []).append(name)
    lines.append("")
    for machine, names in machines.items():
        lines.append(f"Measured on {machine} ({', '.join(names)}).")
    warnings = [f"- {name}: {warning}" for name, result in results.items() for warning in result.get("warnings", [])]
    if warnings:
        lines += ["", "Caveats recorded with these runs:", "", *warnings]
    return "\n".join(lines)


def describe_machine(info: dict[str, Any]) -> str:
    """``2 CPUs (AMD EPYC), 23.5 GiB, Python 3.11.7, servers on CPU 0 and wrk on CPU 1 where used``."""
    parts = [f"{info.get('cpu_count', '?')} CPUs" + (f" ({info['cpu_model']})" if info.get("cpu_model") else "")]
    if info.get("memory_gib"):
        parts.append(f"{info['memory_gib']} GiB")
    if info.get("python"):
        parts.append(f"Python {info['python']}")
    parts.append("servers on CPU 0 and wrk on CPU 1 where used" if info.get("pinned") else "no CPU pinning")
    return ", ".join(parts)


def rewrite_doc(section: str) -> None:
    """Replace the text between the markers of ``docs/benchmarks.md`` (appending the markers
    if the file has none)."""
    text = DOC.read_text() if DOC.exists() else "# Benchmarks\n"
    block = f"{START}\n{section}\n{END}"
    if START in text and END in text and text.index(START) < text.index(END):
        head, rest = text.split(START, 1)
        tail = rest.split(END, 1)[1]
        text = head + block + tail
    else:
        text = text.rstrip("\n") + "\n\n## Results\n\n" + block + "\n"
    DOC.write_text(text)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", help="benchmarks to run (default: all), e.g. http validation")
    parser.add_argument("--no-doc", action="store_true", help=f"do not rewrite {DOC.relative_to(REPO)}")
    parser.add_argument("--doc-only", action="store_true", help="only regenerate the doc from results/")
    args = parser.parse_args()

    chosen = {} if args.doc_only else choose(discover(), args.names)
    ok: list[str] = []
    crashed: list[str] = []
    for index, (name, path) in enumerate(chosen.items(), start=1):
        (ok if run_one(name, path, index, len(chosen)) else crashed).append(name)

    results = load_results()
    figures = [figure for name in ok for figure in to_figures(results.get(name, {"benchmark": name}))]
    if figures:
        print()
        print_table(figures)
    for name in ok:
        for warning in results.get(name, {}).get("warnings", []):
            print(f"warning ({name}): {warning}")
    misses = [f"{f.benchmark}.{f.metric}" for f in figures if f.verdict == "MISS"]
    if not args.no_doc:
        rewrite_doc(render_section(results))
        print(f"\nupdated {DOC.relative_to(REPO)}")
    if misses:
        print(f"targets missed: {', '.join(misses)}")
    if crashed:
        print(f"crashed: {', '.join(crashed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
