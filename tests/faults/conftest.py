"""Fixtures of the fault-injection suite (``make faults``; not part of the default test run).

One session brings up PRIVATE PostgreSQL, Redis and Meilisearch (``platform/stack/stack.sh`` with
``STACK_PRIVATE=1`` on free high ports under a fresh temporary ``STACK_DIR``) and tears them down
at the end; each scenario gets a database, a Redis database and an index prefix of its own on
them, and every API or worker process it starts is killed by pid when it ends.

Each scenario records its figures with the ``figures`` fixture; the session ends with a table of
them (the one ``docs/reliability.md`` reproduces). ``FAULTS_REPORT=path.json`` also writes them
as JSON.
"""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.faults.harness import Deployment, Services, figure_line

_ROWS: dict[str, dict[str, Any]] = {}
_OUTCOMES: dict[str, str] = {}
_STARTED = time.monotonic()


@pytest.fixture(scope="session")
def services() -> Iterator[Services]:
    private = Services()
    keep = os.environ.get("FAULTS_KEEP_LOGS") == "1"
    try:
        private.up()
        yield private
    finally:
        private.down(remove=not keep)
        if keep:
            print(f"\n[faults] logs kept in {private.dir}")


_redis_dbs = itertools.count(0)


@pytest.fixture
async def deploy(services: Services) -> AsyncIterator[Callable[[str], Any]]:
    """``await deploy(name)``: a fresh Deployment (database, Redis db, index prefix, workspace)."""
    made: list[Deployment] = []

    async def make(name: str) -> Deployment:
        db = next(_redis_dbs)
        assert db < 16, "more deployments than Redis databases"
        deployment = Deployment(services, name, db, services.dir)
        made.append(deployment)
        return await deployment.create()

    try:
        yield make
    finally:
        for deployment in made:
            deployment.stop_all()


class Figures:
    """What one scenario measured: printed at once, tabulated at the end of the session."""

    def __init__(self, nodeid: str) -> None:
        self.nodeid = nodeid
        self.row: dict[str, Any] = {"scenario": nodeid.rsplit("::", 1)[-1], "injected": "", "figures": {}}
        _ROWS[nodeid] = self.row

    def scenario(self, name: str, injected: str) -> None:
        self.row["scenario"] = name
        self.row["injected"] = injected

    def __setitem__(self, key: str, value: Any) -> None:
        self.row["figures"][key] = value

    def update(self, **values: Any) -> None:
        self.row["figures"].update(values)

    def show(self) -> None:
        print("\n" + figure_line(self.row["scenario"], self.row["figures"]), flush=True)


@pytest.fixture
def figures(request: pytest.FixtureRequest) -> Iterator[Figures]:
    recorded = Figures(request.node.nodeid)
    yield recorded
    recorded.show()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" or (report.when == "setup" and report.failed):
        _OUTCOMES[item.nodeid] = "pass" if report.passed else ("FAIL" if report.failed else report.outcome)
    elif report.when == "teardown" and report.failed and _OUTCOMES.get(item.nodeid) == "pass":
        _OUTCOMES[item.nodeid] = "FAIL (teardown)"


def _cell(value: Any) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _ROWS:
        return
    lines = ["", "| scenario | injected | figures | result |", "|---|---|---|---|"]
    for nodeid, row in _ROWS.items():
        shown = "; ".join(f"{k} {v}" for k, v in row["figures"].items())
        lines.append(f"| {_cell(row['scenario'])} | {_cell(row['injected'])} | {_cell(shown)} | "
                     f"{_OUTCOMES.get(nodeid, '?')} |")
    lines.append(f"\ntotal wall time: {time.monotonic() - _STARTED:.0f} s")
    terminalreporter.write_sep("=", "fault-injection figures")
    for line in lines:
        terminalreporter.write_line(line)
    target = os.environ.get("FAULTS_REPORT")
    if target:
        Path(target).write_bytes(orjson.dumps(
            [{**row, "result": _OUTCOMES.get(nodeid, "?")} for nodeid, row in _ROWS.items()],
            option=orjson.OPT_INDENT_2))
