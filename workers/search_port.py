"""The API's view of full-text search (``tessera.app_state.SearchPort``), backed by Meilisearch."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from schema_registry.definitions import ObjectDefinition
from search.client import SearchUnavailable as MeiliUnavailable
from search.engine import SearchEngine
from search.filters import UnsupportedFilter, to_meili_filter
from tessera.errors import BadRequest, FieldError, SearchUnavailable


class MeiliSearchPort:
    def __init__(self, engine: SearchEngine) -> None:
        self.engine = engine

    async def close(self) -> None:
        await self.engine.client.close()

    async def health(self) -> dict[str, Any]:
        try:
            return await self.engine.client.health()
        except MeiliUnavailable as err:
            raise SearchUnavailable(str(err)) from err

    async def search(self, workspace_id: int, text: str, objects: Sequence[ObjectDefinition], *, limit: int,
                     filter_node: Any = None) -> tuple[dict[str, list[dict[str, Any]]], list[str]]:
        try:
            extra = to_meili_filter(filter_node) if filter_node is not None else None
        except UnsupportedFilter as err:
            raise BadRequest(f"Invalid filter: {err.message}", errors=[FieldError(err.path, err.message)]) from err
        try:
            hits, errored = await self.engine.search(workspace_id, text, objects, limit=limit, extra_filter=extra)
        except MeiliUnavailable as err:
            raise SearchUnavailable(str(err)) from err
        return {slug: [asdict(h) for h in found] for slug, found in hits.items()}, errored
