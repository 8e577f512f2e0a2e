"""What one tenant uploads cannot stall another: import previews and uploads parse off the event
loop within a time budget, the CSV reader refuses oversize fields and records with a 400, and
every parser of tenants' text runs in linear time on its worst input.

The audit's reproduction: a 36 KB CSV of three 12,000-digit cells ending in ``x`` took 11.5 s to
preview, and another workspace's ``GET /v1/objects`` waited 11.0 s behind it."""

from __future__ import annotations

import asyncio
import csv
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from schema_registry.definitions import AttributeDefinition, AttributeTypeName
from tessera.settings import Settings
from tessera.transfer.cells import coerce_cell, infer_type
from tessera.transfer.imports import iter_rows
from tests.conftest import API, FakeClock, Workspace, WorkspaceFactory
from tests.security.support import served
from workers.intelligence.identifiers import find_emails
from workers.intelligence.mail import read_message
from workers.intelligence.prose import find_prose_companies
from workers.intelligence.signals import CUES, split_sentences

AUDIT_CSV = ("name,employee_count,domains\n" + ",".join(["1" * 12_000 + "x"] * 3) + "\n").encode()
PROBE_LIMIT_S = 0.2


def preview_files(content: bytes, name: str = "hostile.csv") -> dict[str, Any]:
    return {"file": (name, content, "text/csv")}


async def preview(ws: Workspace, content: bytes, obj: str = "person") -> httpx.Response:
    return await ws.http.post(f"{API}/v1/objects/{obj}/imports/preview", files=preview_files(content),
                              headers=ws.headers())


async def upload(ws: Workspace, content: bytes) -> httpx.Response:
    return await ws.http.post(f"{API}/v1/objects/person/imports", files=preview_files(content),
                              headers=ws.headers())


