"""The API's view of full-text search (``tessera.app_state.SearchPort``), backed by Meilisearch."""

from __future__ import annotations

from collections.abc import Sequence

from schema_registry.definitions import ObjectDefinition
from schema_registry.query import Node
from search.client import SearchUnavailable as MeiliUnavailable
from search.engine import Hit, SearchEngine
from search.filters import UnsupportedFilter, to_meili_filter
from tessera.app_state import SearchHit
from tessera.errors import BadRequest, FieldError, SearchUnavailable
from tessera.wire import JsonObject


def to_search_hit(hit: Hit) -> SearchHit:
    return {"id": hit.id, "primary_value": hit.primary_value, "matched_value": hit.matched_value,
            "score": hit.score, "object_id": hit.object_id}


class MeiliSearchPort:
    def __init__(self, engine: SearchEngine) -> None:
        self.engine = engine

    async def close(self) -> None:
        await self.engine.client.close()

    async def health(self) -> JsonObject:
        try:
            return await self.engine.client.health()
        except MeiliUnavailable as err:
            raise SearchUnavailable(str(err)) from err

    async def search(self, workspace_id: int, text: str, objects: Sequence[ObjectDefinition], *, limit: int,
                     filter_node: Node | None = None) -> tuple[dict[str, list[SearchHit]], list[str]]:
        try:
            extra = to_meili_filter(filter_node) if filter_node is not None else None
        except UnsupportedFilter as err:
            raise BadRequest(f"Invalid filter: {err.message}", errors=[FieldError(err.path, err.message)]) from err
        try:
            hits, errored = await self.engine.search(workspace_id, text, objects, limit=limit, extra_filter=extra)
        except MeiliUnavailable as err:
            raise SearchUnavailable(str(err)) from err
        return {slug: [to_search_hit(h) for h in found] for slug, found in hits.items()}, errored
