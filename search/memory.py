"""The memory index: one Meilisearch index holding every workspace's memory items, searched with
keywords and vectors at once (hybrid search with a ``userProvided`` embedder: Tessera computes
the vectors itself, so Meilisearch never calls a model).

A document is ``{id, workspace_id, source, source_type, source_id, position, context, content,
entity_ids, created_at, _vectors: {"default": [...]}}``; ``source`` (``artifact:42``) lets the
relay replace all items of one source at once. Every query is filtered by workspace in the engine.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from search.client import MeiliClient, SearchRequestError, TaskFailed

EMBEDDER = "default"
STOP_WORDS = (
    "a", "about", "am", "an", "and", "any", "are", "as", "at", "be", "been", "by", "can", "could", "did", "do",
    "does", "for", "from", "had", "has", "have", "he", "her", "his", "how", "i", "if", "in", "is", "it", "its",
    "me", "my", "of", "on", "or", "our", "she", "so", "than", "that", "the", "their", "them", "then", "there",
    "these", "they", "this", "to", "us", "was", "we", "were", "what", "when", "where", "which", "who", "whom",
    "why", "will", "with", "would", "you", "your",
)


@dataclass(frozen=True, slots=True)
class MemoryHit:
    id: int
    score: float


def memory_settings(dimensions: int) -> dict[str, Any]:
    return {
        "searchableAttributes": ["content", "context"],
        "filterableAttributes": ["workspace_id", "source", "entity_ids"],
        "displayedAttributes": ["id"],
        "stopWords": list(STOP_WORDS),
        "typoTolerance": {"enabled": True},
        "embedders": {EMBEDDER: {"source": "userProvided", "dimensions": dimensions}},
        "pagination": {"maxTotalHits": 1000},
    }


def build_memory_document(item: Any, workspace_id: int, vector: Sequence[float]) -> dict[str, Any]:
    """The document of one memory item (``item`` has the ``MemoryItem`` fields)."""
    return {
        "id": str(item.id), "workspace_id": workspace_id, "source": f"{item.source_type}:{item.source_id}",
        "source_type": item.source_type, "source_id": str(item.source_id), "position": item.position,
        "context": item.context, "content": item.content, "entity_ids": [str(e) for e in item.entity_ids],
        "created_at": item.created_at.timestamp(), "_vectors": {EMBEDDER: [float(v) for v in vector]},
    }


class MemoryIndex:
    def __init__(self, client: MeiliClient, index_uid: str, dimensions: int) -> None:
        self.client = client
        self.index_uid = index_uid
        self.dimensions = dimensions

    async def ensure_index(self) -> None:
        """Create the memory index and apply its settings (idempotent)."""
        try:
            await self.client.wait_for_task(await self.client.create_index(self.index_uid, "id"))
        except TaskFailed as err:
            if "index_already_exists" not in str(err):
                raise
        wanted = memory_settings(self.dimensions)
        current = await self.client.get_settings(self.index_uid)
        if any(current.get(k) != v for k, v in wanted.items() if k != "embedders") or \
                (current.get("embedders") or {}).get(EMBEDDER, {}).get("dimensions") != self.dimensions:
            await self.client.wait_for_task(await self.client.update_settings(self.index_uid, wanted), wait_seconds=300)

    async def replace_sources(self, workspace_id: int, sources: Sequence[str], documents: list[dict[str, Any]]
                              ) -> list[int]:
        """Enqueue: drop every document of ``sources``, then add ``documents``. The tasks to wait for."""
        tasks = []
        if sources:
            quoted = ", ".join(f'"{s}"' for s in sources)  # "artifact:123": our own format, no quotes inside
            tasks.append(await self.client.delete_by_filter(
                self.index_uid, f"workspace_id = {int(workspace_id)} AND source IN [{quoted}]"))
        if documents:
            tasks.append(await self.client.add_documents(self.index_uid, documents))
        return tasks

    async def delete_workspace(self, workspace_id: int) -> None:
        try:
            task = await self.client.delete_by_filter(self.index_uid, f"workspace_id = {int(workspace_id)}")
        except SearchRequestError as err:
            if err.code == "index_not_found":
                return
            raise
        await self.client.wait_for_task(task, wait_seconds=120)

    async def search(self, workspace_id: int, text: str, vector: Sequence[float], *, limit: int,
                     semantic_ratio: float) -> list[MemoryHit]:
        """The best items for ``text`` (keywords) and ``vector`` (meaning), within one workspace."""
        body = {"q": text[:500], "vector": [float(v) for v in vector], "limit": limit,
                "hybrid": {"embedder": EMBEDDER, "semanticRatio": semantic_ratio},
                "filter": f"workspace_id = {int(workspace_id)}", "showRankingScore": True,
                "attributesToRetrieve": ["id"]}
        try:
            result = await self.client.search(self.index_uid, body)
        except SearchRequestError as err:
            if err.code == "index_not_found":
                return []
            raise
        return [MemoryHit(int(h["id"]), float(h.get("_rankingScore", 0.0))) for h in result.get("hits", [])]
