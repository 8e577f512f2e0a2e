"""Full-text search over a workspace's records: the search engine first, PostgreSQL when the
engine is unavailable (the answer then says ``degraded``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import structlog

from schema_registry.definitions import ObjectDefinition
from tessera.app_state import SearchPort
from tessera.db.tenant import Tenant
from tessera.errors import SearchUnavailable
from tessera.fulltext.fallback import search_postgres

log = structlog.get_logger(__name__)


@dataclass
class Found:
    hits: dict[str, list[dict[str, Any]]]
    errored: list[str] = field(default_factory=list)
    degraded: bool = False


async def find(port: SearchPort | None, tenant: Callable[[], Awaitable[Tenant]], workspace_id: int, text: str,
               objects: Sequence[ObjectDefinition], *, limit: int, node: Any = None) -> Found:
    try:
        if port is None:
            raise SearchUnavailable("no search engine configured")
        hits, errored = await port.search(workspace_id, text, objects, limit=limit, filter_node=node)
        return Found(hits, errored)
    except SearchUnavailable as err:
        log.warning("search_degraded", reason=str(err)[:200])
    return Found(await search_postgres(await tenant(), text, objects, limit=limit, node=node), degraded=True)
