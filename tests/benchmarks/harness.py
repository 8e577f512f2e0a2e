"""What every benchmark script needs: a fresh migrated database, a server in a subprocess, a load
generator (wrk) whose figures come back as a dict, and a results file with the machine attached.

Benchmarks are plain scripts (``python tests/benchmarks/bench_<name>.py``), run one by one by
``tests/benchmarks/run.py``; pytest never collects this folder. A script writes
``results/<name>.json`` through ``write_result`` and puts its headline figures under
``"headline"`` (see ``write_result``) so ``run.py`` can tabulate them in ``docs/benchmarks.md``.

On a machine with two or more CPUs the server is pinned to CPU 0 and wrk to CPU 1 (with
``taskset``), so the load generator does not steal the server's core. PostgreSQL and Redis are
not pinned: they run wherever the kernel puts them, as they would in a small deployment.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from threading import Thread
from typing import IO, Any

import asyncpg
import httpx

REPO = Path(__file__).resolve().parents[2]
BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"
BENCH_DATABASE = "tessera_bench"
BENCH_REDIS_DB = 2
"""Redis database the benchmarks use (0 is the dev server's, 1 the tests')."""

SERVER_CPU = 0
LOAD_CPU = 1
_WRK_MARKER = "WRK_JSON "

# wrk's own ``status`` error counts only responses >= 400; the response() hook below counts
# every non-2xx per thread, and done() sums the threads (wrk keeps one Lua state per thread).
_WRK_HOOKS = """
local __bench_threads = {}
function setup(thread)
  table.insert(__bench_threads, thread)
end
function response(status, headers, body)
  if status < 200 or status > 299 then
    __bench_non2xx = (__bench_non2xx or 0) + 1
  end
end
function done(summary, latency, requests)
  local non2xx = 0
  for _, t in ipairs(__bench_threads) do
    non2xx = non2xx + (t:get("__bench_non2xx") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    '%s{"requests":%d,"duration_us":%d,"bytes":%d,"requests_per_s":%.3f,' ..
    '"latency_ms":{"mean":%.3f,"stdev":%.3f,"p50":%.3f,"p90":%.3f,"p99":%.3f,"max":%.3f},' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d,"status_4xx_5xx":%d,"non_2xx":%d}}\\n',
    "__MARKER__", summary.requests, summary.duration, summary.bytes,
    summary.requests / (summary.duration / 1e6),
    latency.mean / 1000, latency.stdev / 1000,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000,
    e.connect, e.read, e.write, e.timeout, e.status, non2xx))
