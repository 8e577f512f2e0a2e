"""Long-lived collaborators of one API process, built once in ``create_app``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypedDict

from sqlalchemy.ext.asyncio import AsyncEngine

from schema_registry.definitions import ObjectDefinition
from schema_registry.query import Node
from tessera.clock import Clock
from tessera.context.facts import AnswerJson, AskFactsJson
from tessera.context.memory import Recollection
from tessera.db.ids import IdAllocator
from tessera.db.tenant import Tenant
from tessera.keys.authentication import Authenticator
from tessera.notifications.interpreter import RuleInterpreterPort
from tessera.records.admission import QueryGate
from tessera.redis_client import RedisClient
from tessera.registry.cache import SchemaCache
from tessera.settings import Settings
from tessera.wire import JsonObject


class SearchHit(TypedDict):
    """One record a full-text search found."""

    id: str
    primary_value: str
    matched_value: str
    score: float
    object_id: str


class SearchPort(Protocol):
    """What the API needs from full-text search. Implemented outside ``tessera`` (the
    ``workers`` plugin wires the Meilisearch adapter in), so this package never imports it.
    Both methods raise ``tessera.errors.SearchUnavailable`` when the engine cannot answer."""

    async def health(self) -> JsonObject:
        """The engine's own health document."""
        ...

    async def search(self, workspace_id: int, text: str, objects: Sequence[ObjectDefinition], *, limit: int,
                     filter_node: Node | None = None) -> tuple[dict[str, list[SearchHit]], list[str]]:
        """Hits per object slug (best first), and the slugs whose search failed. ``filter_node``
        narrows the hits of the single object searched (record query language)."""
        ...

    async def close(self) -> None: ...


class IntelligencePort(Protocol):
    """Understanding questions and answering them from facts. Implemented in ``workers`` (a local
    deterministic reasoner, or an LLM when configured) and wired in by the plugin."""

    def question_terms(self, question: str) -> dict[str, list[str]]:
        """``domains``, ``emails``, ``names`` and ``keywords`` a question mentions."""
        ...

    async def answer(self, question: str, facts: AskFactsJson) -> AnswerJson:
        """``answer`` text, ``confidence`` and ``signals_used`` from exactly the given facts, and
        the passages it cites."""
        ...


class MemoryPort(Protocol):
    """Recall from the workspace's memory items. Implemented in ``workers`` (Meilisearch hybrid
    search and a local embedding model, PostgreSQL full text when Meilisearch is down)."""

    async def recall(self, tenant: Tenant, question: str, *, entity_ids: Sequence[int], entity_names: Sequence[str],
                     required_names: Sequence[str]) -> Recollection:
        """The passages that answer ``question`` best, ranked, and whether they answer it at all
        (a passage that answers mentions every one of ``required_names``)."""
        ...


@dataclass
class AppState:
    settings: Settings
    engine: AsyncEngine
    redis: RedisClient
    authenticator: Authenticator
    clock: Clock
    schemas: SchemaCache
    query_gate: QueryGate
    ask_gate: QueryGate = field(default_factory=lambda: QueryGate(2, 2.0, "questions (ask)"))
    """Asks of one workspace at once in this process (``ASK_CONCURRENCY_PER_WORKSPACE``)."""
    ids: IdAllocator = field(default_factory=IdAllocator)
    search: SearchPort | None = None
    intelligence: IntelligencePort | None = None
    memory: MemoryPort | None = None
    rules: RuleInterpreterPort | None = None
    """Reads custom notification rules (wired in by the workers plugin)."""
    caches: list[Callable[[str | None], None]] = field(default_factory=list)
    extras: dict[str, Any] = field(default_factory=dict)
