"""HTTP overhead: Tessera's cheapest authenticated read against a bare Starlette app.

Both servers run in this one process's lifetime, on the same CPU, with the same uvicorn options
and the same wrk settings; the figure that matters is the ratio ``tessera_rps / hello_rps``
(target >= 0.5), which cancels out most of the machine. The Tessera request is
``GET /api/developers/v1/objects`` with a bearer key: authentication (cached), the Redis rate
limit, the schema (cached) and JSON encoding, i.e. the fixed cost every API call pays.

Run: ``python tests/benchmarks/run.py http`` (or this file directly, with ``.stack/env`` exported).
Writes ``results/http.json``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from dataclasses import dataclass, field
from typing import Any

import httpx
from harness import (
    BENCH_DIR,
    BenchmarkError,
    Server,
    bench_database,
    combine_wrk,
    create_workspace,
    free_port,
    load_average,
    serve,
    stack_env,
    write_result,
    wrk,
)

NAME = "http"
OBJECTS_PATH = "/api/developers/v1/objects"
RATIO_TARGET = 0.5
SATURATED = 0.85
"""Server CPU utilisation below which something other than the app limited its rate."""


def check_sample(server: Server, path: str, headers: dict[str, str]) -> dict[str, Any]:
    """One request through ``path``: must be 200 with a JSON body, else ``BenchmarkError``
    (a benchmark of 401s or 404s is worthless). Returns the status and body size."""
    reply = httpx.get(server.base_url + path, headers=headers, timeout=10.0)
    if reply.status_code != 200:
        raise BenchmarkError(f"GET {path} answered {reply.status_code}, expected 200: {reply.text[:500]}")
    if not reply.headers.get("content-type", "").startswith("application/json"):
        raise BenchmarkError(f"GET {path} answered {reply.headers.get('content-type')!r}, expected JSON")
    reply.json()
    return {"status": reply.status_code, "body_bytes": len(reply.content)}


@dataclass
class Target:
    """One server under load and the request that loads it."""

    label: str
    server: Server
    path: str
    headers: dict[str, str]
    sample: dict[str, Any] = field(default_factory=dict)
    runs: list[dict[str, Any]] = field(default_factory=list)

    def load(self, seconds: float, args: argparse.Namespace) -> dict[str, Any]:
        """wrk figures of one run, plus ``server_cpu_s``: CPU the server used meanwhile."""
        before = self.server.cpu_seconds()
        figures = wrk(self.server.base_url + self.path, duration=seconds, connections=args.connections,
                      threads=args.threads, headers=self.headers)
        figures["server_cpu_s"] = round(self.server.cpu_seconds() - before, 3)
        return figures

    def summary(self) -> dict[str, Any]:
        figures = combine_wrk(self.runs)
        errors = figures["errors"]
        if errors["non_2xx"] or errors["timeout"]:
            raise BenchmarkError(f"wrk on {self.path} saw {errors['non_2xx']} non-2xx responses and "
                                 f"{errors['timeout']} timeouts; the figures would be meaningless")
        cpu_s = sum(run["server_cpu_s"] for run in self.runs)
        cpu = {
            # CPU per request does not depend on whether the server was saturated, so it still
            # compares the two apps when the load generator, not the server, is the bottleneck.
            "us_per_request": round(cpu_s / figures["requests"] * 1e6, 1) if figures["requests"] else None,
            # Below ~90 %, something other than this server's CPU limited the rate (wrk's CPU,
            # other processes on the server's CPU, waiting on Redis/PostgreSQL).
            "utilization": round(cpu_s / (figures["duration_us"] / 1e6), 3),
        }
        return {"path": self.path, "sample": self.sample, "wrk": figures, "server_cpu": cpu,
                "memory": self.server.memory()}


def measure(targets: list[Target], args: argparse.Namespace) -> None:
    """Check each target answers 200 + JSON, warm each up, then load them in alternating rounds
    (A B, B A, A B, ...) so that drift in the machine's load hits both alike."""
    for target in targets:
        target.sample = check_sample(target.server, target.path, target.headers)
    for target in targets:
        log(f"{target.label}: warm-up {args.warmup:.0f} s")
        target.load(args.warmup, args)
    segment = args.duration / args.rounds
    for number in range(args.rounds):
        order = targets if number % 2 == 0 else targets[::-1]
        for target in order:
            run = target.load(segment, args)
            target.runs.append(run)
            cpu_share = run["server_cpu_s"] / (run["duration_us"] / 1e6)
            log(f"{target.label}: round {number + 1}/{args.rounds}: {run['requests_per_s']:,.0f} req/s, "
                f"p50 {run['latency_ms']['p50']:.2f} ms, p99 {run['latency_ms']['p99']:.2f} ms, "
                f"server CPU {cpu_share:.0%}")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> dict[str, Any]:
    env = stack_env()
    load_before = load_average()
    with bench_database(env) as url:
        env["DATABASE_URL"] = url
        key = create_workspace(env)["api_key"]
        hello_port, tessera_port = free_port(), free_port()
        hello_argv = [sys.executable, str(BENCH_DIR / "hello_app.py"), "--port", str(hello_port)]
        with serve(env, hello_port, argv=hello_argv) as hello_server, serve(env, tessera_port) as tessera_server:
            hello = Target("hello", hello_server, "/", {})
            tessera = Target("tessera", tessera_server, OBJECTS_PATH, {"Authorization": f"Bearer {key}"})
            measure([hello, tessera], args)
            hello_result, tessera_result = hello.summary(), tessera.summary()

    hello_rps = hello_result["wrk"]["requests_per_s"]
    tessera_rps = tessera_result["wrk"]["requests_per_s"]
    ratio = tessera_rps / hello_rps if hello_rps else 0.0
    hello_cpu = hello_result["server_cpu"]["us_per_request"]
    tessera_cpu = tessera_result["server_cpu"]["us_per_request"]
    round_ratios = [round(t / h, 3) for t, h in zip(tessera_result["wrk"]["rounds_requests_per_s"],
                                                    hello_result["wrk"]["rounds_requests_per_s"], strict=True)]
    headline = {
        "tessera_rps_vs_hello": {"value": round(ratio, 3), "min": RATIO_TARGET},
        "hello_rps": {"value": round(hello_rps, 1), "unit": "req/s"},
        "tessera_rps": {"value": round(tessera_rps, 1), "unit": "req/s"},
        "hello_p50_ms": {"value": hello_result["wrk"]["latency_ms"]["p50"], "unit": "ms"},
        "hello_p99_ms": {"value": hello_result["wrk"]["latency_ms"]["p99"], "unit": "ms"},
        "tessera_p50_ms": {"value": tessera_result["wrk"]["latency_ms"]["p50"], "unit": "ms"},
        "tessera_p99_ms": {"value": tessera_result["wrk"]["latency_ms"]["p99"], "unit": "ms"},
        "tessera_peak_rss_mib": {"value": tessera_result["memory"]["peak_rss_mib"], "unit": "MiB"},
        "hello_cpu_us_per_request": {"value": hello_cpu, "unit": "us"},
        "tessera_cpu_us_per_request": {"value": tessera_cpu, "unit": "us"},
    }
    return {
        "description": "GET /api/developers/v1/objects (authenticated) vs a bare Starlette hello app",
        "warnings": caveats(hello_result, tessera_result, round_ratios),
        "settings": {"warmup_s": args.warmup, "duration_s": args.duration, "rounds": args.rounds,
                     "connections": args.connections, "threads": args.threads},
        "headline": headline,
        "round_ratios": round_ratios,
        "load_average": {"before": load_before, "after": load_average()},
        "hello": hello_result,
        "tessera": tessera_result,
    }