end
""".replace("__MARKER__", _WRK_MARKER)


class BenchmarkError(RuntimeError):
    """A benchmark cannot produce a meaningful figure (server down, wrong responses, no wrk)."""


# -- processes -------------------------------------------------------------------------------


def venv_bin(name: str) -> str:
    """Path of an executable installed next to the running interpreter (the project venv)."""
    candidate = Path(sys.prefix) / "bin" / name
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    if found is None:
        raise BenchmarkError(f"{name!r} is not installed in {sys.prefix} nor on PATH")
    return found


def pinned(argv: Sequence[str], cpu: int) -> list[str]:
    """``argv`` prefixed with ``taskset -c cpu`` when pinning is possible (taskset present, 2+ CPUs)."""
    if pinning_enabled():
        return ["taskset", "-c", str(cpu), *argv]
    return list(argv)


def pinning_enabled() -> bool:
    """True when server and load generator get separate CPUs."""
    return shutil.which("taskset") is not None and (os.cpu_count() or 1) >= 2


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stack_env(**overrides: str) -> dict[str, str]:
    """The current environment (``make bench`` exports ``.stack/env``) plus ``overrides``, with
    settings that keep logging and rate limiting out of the measurement and Redis state in
    ``BENCH_REDIS_DB``."""
    env = dict(os.environ)
    env["REDIS_URL"] = bench_redis_url(os.environ)
    env["LOG_LEVEL"] = "WARNING"
    env["RATE_LIMIT_DEFAULT_PER_MINUTE"] = "100000000"
    env["RATE_LIMIT_WORKSPACE_PER_MINUTE"] = "100000000"
    env["PYTHONUNBUFFERED"] = "1"
    env.setdefault("TESSERA_ENV", "development")  # the local stack's API and worker run on the development pepper
    env.update(overrides)
    return env


def bench_redis_url(env: Mapping[str, str] | None = None) -> str:
    """``REDIS_URL`` with its database number replaced by ``BENCH_REDIS_DB``."""
    url = (env or os.environ).get("REDIS_URL", "redis://127.0.0.1:6379/0")
    base, _, last = url.rpartition("/")
    if base.endswith(":/") or not last.isdigit():  # no database part: redis://host:port
        return url.rstrip("/") + f"/{BENCH_REDIS_DB}"
    return f"{base}/{BENCH_REDIS_DB}"


@dataclass
class Server:
    """A running server subprocess. ``pid`` is the serving process itself (``taskset`` execs its
    command, and uvicorn with one worker serves in-process), so ``/proc/<pid>`` describes it.
    ``output_tail`` holds the last lines of its stdout and stderr."""

    process: subprocess.Popen[bytes]
    base_url: str
    output_tail: deque[str] = field(default_factory=lambda: deque(maxlen=40))

    @property
    def pid(self) -> int:
        return self.process.pid

    def memory(self) -> dict[str, float]:
        """Peak (VmHWM) and current (VmRSS) resident memory in MiB."""
        return process_memory(self.pid)

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the server has used so far."""
        return process_cpu_seconds(self.pid)


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a Linux process, from ``/proc/<pid>/stat``."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2:].split()  # the command name may contain spaces
    utime, stime = int(fields[11]), int(fields[12])
    return (utime + stime) / os.sysconf("SC_CLK_TCK")


def process_memory(pid: int) -> dict[str, float]:
    """``{"peak_rss_mib", "rss_mib"}`` of a Linux process, from ``/proc/<pid>/status``."""
    values: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("VmHWM", "VmRSS"):
            values[name] = int(rest.split()[0]) / 1024  # kB -> MiB
    return {"peak_rss_mib": round(values["VmHWM"], 1), "rss_mib": round(values["VmRSS"], 1)}


def _drain(stream: IO[bytes], tail: deque[str]) -> None:
    for raw in iter(stream.readline, b""):
        line = raw.decode("utf-8", "replace").rstrip()
        tail.append(line)


