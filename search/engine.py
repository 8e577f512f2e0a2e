"""Searching and indexing on top of ``search.client``: the records index, its settings, and
per-object queries with tenant filtering done by the engine itself."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from schema_registry.definitions import ObjectDefinition
from search.client import MeiliClient, SearchRequestError, SearchUnavailable, TaskFailed
from search.documents import index_settings


@dataclass(frozen=True, slots=True)
class Hit:
    id: str
    primary_value: str
    matched_value: str
    score: float
    object_id: str


def tenant_filter(workspace_id: int, object_id: int | None = None, extra: str | None = None) -> str:
    """The filter every query carries, and that selects one workspace's (or one object's) documents
    to fetch or delete, in any of our indexes (their documents all carry ``workspace_id``): one
    workspace, and one object unless ``object_id`` is None. Ids are integers we format ourselves; a
    caller's filter is parenthesised and ANDed, so nothing in it can widen the tenant clause."""
    base = f"workspace_id = {int(workspace_id)}"
    if object_id is not None:
        base += f" AND object_id = {int(object_id)}"
    return f"{base} AND ({extra})" if extra else base


def _matched_value(hit: dict[str, Any], query: str) -> str:
    """The attribute value that matched: one holding the whole query if any, else the value with
    the most matched characters (the primary value on ties)."""
    positions: dict[str, list[dict[str, Any]]] = hit.get("_matchesPosition") or {}
    text = hit.get("text") or {}
    wanted = query.lower().strip()
    best, best_score = str(hit.get("primary_value", "")), -1
    for field, spans in positions.items():
        if field == "primary_value":
            values = [str(hit.get("primary_value", ""))]
        elif field.startswith("text."):
            raw = text.get(field.removeprefix("text."))
            values = [str(v) for v in raw] if isinstance(raw, list) else [str(raw)] if raw is not None else []
        else:
            continue
        for span in spans:
            index = span.get("indices", [0])[0] if span.get("indices") else 0
            value = values[index] if index < len(values) else (values[0] if values else "")
            score = sum(s.get("length", 0) for s in spans)
            if wanted and wanted in value.lower():
                score += 10_000
            if field == "primary_value":
                score += 1  # wins ties
            if score > best_score:
                best, best_score = value, score
    return best


class SearchEngine:
    def __init__(self, client: MeiliClient, index_uid: str) -> None:
        self.client = client
        self.index_uid = index_uid

    async def ensure_index(self) -> None:
        """Create the records index and apply its settings (idempotent)."""
        try:
            await self.client.wait_for_task(await self.client.create_index(self.index_uid, "id"))
        except TaskFailed as err:  # created meanwhile by another process: fine
            if "index_already_exists" not in str(err):
                raise
        current = await self.client.get_settings(self.index_uid)
        wanted = index_settings()
        if any(current.get(k) != v for k, v in wanted.items()):
            await self.client.wait_for_task(await self.client.update_settings(self.index_uid, wanted), wait_seconds=300)

    def _query(self, workspace_id: int, obj: ObjectDefinition, text: str, limit: int, extra: str | None
               ) -> dict[str, Any]:
        return {"indexUid": self.index_uid, "q": text, "limit": limit,
                "filter": tenant_filter(workspace_id, obj.id, extra), "showRankingScore": True,
                "showMatchesPosition": True, "attributesToRetrieve": ["id", "object_id", "primary_value", "text"]}

    def _hits(self, result: dict[str, Any], text: str) -> list[Hit]:
        return [Hit(id=str(h["id"]), primary_value=str(h.get("primary_value", "")),
                    matched_value=_matched_value(h, text), score=float(h.get("_rankingScore", 0.0)),
                    object_id=str(h.get("object_id", ""))) for h in result.get("hits", [])]

    async def search(self, workspace_id: int, text: str, objects: Sequence[ObjectDefinition], *, limit: int,
                     extra_filter: str | None = None) -> tuple[dict[str, list[Hit]], list[str]]:
        """Hits per object slug, and the slugs whose search failed. Raises ``SearchUnavailable``
        when Meilisearch cannot be reached at all."""
        if not objects:
            return {}, []
        queries = [self._query(workspace_id, o, text, limit, extra_filter) for o in objects]
        try:
            results = await self.client.multi_search(queries)
            return {o.slug: self._hits(r, text) for o, r in zip(objects, results, strict=True)}, []
        except SearchRequestError as err:
            if err.code == "index_not_found":
                return {o.slug: [] for o in objects}, []
        # One query was refused: run them one by one so the others still answer.
        out: dict[str, list[Hit]] = {}
        errored: list[str] = []

        async def one(obj: ObjectDefinition, query: dict[str, Any]) -> None:
            body = {k: v for k, v in query.items() if k != "indexUid"}
            try:
                out[obj.slug] = self._hits(await self.client.search(self.index_uid, body), text)
            except SearchRequestError:
                errored.append(obj.slug)

        await asyncio.gather(*(one(o, q) for o, q in zip(objects, queries, strict=True)))
        return out, sorted(errored)


__all__ = ["Hit", "SearchEngine", "SearchUnavailable", "tenant_filter"]
