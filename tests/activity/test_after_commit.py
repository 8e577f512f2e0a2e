"""After commit, the unit of work wakes exactly the workers whose outbox topics a write wrote.

The worker here runs without its per-second sweeps, so nothing but the wake-up can deliver: a
write that forgot to wake its worker would leave its outbox rows (and its webhook) waiting."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from arq.worker import Worker

from tessera.settings import Settings
from tests.conftest import stop_worker
from tests.isolated import IsolatedStack
from tests.receiver import Receiver, running_receiver
from workers.deps import DEPS_KEY
from workers.settings import build_worker_settings

WITHIN_S = 1.0


@pytest.fixture(scope="module")
async def stack(settings: Settings) -> AsyncIterator[IsolatedStack]:
    async with IsolatedStack(settings, "wakes", 8) as isolated:
        options = build_worker_settings(isolated.settings)
        worker = Worker(**{**options, "cron_jobs": [], "handle_signals": False, "poll_delay": 0.02})
        task = asyncio.create_task(worker.async_run())
        for _ in range(400):
            if DEPS_KEY in worker.ctx:
                break
            await asyncio.sleep(0.05)
        assert DEPS_KEY in worker.ctx, "the worker did not start"
        # Warm up: the first memory item loads the embedding model (seconds), which is not what
        # these tests time.
        assert (await isolated.call("POST", "/v1/notes", {"title": "Warm", "content": "up"})).status_code == 200
        deadline = time.monotonic() + 180
        while await isolated.scalar("SELECT count(*) FROM outbox WHERE processed_at IS NULL"):
            assert time.monotonic() < deadline, "the worker did not index the warm-up note"
            await asyncio.sleep(0.1)
        yield isolated
        await stop_worker(worker, task)


@pytest.fixture(scope="module")
async def receiver(stack: IsolatedStack) -> AsyncIterator[Receiver]:
    async with running_receiver() as running:
        response = await stack.call("POST", "/v1/webhooks", {"url": running.url, "events": ["*"]})
        assert response.status_code == 200, response.text
        yield running


async def _delivered(receiver: Receiver, event_type: str, started: float) -> float:
    """Seconds from the write's answer until its webhook reached the receiver."""
    import orjson

    while event_type not in [orjson.loads(r.body)["type"] for r in receiver.requests]:
        assert time.monotonic() - started < 10, f"{event_type} not delivered"
        await asyncio.sleep(0.01)
    return time.monotonic() - started


async def _drained(stack: IsolatedStack, topic: str) -> None:
    """Every outbox row of ``topic`` gets processed. No sweep runs here: only a wake-up can do it
    (the memory relay's own work, embedding and Meilisearch's indexing, takes seconds)."""
    deadline = time.monotonic() + 60
    while await stack.scalar("SELECT count(*) FROM outbox WHERE topic = $1 AND processed_at IS NULL", topic):
        assert time.monotonic() < deadline, f"the {topic} relay was not woken"
        await asyncio.sleep(0.05)


async def _write(stack: IsolatedStack, method: str, path: str, body: Any) -> tuple[dict[str, Any], float]:
    response = await stack.call(method, path, body)
    assert response.status_code == 200, response.text
    return (response.json() if response.content else {}), time.monotonic()


async def test_a_task_wakes_the_webhook_job(stack: IsolatedStack, receiver: Receiver) -> None:
    _, at = await _write(stack, "POST", "/v1/tasks", {"title": "Call back"})
    assert await _delivered(receiver, "task.created", at) < WITHIN_S


async def test_a_note_wakes_the_webhook_job_and_the_memory_relay(stack: IsolatedStack, receiver: Receiver) -> None:
    _, at = await _write(stack, "POST", "/v1/notes", {"title": "Pricing", "content": "They want annual billing"})
    assert await _delivered(receiver, "note.created", at) < WITHIN_S
    await _drained(stack, "memory")
    unindexed = "SELECT count(*) FROM memory_items WHERE source_type = 'note' AND indexed_at IS NULL"
    assert await stack.scalar(unindexed) == 0


async def test_a_schema_change_wakes_the_webhook_job_and_the_search_relay(stack: IsolatedStack,
                                                                          receiver: Receiver) -> None:
    _, at = await _write(stack, "POST", "/v1/objects/person/attributes",
                         {"name": "Tier", "slug": "tier", "type": "text"})
    assert await _delivered(receiver, "attribute.created", at) < WITHIN_S
    # Deleting an attribute rebuilds the object's documents: a search outbox row, relayed at once.
    _, at = await _write(stack, "DELETE", "/v1/objects/person/attributes/tier", None)
    assert await _delivered(receiver, "attribute.deleted", at) < WITHIN_S
    assert await stack.scalar("SELECT count(*) FROM outbox WHERE topic = 'search' AND event_type = 'object.reindex'")
    await _drained(stack, "search")


async def test_a_list_entry_wakes_the_webhook_job(stack: IsolatedStack, receiver: Receiver) -> None:
    person, _ = await _write(stack, "POST", "/v1/objects/person", {"attributes": {"name": "Listed Person"}})
    assert await _delivered(receiver, "record.created", time.monotonic()) < WITHIN_S
    lst, _ = await _write(stack, "POST", "/v1/objects/person/lists", {"name": "Prospects", "slug": "prospects"})
    _, at = await _write(stack, "POST", f"/v1/lists/{lst['id']}", {"parent_id": person["id"]})
    assert await _delivered(receiver, "list_entry.created", at) < WITHIN_S


async def test_a_record_wakes_the_search_relay(stack: IsolatedStack, receiver: Receiver) -> None:
    await _write(stack, "POST", "/v1/objects/person", {"attributes": {"name": "Searchable Quokka"}})
    await _drained(stack, "search")
    hits = (await stack.call("POST", "/v1/search", {"query": "quokka"})).json()
    assert [h["primary_value"] for h in hits["results"]["person"]] == ["Searchable Quokka"]
