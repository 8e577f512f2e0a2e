"""The API's view of memory (``tessera.app_state.MemoryPort``): retrieve candidates (Meilisearch
hybrid search, plus items not indexed yet and items about the question's entities, all read from
PostgreSQL), then rank them. When Meilisearch cannot answer, PostgreSQL full text stands in and
the recollection says it is degraded."""

from __future__ import annotations

import asyncio
import dataclasses
import functools
from collections.abc import Sequence
from typing import Final

from search.client import SearchRequestError, SearchUnavailable
from search.memory import MemoryIndex
from tessera.context import memory
from tessera.context.memory import MemoryItem, RecalledPassage, Recollection
from tessera.db.tenant import Tenant
from workers.memory.embedding import Embedder
from workers.memory.ranking import Ranked, rank

CANDIDATES: Final = 30
SEMANTIC_RATIO: Final = 0.6
SEARCH_TIMEOUT_S: Final = 2.0


def _recalled(ranked: Ranked) -> RecalledPassage:
    return RecalledPassage(ranked.item, ranked.score, ranked.sentence, tuple(_recalled(r) for r in ranked.replaces))


class MemoryRecall:
    def __init__(self, index: MemoryIndex, embedder: Embedder) -> None:
        self.index = index
        self.embedder = embedder

    async def recall(self, tenant: Tenant, question: str, *, entity_ids: Sequence[int], entity_names: Sequence[str],
                     required_names: Sequence[str]) -> Recollection:
        # Embedding and ranking are CPU work (ONNX Runtime lets go of the GIL): off the event loop,
        # so other requests, of other workspaces too, go on meanwhile.
        vector = (await asyncio.to_thread(self.embedder.embed, [question]))[0]
        candidates: list[MemoryItem] = []
        retrieval, degraded = "hybrid", False
        try:
            hits = await asyncio.wait_for(self.index.search(
                tenant.workspace_id, question, vector, limit=CANDIDATES, semantic_ratio=SEMANTIC_RATIO),
                SEARCH_TIMEOUT_S)
            found = await memory.items_by_id(tenant, [h.id for h in hits])
            scores = {h.id: h.score for h in hits}
            candidates += [_with_keyword(found[h.id], scores[h.id]) for h in hits if h.id in found]
            candidates += await memory.search_text(tenant, question, limit=10, only_unindexed=True)
        except (SearchUnavailable, SearchRequestError, TimeoutError):
            retrieval, degraded = "postgres_fulltext", True
            candidates += await memory.search_text(tenant, question, limit=CANDIDATES)
        candidates += await memory.items_about(tenant, entity_ids, limit=20)
        ranking = await asyncio.to_thread(functools.partial(
            rank, question, vector, candidates, self.embedder, entity_ids=entity_ids, entity_names=entity_names,
            required_names=required_names))
        return Recollection(tuple(_recalled(r) for r in ranking.passages), ranking.confidence, ranking.answerable,
                            retrieval, degraded, ranking.why_not, ranking.residual)


def _with_keyword(item: MemoryItem, score: float) -> MemoryItem:
    return dataclasses.replace(item, keyword_score=score)
