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
from tessera.db.sql import Params
from tessera.db.tenant import Tenant
from tessera.records.repository import get_records
from tessera.records.sql import Compiler
from tessera.records.values import primary_value

MAX_TERMS = 8


def _like(term: str) -> str:
    return "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


async def search_postgres(tenant: Tenant, text: str, objects: Sequence[ObjectDefinition], *, limit: int,
                          node: Node | None = None) -> dict[str, list[SearchHit]]:
    """Hits per object slug (same shape as the search port's), best first."""
    terms = [t for t in text.lower().split() if t][:MAX_TERMS] or [text.lower()]
    by_id = {o.id: o for o in objects}
    params = Params([terms, [_like(t) for t in terms], list(by_id), limit * max(1, len(objects))])
    narrowed = ""
    if node is not None:
        narrowed = f"AND {Compiler(params, objects[0].id).row_predicate(node)}"
    rows = await tenant.fetch(
        """SELECT record_id, object_id, count(DISTINCT term) AS matched, min(v_text) AS sample
           FROM (SELECT v.record_id, r.object_id, t.term, v.v_text
                 FROM record_values v
                 JOIN records r ON r.workspace_id = v.workspace_id AND r.id = v.record_id
                 JOIN unnest($2::text[], $3::text[]) AS t(term, pattern) ON v.v_text ILIKE t.pattern
                 WHERE v.workspace_id = $1 AND r.object_id = ANY($4::bigint[]) AND v.facet = '' {narrowed}) m
           GROUP BY record_id, object_id
           ORDER BY matched DESC, record_id
           LIMIT $5""".replace("{narrowed}", narrowed), *params.values)
    records = {r.id: r for r in await get_records(tenant, [row["record_id"] for row in rows])}
    results: dict[str, list[SearchHit]] = {o.slug: [] for o in objects}
    for row in rows:
        obj, record = by_id[row["object_id"]], records.get(row["record_id"])
        if record is None or len(results[obj.slug]) >= limit:
            continue
        primary = primary_value(obj, record.data)
        score = row["matched"] / len(terms)
        if any(t in primary.lower() for t in terms):
            score = min(1.0, score * 2)
        results[obj.slug].append({"id": str(record.id), "primary_value": primary,
                                  "matched_value": row["sample"] or primary, "score": round(score, 4),
                                  "object_id": str(obj.id)})
    return results
