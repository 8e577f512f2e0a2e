"""Change stream latency (issue 17, item 4): how long after a write commits its event reaches an
SSE stream held open on ANOTHER API process, under a steady 100 writes/s.

One fresh database (``tessera_bench_events``), two Tessera servers: A takes the writes, B holds
the stream (``GET /v1/events/stream``), so every event crosses processes through PostgreSQL
NOTIFY. A writer sends ``POST /v1/objects/person`` open-loop at ``--rate`` writes/s (each on its
own schedule, whatever the previous one's latency) for ``--seconds``; the reader notes when each
record's ``record.created`` arrives. Two latencies per write:

- ``from_send``: stream arrival minus the moment the write was sent, an upper bound (the commit
  happens somewhere between the send and the answer), the headline; target **p99 <= 500 ms**;
- ``from_answer``: stream arrival minus the moment the write's answer arrived, a lower bound
  (negative when the event reached the stream before the writer read its answer).

It also checks the stream saw every write exactly once, in position order. Not part of
``make bench``. Run: ``python tests/benchmarks/bench_events.py --quick`` (10 s; full: 60 s).
Writes ``results/events.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import httpx
import orjson
from harness import bench_database, create_workspace, free_port, load_average, serve, stack_env, write_result

DATABASE = "tessera_bench_events"
TARGET_P99_MS = 500.0


def percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    if not ordered:
        return {}

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)

    return {"p50": at(0.50), "p90": at(0.90), "p99": at(0.99), "max": round(ordered[-1], 2),
            "mean": round(statistics.fmean(ordered), 2), "count": len(ordered)}


async def read_stream(url: str, key: str, arrivals: dict[str, float], order: list[int], ready: asyncio.Event,
                      expected: int, stop: asyncio.Event) -> None:
    headers = {"Authorization": f"Bearer {key}", "Accept": "text/event-stream"}
    async with httpx.AsyncClient(timeout=httpx.Timeout(60, read=60)) as http, \
            http.stream("GET", f"{url}/api/developers/v1/events/stream?type=record.created", headers=headers) as resp:
        if resp.status_code != 200:
            raise RuntimeError(f"stream answered {resp.status_code}: {(await resp.aread())[:300]!r}")
        ready.set()
        async for line in resp.aiter_lines():
            if line.startswith("data:"):
                now = time.perf_counter()
                body = orjson.loads(line[5:])
                arrivals.setdefault(body["data"]["id"], now)
                order.append(int(body["id"]))
                if len(order) >= expected or stop.is_set():
                    return


async def write(client: httpx.AsyncClient, key: str, index: int, at: float, sent: dict[int, tuple[float, float, str]],
                failures: list[str]) -> None:
    await asyncio.sleep(max(0.0, at - time.perf_counter()))
    start = time.perf_counter()
    try:
        response = await client.post("/api/developers/v1/objects/person",
                                     json={"attributes": {"name": f"Bench Person {index}"}},
                                     headers={"Authorization": f"Bearer {key}"})
    except httpx.HTTPError as err:  # counted, not fatal: the figure says how many writes got through
        failures.append(f"{type(err).__name__}: {err}"[:200])
        return
    done = time.perf_counter()
    if response.status_code != 200:
        failures.append(f"{response.status_code}: {response.text[:200]}")
        return
    sent[index] = (start, done, str(response.json()["id"]))


async def measure(writer_url: str, stream_url: str, key: str, rate: float, seconds: float) -> dict[str, Any]:
    count = int(rate * seconds)
    arrivals: dict[str, float] = {}
    order: list[int] = []
    ready, stop = asyncio.Event(), asyncio.Event()
    reader = asyncio.create_task(read_stream(stream_url, key, arrivals, order, ready, count + 1, stop))
    await asyncio.wait_for(ready.wait(), timeout=30)
    sent: dict[int, tuple[float, float, str]] = {}
    failures: list[str] = []
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(base_url=writer_url, timeout=30, limits=limits) as client:
        await client.post("/api/developers/v1/objects/person", json={"attributes": {"name": "warm-up"}},
                          headers={"Authorization": f"Bearer {key}"})
        start = time.perf_counter() + 0.2
        await asyncio.gather(*(write(client, key, i, start + i / rate, sent, failures) for i in range(count)))
        elapsed = time.perf_counter() - start
    deadline = time.perf_counter() + 30
    while len(arrivals) < len(sent) + 1 and time.perf_counter() < deadline and not reader.done():
        await asyncio.sleep(0.1)
    stop.set()
    reader.cancel()
    with contextlib.suppress(asyncio.CancelledError, httpx.HTTPError):
        await reader
    from_send = [(arrivals[rid] - s) * 1000 for s, _, rid in sent.values() if rid in arrivals]
    from_answer = [(arrivals[rid] - d) * 1000 for _, d, rid in sent.values() if rid in arrivals]
    write_ms = [(d - s) * 1000 for s, d, _ in sent.values()]
    return {"writes": count, "written": len(sent), "failed_writes": len(failures), "failures": failures[:5],
            "achieved_rate_per_s": round(len(sent) / elapsed, 1), "streamed": len(order),
            "missing_from_stream": sum(1 for _, _, rid in sent.values() if rid not in arrivals),
            "duplicates": len(order) - len(set(order)), "in_order": order == sorted(order),
            "latency_ms": {"from_send": percentiles(from_send), "from_answer": percentiles(from_answer),
                           "write": percentiles(write_ms)}}


def run(args: argparse.Namespace) -> dict[str, Any]:
    seconds = 10.0 if args.quick else args.seconds
    env = stack_env(**({"REDIS_URL": args.redis_url} if args.redis_url else {}))
    load_before = load_average()
    with bench_database(env, name=DATABASE) as url:
        env["DATABASE_URL"] = url
        made = create_workspace(env)
        with serve(env, free_port(), startup_timeout=120) as writer, \
                serve(env, free_port(), startup_timeout=120) as streamer:
            result = asyncio.run(measure(writer.base_url, streamer.base_url, made["api_key"], args.rate, seconds))
    warnings = []
    if load_before[0] > 1.5:
        warnings.append(f"1-minute load average was {load_before[0]} at the start: other work shared the machine")
    if args.quick:
        warnings.append("quick preset (10 s): a development run")
    latency = result["latency_ms"]
    return {
        "description": f"record.created on an SSE stream of another API process, {args.rate:g} writes/s for "
                       f"{seconds:g} s",
        "preset": "quick" if args.quick else "full",
        "settings": {"rate_per_s": args.rate, "seconds": seconds, "database": DATABASE},
        "warnings": warnings,
        "headline": {
            "stream_latency_p50_ms": {"value": latency["from_send"].get("p50"), "unit": "ms"},
            "stream_latency_p99_ms": {"value": latency["from_send"].get("p99"), "unit": "ms", "max": TARGET_P99_MS},
        },
        "load_average": {"before": load_before, "after": load_average()},
        **result,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rate", type=float, default=100.0, help="writes per second")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--redis-url", default=None, help="Redis for the servers (default: the benchmarks' db)")
    result = write_result("events", run(parser.parse_args()))
    print(orjson.dumps({k: result[k] for k in ("headline", "latency_ms", "missing_from_stream", "duplicates",
                                                "in_order", "achieved_rate_per_s", "warnings")},
                       option=orjson.OPT_INDENT_2).decode())


if __name__ == "__main__":
    main()
