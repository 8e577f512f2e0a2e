"""Profiling a benchmarked process: ``py-spy`` samples of a pid while a block runs, their collapsed
stacks summarized as the top frames of our own code, and the profile of a run of requests."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from harness import BenchmarkError, pinned, venv_bin
from workload_data import sample


@contextmanager
def py_spy(pid: int, out_path: str, *, rate: int = 200) -> Iterator[None]:
    """Sample ``pid`` with ``py-spy record`` (non-blocking, from the load generator's CPU) for the
    duration of the block; collapsed stacks go to ``out_path``. A no-op when py-spy is missing."""
    from harness import LOAD_CPU

    try:
        exe = venv_bin("py-spy")
    except BenchmarkError:
        yield
        return
    argv = pinned([exe, "record", "--pid", str(pid), "--rate", str(rate), "--format", "raw", "--nonblocking",
                   "--duration", "3600", "-o", out_path], LOAD_CPU)
    process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    try:
        yield
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def summarize_profile(path: str, *, top: int = 20) -> dict[str, Any]:
    """Share of the busy samples per function (file and name, line numbers dropped): ``inclusive``
    (the function is on the stack) and ``self`` (innermost frame). Samples whose innermost
    frame is the event loop itself (uvloop runs in C: that is waiting) count as ``idle``;
    frames on (nearly) every busy stack (the CLI, uvicorn, the loop) are left out."""
    import re

    inclusive: dict[str, int] = {}
    own: dict[str, int] = {}
    busy = idle = 0
    try:
        text = Path(path).read_text()
    except OSError:
        return {"samples": 0}
    for line in text.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [re.sub(r":\d+\)$", ")", f) for f in stack.split(";")]
        frames = [re.sub(r"\((?:/[^()]*?/)?(site-packages/|platform/|work/main/)?", "(", f) for f in frames]
        if frames[-1].startswith(("Runner.run ", "run_forever ", "BaseEventLoop.run_forever ", "_run_once ")):
            idle += count
            continue
        busy += count
        for frame in set(frames):
            inclusive[frame] = inclusive.get(frame, 0) + count
        own[frames[-1]] = own.get(frames[-1], 0) + count
    if not busy:
        return {"samples": idle, "busy_samples": 0}

    trunk = re.compile(r"\((click/|uvicorn/|asyncio/runners|tessera/cli|tessera\)|runpy|starlette/|"
                       r"tessera/http/middleware)")

    def share(table: dict[str, int]) -> list[tuple[str, float]]:
        ranked = sorted(((k, v) for k, v in table.items() if v < 0.98 * busy and not trunk.search(k)),
                        key=lambda kv: -kv[1])[:top]
        return [(name, round(100 * n / busy, 1)) for name, n in ranked]

    return {"samples": busy + idle, "busy_samples": busy, "idle_pct": round(100 * idle / (busy + idle), 1),
            "inclusive_pct": share(inclusive), "self_pct": share(own)}


def profile_requests(pid: int, client: httpx.Client, requests: Sequence[tuple[str, str, Any]]) -> dict[str, Any]:
    """py-spy profile of the server ``pid`` over one more (unmeasured) pass of ``requests``."""
    import tempfile

    with tempfile.NamedTemporaryFile(suffix=".collapsed", delete=False) as handle:
        path = handle.name
    try:
        with py_spy(pid, path):
            sample(client, requests, rounds=1, warmup=0)
        return summarize_profile(path)
    finally:
        Path(path).unlink(missing_ok=True)