def caveats(hello: dict[str, Any], tessera: dict[str, Any], round_ratios: list[float]) -> list[str]:
    """What makes this run's ratio less trustworthy than it looks."""
    found = []
    for label, result in (("hello", hello), ("tessera", tessera)):
        busy = result["server_cpu"]["utilization"]
        if busy < SATURATED:
            effect = ", so the ratio overstates Tessera" if label == "hello" else ""
            found.append(f"{label} server CPU was only {busy:.0%} busy: its rate was limited by wrk or other "
                         f"processes, not by the app{effect}")
    if round_ratios and (max(round_ratios) - min(round_ratios)) > 0.1 * statistics.median(round_ratios):
        found.append(f"round ratios disagree by more than 10% ({', '.join(map(str, round_ratios))}): "
                     f"the machine's load changed during the run")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=15.0, help="measured seconds per server")
    parser.add_argument("--warmup", type=float, default=3.0, help="discarded seconds before measuring")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds the measured time is split into")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1)
    try:
        result = write_result(NAME, run(parser.parse_args()))
    except BenchmarkError as err:
        sys.exit(f"bench_http: {err}")
    log(f"server CPU busy: hello {result['hello']['server_cpu']['utilization']:.0%}, "
        f"tessera {result['tessera']['server_cpu']['utilization']:.0%}")
    log(f"ratio per round: {', '.join(str(r) for r in result['round_ratios'])}; "
        f"load average before {result['load_average']['before'][0]}, after {result['load_average']['after'][0]}")
    for warning in result["warnings"]:
        log(f"warning: {warning}")


if __name__ == "__main__":
    main()
