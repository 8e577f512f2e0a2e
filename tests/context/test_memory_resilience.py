"""Memory survives failure: items committed with their artifact are indexed after a worker is
killed with -9 between commit and indexing, and ask still answers, from PostgreSQL, while
Meilisearch is down. A database, a Redis database, a Meilisearch and workers of its own."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tessera.settings import Settings
from tests.isolated import IsolatedStack, WorkerProcess

TEXTS = [" ".join(f"Supplier number {i} for the Rotterdam warehouse is Vendor{i} Logistics; their depot code is "
                  f"D{i:03d}, shelf {j} holds crate {i * 100 + j}." for j in range(16)) for i in range(40)]
"""40 texts of 16 sentences: ~600 passages, several seconds of embedding, so a kill lands mid-batch."""
RELAY_LOCK_HELD = ("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                   "AND ((classid::bigint << 32) | objid::bigint) = $1")


@pytest.fixture(scope="module")
async def stack(settings: Settings) -> AsyncIterator[IsolatedStack]:
    async with IsolatedStack(settings, "memory_kill", redis_db=7) as isolated:
        yield isolated


async def unindexed(stack: IsolatedStack) -> int:
    return int(await stack.scalar(
        "SELECT (SELECT count(*) FROM memory_items WHERE indexed_at IS NULL) + "
        "(SELECT count(*) FROM outbox WHERE topic = 'memory' AND processed_at IS NULL)"))


async def indexed_documents(stack: IsolatedStack) -> int:
    from workers.lifecycle import memory_index, search_engine

    index = memory_index(stack.settings, search_engine(stack.settings).client)
    try:
        stats = await index.client.stats(index.index_uid)
        return int(stats["numberOfDocuments"])
    finally:
        await index.client.close()


async def ask(stack: IsolatedStack, query: str) -> dict[str, Any]:
    response = await stack.call("POST", "/v1/context/ask", {"query": query})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_memory_committed_before_a_kill_9_is_indexed_after_it(stack: IsolatedStack) -> None:
    from tessera.db.locks import MEMORY_RELAY_LOCK

    for text in TEXTS:  # no worker yet: everything waits in the outbox, committed with its artifact
        assert (await stack.call("POST", "/v1/context/text", {"content": text})).status_code == 200
    items = int(await stack.scalar("SELECT count(*) FROM memory_items WHERE source_type = 'artifact'"))
    before = await unindexed(stack)
    assert items >= 500 and before == items + len(TEXTS)
    worker: WorkerProcess = stack.worker()
    worker.start()
    try:
        deadline = time.monotonic() + 60
        while not await stack.scalar(RELAY_LOCK_HELD, MEMORY_RELAY_LOCK):  # the relay is inside a batch
            assert time.monotonic() < deadline, "the memory relay never started:\n" + worker.tail()
            await asyncio.sleep(0.005)
        worker.kill()  # between the artifacts' commit and their indexing
        at_kill = await unindexed(stack)
        worker.start()
        deadline = time.monotonic() + 180
        while await unindexed(stack) or int(await stack.scalar(
                "SELECT count(*) FROM artifacts WHERE status <> 'completed'")):
            assert time.monotonic() < deadline, "memory was not indexed after the restart:\n" + worker.tail()
            await asyncio.sleep(0.2)
    finally:
        worker.kill()
    assert at_kill >= items, f"the kill came after the batch committed ({at_kill} of {before} left)"
    total = int(await stack.scalar("SELECT count(*) FROM memory_items"))
    assert await indexed_documents(stack) == total
    answer = await ask(stack, "What is the depot code of Vendor17 Logistics?")
    assert "D017" in answer["answer"], answer["answer"]
    assert answer["metadata"]["degraded"] is False


async def test_ask_answers_from_postgres_while_meilisearch_is_down(stack: IsolatedStack) -> None:
    assert stack.meili is not None
    assert (await stack.call("POST", "/v1/context/text",
                             {"content": "My favorite color is blue and I love TypeScript"})).status_code == 200
    stack.meili.stop()
    try:
        started = time.monotonic()
        answer = await ask(stack, "What is my favorite color?")
        took = time.monotonic() - started
        assert "blue" in answer["answer"].lower(), answer["answer"]
        metadata = answer["metadata"]
        assert metadata["degraded"] is True and metadata["retrieval"] == "postgres_fulltext"
        assert "degraded_reason" in metadata
        assert took < 5, f"the degraded answer took {took:.1f} s"
    finally:
        stack.meili.start()


async def test_one_workspace_backlog_does_not_hold_up_another(stack: IsolatedStack) -> None:
    from tessera.workspaces import create_workspace
    from workers.lifecycle import embedder, memory_index, search_engine
    from workers.memory.indexer import relay_memory_batch

    app: Any = stack.app
    engine = app.state.tessera.engine
    other = await create_workspace(engine, name="quiet", pepper=stack.settings.key_pepper.get_secret_value().encode(),
                                   clock=time.time)
    for i in range(6):  # the busy workspace's backlog, older than the quiet one's single text
        assert (await stack.call("POST", "/v1/context/text", {"content": f"Backlog note {i} about pallets."})
                ).status_code == 200
    quiet = await stack.http.post("/api/developers/v1/context/text", json={"content": "The quiet note."},
                                  headers={"Authorization": f"Bearer {other.api_key}"})
    assert quiet.status_code == 200
    index = memory_index(stack.settings, search_engine(stack.settings).client)
    try:
        await index.ensure_index()
        assert await relay_memory_batch(engine, index, embedder(stack.settings), batch=2) == 2
    finally:
        await index.client.close()
    indexed_quiet = await stack.scalar(
        "SELECT count(*) FROM memory_items WHERE workspace_id = $1 AND indexed_at IS NOT NULL", other.workspace_id)
    assert indexed_quiet == 1, "the quiet workspace waited behind the busy one's backlog"
