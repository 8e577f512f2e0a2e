"""What the worker's jobs run on: one ``WorkerDeps``, built once by ``workers.lifecycle.startup``.

arq hands every job a dict (``ctx``), a shallow copy of the worker's, to which it adds its own
keys (``redis``, ``job_id``, ``job_try``, ...). Ours all live under one key, ``DEPS_KEY``, as a
frozen dataclass, and jobs read them through ``deps(ctx)``: typed, and a copy of ``ctx`` shares
them with the worker instead of shadowing them (a value a job stored in its ``ctx`` was lost when
the job ended).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the modules below import this one, for ``deps``
    import httpx
    from sqlalchemy.ext.asyncio import AsyncEngine

    from search.engine import SearchEngine
    from search.memory import MemoryIndex
    from tessera.db.ids import IdAllocator
    from tessera.redis_client import RedisClient
    from tessera.registry.cache import SchemaCache
    from tessera.settings import Settings
    from workers.intelligence.extractor import Extractor
    from workers.leases import JobLeases
    from workers.memory.embedding import Embedder
    from workers.search_indexer import Schemas
    from workers.webhook_delivery import DeliverySender

DEPS_KEY = "tessera"
"""The key of ``WorkerDeps`` in arq's ``ctx`` (arq's own keys are left as they are)."""


@dataclass(frozen=True, slots=True)
class WorkerDeps:
    """The worker process's connections, clients and caches (one of each per process)."""

    settings: Settings
    engine: AsyncEngine
    search: SearchEngine
    memory_index: MemoryIndex
    memory_index_ready: asyncio.Event
    """Set once the memory index has its settings: its embedder must exist before a document
    carries vectors (start-up tries; the memory relay tries again until it succeeds)."""
    embedder: Embedder
    schemas: Schemas  # the search relay's schema cache
    schemas_cache: SchemaCache  # the write path's schema cache
    ids: IdAllocator
    leases: JobLeases
    redis_client: RedisClient  # Tessera's queue and pub/sub client (arq's own pool is ``ctx["redis"]``)
    http: httpx.AsyncClient  # webhook sends
    webhook_sender: DeliverySender
    extractor: Extractor


def deps(ctx: Mapping[str, Any]) -> WorkerDeps:
    """The ``WorkerDeps`` in arq's ``ctx``. Raises ``RuntimeError`` before start-up built them."""
    found = ctx.get(DEPS_KEY)
    if not isinstance(found, WorkerDeps):
        raise RuntimeError("the worker has not started: its ctx holds no WorkerDeps")
    return found