@contextmanager
def serve(env: Mapping[str, str], port: int, *, argv: Sequence[str] | None = None,
          health_path: str = "/health", startup_timeout: float = 30.0) -> Iterator[Server]:
    """Run a server on 127.0.0.1:``port`` for the duration of the block.

    ``argv`` defaults to ``tessera serve --host 127.0.0.1 --port PORT``; the process is pinned to
    ``SERVER_CPU`` when possible. Yields once ``GET health_path`` answers 200; raises
    ``BenchmarkError`` with the tail of the server's output if it exits or does not get healthy
    within ``startup_timeout`` seconds. On exit sends SIGTERM, then SIGKILL after 10 s.
    """
    command = list(argv) if argv is not None else [
        venv_bin("tessera"), "serve", "--host", "127.0.0.1", "--port", str(port)]
    process = subprocess.Popen(pinned(command, SERVER_CPU), env=dict(env), cwd=REPO,
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert process.stdout is not None
    server = Server(process, f"http://127.0.0.1:{port}")
    drainer = Thread(target=_drain, args=(process.stdout, server.output_tail), daemon=True)
    drainer.start()
    try:
        _wait_healthy(server, health_path, startup_timeout)
        yield server
    finally:
        _stop(process)
        drainer.join(timeout=5)


def _wait_healthy(server: Server, health_path: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    last = "no answer yet"
    with httpx.Client(timeout=2.0) as client:
        while time.monotonic() < deadline:
            if server.process.poll() is not None:
                raise BenchmarkError(f"server exited with code {server.process.returncode} before getting "
                                     f"healthy; output tail:\n" + "\n".join(server.output_tail))
            try:
                reply = client.get(server.base_url + health_path)
                if reply.status_code == 200:
                    return
                last = f"HTTP {reply.status_code}: {reply.text[:300]}"
            except httpx.HTTPError as err:
                last = f"{type(err).__name__}: {err}"
            time.sleep(0.1)
    raise BenchmarkError(f"server not healthy at {server.base_url}{health_path} after {timeout:.0f} s "
                         f"(last: {last}); output tail:\n" + "\n".join(server.output_tail))


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


# -- database --------------------------------------------------------------------------------


@contextmanager
def bench_database(env: Mapping[str, str] | None = None, *, name: str = BENCH_DATABASE) -> Iterator[str]:
    """A freshly created and migrated database ``name`` (``tessera_bench`` unless a benchmark
    needs a scratch database of its own) on the server of ``DATABASE_URL``; yields its URL. The
    database is left in place afterwards for inspection and dropped (``WITH (FORCE)``) by the
    next run."""
    source = dict(env or os.environ)
    base_url = source.get("DATABASE_URL")
    if not base_url:
        raise BenchmarkError("DATABASE_URL is not set (run through `make bench`, which sources .stack/env)")
    server_url = base_url.rsplit("/", 1)[0]
    asyncpg_server = server_url.replace("postgresql+asyncpg://", "postgresql://", 1)
    url = f"{server_url}/{name}"

    async def recreate() -> None:
        conn = await asyncpg.connect(f"{asyncpg_server}/postgres")
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    asyncio.run(recreate())
    migrated = subprocess.run([venv_bin("tessera"), "migrate"], env={**source, "DATABASE_URL": url},
                              cwd=REPO, capture_output=True, text=True, check=False)
    if migrated.returncode != 0:
        raise BenchmarkError(f"`tessera migrate` failed on {url}:\n{migrated.stderr[-3000:]}")
    yield url


def create_workspace(env: Mapping[str, str], name: str = "bench") -> dict[str, str]:
    """``tessera admin create-workspace`` against ``env``'s database: ``{"workspace_id", "api_key"}``.
    The key holds every scope; its rate limit is the server's default (``stack_env`` raises it)."""
    made = subprocess.run([venv_bin("tessera"), "admin", "create-workspace", "--name", name],
                          env=dict(env), cwd=REPO, capture_output=True, text=True, check=False)
    if made.returncode != 0:
        raise BenchmarkError(f"create-workspace failed:\n{made.stderr[-3000:]}")
    data: dict[str, str] = json.loads(made.stdout.strip().splitlines()[-1])
    return data


# -- load ------------------------------------------------------------------------------------


def wrk_path() -> str:
    """The ``wrk`` executable; installs the distribution package when missing and running as root."""
    found = shutil.which("wrk")
    if found is not None:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get") is not None:
        print("wrk not found; installing it with apt-get", file=sys.stderr)
        done = subprocess.run(["apt-get", "install", "-y", "wrk"], capture_output=True, text=True, check=False)
        if done.returncode != 0:
            subprocess.run(["apt-get", "update"], capture_output=True, check=False)
            done = subprocess.run(["apt-get", "install", "-y", "wrk"], capture_output=True, text=True,
                                  check=False)
        found = shutil.which("wrk")
        if found is not None:
            return found
        raise BenchmarkError(f"installing wrk failed:\n{done.stderr[-2000:]}")
    raise BenchmarkError("wrk is not installed; install it (e.g. `sudo apt-get install -y wrk`) and rerun")


def wrk(url: str, *, duration: float, connections: int, threads: int,
        headers: Mapping[str, str] | None = None, lua: str | None = None, timeout_s: float = 10.0) -> dict[str, Any]:
    """Load ``url`` with wrk for ``duration`` seconds and return its figures:

    ``{"requests", "duration_us", "bytes", "requests_per_s", "latency_ms": {mean, stdev, p50,
    p90, p99, max}, "errors": {connect, read, write, timeout, status_4xx_5xx, non_2xx},
    "settings": {...}}``. ``lua`` is prepended to the script (use it for ``request``/``init``
    hooks); it must not define ``setup``, ``response`` or ``done``, which the harness owns.
    Raises ``BenchmarkError`` if wrk fails or prints no figures.
    """
    with tempfile.NamedTemporaryFile("w", suffix=".lua", prefix="bench-wrk-", delete=False) as script:
        script.write((lua or "") + "\n" + _WRK_HOOKS)
    argv = [wrk_path(), "--latency", f"--threads={threads}", f"--connections={connections}",
            f"--duration={max(1, round(duration))}s", f"--timeout={max(1, round(timeout_s))}s",
            f"--script={script.name}"]
    for name, value in (headers or {}).items():
        argv += ["--header", f"{name}: {value}"]
    argv.append(url)
    try:
        done = subprocess.run(pinned(argv, LOAD_CPU), capture_output=True, text=True, check=False,
                              timeout=duration + 60)
    finally:
        os.unlink(script.name)
    lines = [line for line in done.stdout.splitlines() if line.startswith(_WRK_MARKER)]
    if done.returncode != 0 or not lines:
        raise BenchmarkError(f"wrk failed (exit {done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    figures: dict[str, Any] = json.loads(lines[-1][len(_WRK_MARKER):])
    figures["settings"] = {"duration_s": duration, "connections": connections, "threads": threads,
                           "pinned": pinning_enabled()}
    return figures


def combine_wrk(runs: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """One figure set from several ``wrk`` runs against the same target (rounds): requests/s is
    total requests over total time; latency percentiles are the median of the rounds' values
    (wrk cannot export its histogram, so exact merged percentiles are not available) and
    ``max`` the largest; errors are summed. ``rounds_requests_per_s`` keeps each round's rate."""
    if not runs:
        raise ValueError("no runs to combine")
    requests = sum(int(run["requests"]) for run in runs)
    duration_us = sum(int(run["duration_us"]) for run in runs)
    latency = {name: statistics.median(float(run["latency_ms"][name]) for run in runs)
               for name in ("mean", "stdev", "p50", "p90", "p99")}
    latency["max"] = max(float(run["latency_ms"]["max"]) for run in runs)
    errors = {name: sum(int(run["errors"][name]) for run in runs) for name in runs[0]["errors"]}
    settings = dict(runs[0].get("settings", {}))
    settings["duration_s"] = sum(float(run.get("settings", {}).get("duration_s", 0)) for run in runs)
    settings["rounds"] = len(runs)
    return {
        "requests": requests,
        "duration_us": duration_us,
        "bytes": sum(int(run["bytes"]) for run in runs),
        "requests_per_s": round(requests / (duration_us / 1e6), 3),
        "latency_ms": {name: round(value, 3) for name, value in latency.items()},
        "errors": errors,
        "rounds_requests_per_s": [run["requests_per_s"] for run in runs],
        "settings": settings,
    }


def load_average() -> list[float]:
    """1, 5 and 15 minute load averages: other work on the machine skews every figure."""
    return [round(value, 2) for value in os.getloadavg()]


# -- results ---------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    info: dict[str, Any] = {
        "cpu_count": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "memory_gib": _memory_gib(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "pinned": pinning_enabled(),
    }
    return info


def _cpu_model() -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        return None
    return None


def _memory_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        return None
    return None


def write_result(name: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """Write ``results/<name>.json`` (``data`` plus ``benchmark``, ``date`` and ``machine``) and
    return what was written.

    ``run.py`` reads ``data["headline"]``: a dict of metric name to either a number or
    ``{"value": number, "unit": str, "min": number, "max": number}`` (all but ``value``
    optional; ``min``/``max`` are the target, the value passes when ``>= min`` / ``<= max``).
    """
    result: dict[str, Any] = {
        "benchmark": name,
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        **data,
    }
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / f"{name}.json").write_text(json.dumps(result, indent=2, sort_keys=False) + "\n")
    return result
