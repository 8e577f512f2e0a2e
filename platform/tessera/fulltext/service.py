"""Full-text search over a workspace's records: the search engine first, PostgreSQL when the
engine is unavailable (the answer then says ``degraded``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

import structlog

from schema_registry.definitions import ObjectDefinition
from schema_registry.query import Node
from tessera.app_state import SearchHit, SearchPort
from tessera.db.tenant import Tenant
from tessera.errors import SearchUnavailable
from tessera.fulltext.fallback import search_postgres

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Found:
    hits: dict[str, list[SearchHit]]
    """Per object slug, best first."""
    errored: list[str] = field(default_factory=list)
    """Slugs whose search failed."""
    degraded: bool = False
    """True when PostgreSQL answered because the engine could not."""


async def find(port: SearchPort | None, tenant: Callable[[], Awaitable[Tenant]], workspace_id: int, text: str,
               objects: Sequence[ObjectDefinition], *, limit: int, node: Node | None = None) -> Found:
    try:
        if port is None:
            raise SearchUnavailable("no search engine configured")
        hits, errored = await port.search(workspace_id, text, objects, limit=limit, filter_node=node)
        return Found(hits, errored)
    except SearchUnavailable as err:
        log.warning("search_degraded", reason=str(err)[:200])
    return Found(await search_postgres(await tenant(), text, objects, limit=limit, node=node), degraded=True)
