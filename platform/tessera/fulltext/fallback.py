"""Degraded full-text search in PostgreSQL, used when Meilisearch cannot answer.

Case-insensitive substring matching of each query term against the records' text values; a
record ranks by the share of terms it matches (its primary value counting double). No typo
tolerance; slower on very large workspaces; the response says ``degraded: true``.
"""

from __future__ import annotations

from collections.abc import Sequence

from schema_registry.definitions import ObjectDefinition
from schema_registry.query import Node
from tessera.app_state import SearchHit
from tessera.db.tenant import Tenant
from tessera.records.repository import get_records
from tessera.records.text_search import match_terms
from tessera.records.values import primary_value

MAX_TERMS = 8


async def search_postgres(tenant: Tenant, text: str, objects: Sequence[ObjectDefinition], *, limit: int,
                          node: Node | None = None) -> dict[str, list[SearchHit]]:
    """Hits per object slug (same shape as the search port's), best first."""
    terms = [t for t in text.lower().split() if t][:MAX_TERMS] or [text.lower()]
    by_id = {o.id: o for o in objects}
    matches = await match_terms(tenant, terms, list(by_id), limit=limit * max(1, len(objects)), node=node)
    records = {r.id: r for r in await get_records(tenant, [match.record_id for match in matches])}
    results: dict[str, list[SearchHit]] = {o.slug: [] for o in objects}
    for match in matches:
        obj, record = by_id[match.object_id], records.get(match.record_id)
        if record is None or len(results[obj.slug]) >= limit:
            continue
        primary = primary_value(obj, record.data)
        score = match.matched / len(terms)
        if any(t in primary.lower() for t in terms):
            score = min(1.0, score * 2)
        results[obj.slug].append({"id": str(record.id), "primary_value": primary,
                                  "matched_value": match.sample or primary, "score": round(score, 4),
                                  "object_id": str(obj.id)})
    return results