def assert_contract_error(response: httpx.Response, status: int, words: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == status and words in body["message"], body


# -- HTTP: oversize fields and records are 400, never 500 -------------------------------------------

BIG_FIELD = ("name,description\n" + "Ada," + "x" * (csv.field_size_limit() + 1) + "\n").encode()


async def test_a_field_over_the_csv_limit_is_a_400_on_preview(ws: Workspace) -> None:
    assert_contract_error(await preview(ws, BIG_FIELD), 400, f"field longer than {csv.field_size_limit()}")


async def test_a_field_over_the_csv_limit_is_a_400_on_upload(ws: Workspace) -> None:
    assert_contract_error(await upload(ws, BIG_FIELD), 400, f"field longer than {csv.field_size_limit()}")
    listed = await ws.post("/v1/objects/person/records", {})
    assert listed.json()["total"] == 0, "a refused upload creates nothing"


@pytest.mark.usefixtures("worker")
async def test_a_field_over_the_csv_limit_past_the_first_mib_fails_the_import(ws: Workspace) -> None:
    """Only the first MiB is read at upload; the worker reports a later oversize field on the
    import (status failed, the reason in ``error``) instead of crashing on it."""
    content = (b"name,description\nAda,first\n" + b"\n" * (1024 * 1024)
               + b"Bob," + b"x" * (csv.field_size_limit() + 1) + b"\n")
    response = await upload(ws, content)
    assert response.status_code == 200, response.text
    deadline = time.monotonic() + 30
    while (job := (await ws.get(f"/v1/imports/{response.json()['id']}")).json())["status"] not in ("failed",
                                                                                                    "completed"):
        assert time.monotonic() < deadline, job
        await asyncio.sleep(0.1)
    assert job["status"] == "failed" and "field longer than" in job["error"], job


async def test_a_record_over_the_record_cap_is_a_400(ws: Workspace, settings: Settings) -> None:
    """A quoted field that never closes spans every line after it: the logical record is capped
    (``import_max_record_chars``) instead of growing, and re-scanned, to the end of the file."""
    content = ('name,description\nAda,"' + "a\n" * (settings.import_max_record_chars // 2 + 10)).encode()
    assert_contract_error(await preview(ws, content), 400, f"longer than {settings.import_max_record_chars}")


async def test_the_audit_file_previews_at_once(ws: Workspace) -> None:
    started = time.monotonic()
    response = await preview(ws, AUDIT_CSV, obj="company")
    assert response.status_code == 200, response.text
    assert time.monotonic() - started < 1.0
    columns = {c["name"]: c for c in response.json()["columns"]}
    assert columns["employee_count"]["inferred_type"] == "text"


# -- HTTP: parsing never holds the event loop -----------------------------------------------------

@pytest.fixture(scope="module")
async def served_api(settings: Settings, clock: FakeClock) -> AsyncIterator[str]:
    """A second API under uvicorn on loopback (same database and Redis as the session app), so
    requests really run side by side."""
    from tessera.app import create_app

    app = create_app(settings, clock=clock)
    async with served(app) as base:
        yield base


async def test_a_hostile_preview_does_not_delay_another_workspace(served_api: str,
                                                                  make_workspace: WorkspaceFactory) -> None:
    """While workspace A previews hostile files (the audit's, and a MiB of blank lines that takes
    a while to read however it is parsed), workspace B's ``GET /v1/objects`` answers within 200 ms
    every time."""
    hostile, other = await make_workspace("hostile"), await make_workspace("other")
    blank_lines = b"name\n" + b"\n" * (1024 * 1024 - 8)
    async with httpx.AsyncClient(base_url=served_api + API, timeout=60) as http:
        async def attack(content: bytes) -> httpx.Response:
            return await http.post("/v1/objects/person/imports/preview", files=preview_files(content),
                                   headers=hostile.headers())

        async def probe(due: float) -> float:
            """Seconds from when the probe was due to its answer: the server shares this event
            loop, so a parse holding the loop delays the probe's start as well as its answer."""
            response = await http.get("/v1/objects", headers=other.headers())
            assert response.status_code == 200, response.text
            return time.monotonic() - due

        await probe(time.monotonic())  # warm the key cache and the connection
        attacks = [asyncio.create_task(attack(c)) for c in (AUDIT_CSV, blank_lines, blank_lines, blank_lines)]
        latencies: list[float] = []
        while not all(a.done() for a in attacks):
            latencies.append(await probe(time.monotonic()))
            due = time.monotonic() + 0.02
            await asyncio.sleep(0.02)
            latencies.append(time.monotonic() - due)  # the pause between probes counts too
        answers = [await a for a in attacks]
    assert [a.status_code for a in answers] == [200] * 4, [a.text for a in answers]
    assert latencies, "the previews ended before the first probe"
    assert max(latencies) < PROBE_LIMIT_S, f"slowest GET /v1/objects: {max(latencies):.3f} s over {len(latencies)}"


async def test_a_preview_over_the_time_budget_is_a_400(settings: Settings, clock: FakeClock) -> None:
    """The budget (``parse_time_budget_seconds``) bounds a parse however its input is built."""
    from tessera.app import create_app
    from tessera.workspaces import create_workspace

    budget_s = 0.05
    app: Any = create_app(settings.model_copy(update={"parse_time_budget_seconds": budget_s}), clock=clock)
    async with app.router.lifespan_context(app):
        made = await create_workspace(app.state.tessera.engine, name="budget",
                                      pepper=settings.key_pepper.get_secret_value().encode(), clock=clock)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://budget") as http:
            ws = Workspace(id=str(made.workspace_id), key=made.api_key, http=http)
            started = time.monotonic()
            response = await preview(ws, b"name\n" + b"\n" * (1024 * 1024 - 8))
            elapsed = time.monotonic() - started
    assert_contract_error(response, 400, "took too long to parse")
    assert elapsed < budget_s + 1.5


# -- Linear time on the worst input of each parser ------------------------------------------------

SIZES = (10_000, 100_000, 1_000_000)
RATIO_LIMIT = 20
NOISE_S = 0.05
"""Allowance for timer noise on a shared machine: a step may take 20x its predecessor plus this."""
SECONDS_PER_10K = 0.25
"""A ceiling far above any linear parser here (the slowest takes ~0.02 s per 10 KB): a size that
takes longer fails at once, so a quadratic parser fails in seconds instead of hours."""
PRICE = AttributeDefinition(1, 1, "price", "Price", AttributeTypeName.CURRENCY)
USD_CUE = next(c.pattern for c in CUES if "USD" in c.pattern.pattern)


def csv_rows(text: str) -> list[Any]:
    async def chunks() -> AsyncIterator[bytes]:
        data = text.encode()
        for at in range(0, len(data), 1 << 20):
            yield data[at:at + (1 << 20)]

    async def read() -> list[Any]:
        return [row async for row in iter_rows(chunks(), "csv")]

    return asyncio.run(read())


WORST_CASES: dict[str, tuple[Callable[[str], object], Callable[[int], str]]] = {
    # parser: (call, worst input of n characters)
    "cells-number": (lambda t: infer_type([t]), lambda n: "1" * n + "x"),  # the audit's cell
    "cells-currency": (lambda t: coerce_cell(PRICE, t), lambda n: " " * n + "x"),
    "cells-email": (lambda t: infer_type([t]), lambda n: "a@" + "." * n + "@"),
    "csv-quoted-record": (csv_rows, lambda n: "a\n" + '"x\ny",' * ((n - 100) // 6) + "z\n"),
    "mail-from-angle": (read_message, lambda n: "From: Jane" + " " * n + "<jane@acme.com"),
    "mail-parentheses": (read_message, lambda n: "From: Jane (" + "(" * n),
    "mail-blanks": (read_message, lambda n: " " * n + "x"),
    "text-emails": (find_emails, lambda n: "O'" * (n // 2)),
    "text-sentences": (lambda t: split_sentences(t, []), lambda n: "Deal " + " " * n + "x"),
    "text-amount-cue": (USD_CUE.search, lambda n: "1." * (n // 2) + "x"),
    "text-company-cues": (find_prose_companies, lambda n: ("met at Acme" + " x" * 50) * (n // 111)),
}


def best_time(parse: Callable[[str], object], text: str, *, enough: float, runs: int = 3) -> float:
    """The fastest of up to ``runs`` runs; stops early once one is within ``enough`` seconds."""
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        parse(text)
        best = min(best, time.perf_counter() - started)
        if best <= enough:
            break
    return best


@pytest.mark.parametrize("case", sorted(WORST_CASES))
def test_parsers_run_in_linear_time_on_their_worst_input(case: str) -> None:
    """10 KB, 100 KB and 1 MB of the worst case: each size takes at most 20x the one before.
    Sizes go up one at a time and a size far slower than linear fails before the next."""
    parse, make = WORST_CASES[case]
    previous: float | None = None
    for size in SIZES:
        ceiling = SECONDS_PER_10K * size / 10_000
        limit = ceiling if previous is None else min(ceiling, RATIO_LIMIT * previous + NOISE_S)
        elapsed = best_time(parse, make(size), enough=limit if previous is not None else 0.0)
        assert elapsed < ceiling, f"{size} characters took {elapsed:.2f} s"
        if previous is not None:
            assert elapsed < RATIO_LIMIT * previous + NOISE_S, (
                f"{size} characters took {elapsed:.4f} s, {elapsed / max(previous, 1e-9):.0f}x the "
                f"{size // 10} before ({previous:.4f} s)")
        previous = elapsed
