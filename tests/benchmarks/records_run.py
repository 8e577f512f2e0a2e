"""The state of one ``bench_records`` run (its workspaces, server and results), the CPU counters
it reads from ``/proc``, and the setup every workspace gets: the ``deal`` object and its attributes."""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from harness import BenchmarkError, Server
from records_data import OBJECT_SLUG, attribute_specs

API = "/api/developers"


def postgres_cpu_seconds() -> float:
    """User + system CPU of every ``postgres`` process (server and backends) so far; backends
    that exited meanwhile are lost, so use it over phases with long-lived connections."""
    total = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        if name == "postgres":
            fields = stat[stat.rindex(")") + 2:].split()
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def run_queue_seconds(pid: int) -> float:
    """Time a process has spent runnable but waiting for a CPU (``/proc/<pid>/schedstat``): on a
    shared machine, the part of latency that is other processes' doing."""
    return int(Path(f"/proc/{pid}/schedstat").read_text().split()[1]) / 1e9


@dataclass
class Workspace:
    label: str
    workspace_id: int
    key: str
    records: int
    stream: int
    object_id: int = 0

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}", "Content-Type": "application/json"}


@dataclass
class Run:
    args: argparse.Namespace
    env: dict[str, str]
    url: str
    server: Server
    workspaces: list[Workspace]
    result: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def main(self) -> Workspace:
        return self.workspaces[0]

    def batches(self, workspace: Workspace) -> range:
        return range((workspace.records + self.args.batch_size - 1) // self.args.batch_size)

    def batch_size_of(self, workspace: Workspace, batch: int) -> int:
        size: int = min(self.args.batch_size, workspace.records - batch * self.args.batch_size)
        return size


# -- setup ---------------------------------------------------------------------------------


def create_object(base_url: str, workspace: Workspace) -> None:
    with httpx.Client(base_url=base_url + API, headers=workspace.headers, timeout=30.0) as client:
        made = client.post("/v1/objects", json={"name": "Deal", "slug": OBJECT_SLUG, "type": "custom"})
        if made.status_code != 200:
            raise BenchmarkError(f"creating the object failed: {made.status_code} {made.text[:500]}")
        workspace.object_id = int(made.json()["id"])
        for spec in attribute_specs():
            reply = client.post(f"/v1/objects/{OBJECT_SLUG}/attributes", json=spec.request())
            if reply.status_code != 200:
                raise BenchmarkError(f"creating attribute {spec.slug} failed: {reply.status_code} {reply.text[:500]}")
