"""Substring search over the records' main text values, in PostgreSQL: what full-text search falls
back on when Meilisearch cannot answer (``tessera.fulltext.fallback`` ranks the matches)."""

from __future__ import annotations

from dataclasses import dataclass

from schema_registry.query import Node
from tessera.db.sql import Params
from tessera.db.tenant import Tenant
from tessera.records.sql import Compiler


@dataclass(frozen=True, slots=True)
class TermMatch:
    """A record some of whose main text values contain some of the terms."""

    record_id: int
    object_id: int
    matched: int
    """How many of the terms its values contain."""
    sample: str
    """The first of its matching values in text order."""


def contains_pattern(term: str) -> str:
    """The ``ILIKE`` pattern of text that contains ``term`` (its wildcards taken literally)."""
    return "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


async def match_terms(tenant: Tenant, terms: list[str], object_ids: list[int], *, limit: int,
                      node: Node | None = None) -> list[TermMatch]:
    """Up to ``limit`` records of the objects whose main-facet text values contain the terms
    (case-insensitive substrings), those matching the most terms first, then by id. ``node``, a
    filter on the first object's records, narrows them."""
    params = Params()
    pairs = params.unnest([(terms, "text"), ([contains_pattern(t) for t in terms], "text")])
    objects = params.add(object_ids, "bigint[]")
    most = params.add(limit, "bigint")
    narrowed = f"AND {Compiler(params, object_ids[0]).row_predicate(node)}" if node is not None else ""
    rows = await tenant.fetch(
        f"""SELECT record_id, object_id, count(DISTINCT term) AS matched, min(v_text) AS sample
           FROM (SELECT v.record_id, r.object_id, t.term, v.v_text
                 FROM record_values v
                 JOIN records r ON r.workspace_id = v.workspace_id AND r.id = v.record_id
                 JOIN {pairs} AS t(term, pattern) ON v.v_text ILIKE t.pattern
                 WHERE v.workspace_id = $1 AND r.object_id = ANY({objects}) AND v.facet = '' {narrowed}) m
           GROUP BY record_id, object_id
           ORDER BY matched DESC, record_id
           LIMIT {most}""", *params.values)
    return [TermMatch(int(r["record_id"]), int(r["object_id"]), int(r["matched"]), r["sample"]) for r in rows]
