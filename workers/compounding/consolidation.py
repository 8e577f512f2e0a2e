"""Consolidation: merge near-duplicate insights.

Two insights are duplicates when they are of the same type, about the same records, and say the
same thing: their MiniLM vectors (those the memory relay stored for them) are at least
``threshold`` similar, or a little less (``threshold - NEAR``) with half their words in common;
for a pair one of which has no vector yet, when their words are nearly the same
(``WORDS_ALONE``). In each group the oldest insight survives: it takes the group's artifacts
(``source_artifact_ids``), adds up its ``support_count``, keeps its strongest confidence and
counts as reinforced when the newest duplicate arrived. The others are marked (``merged_into``),
never deleted; they leave the listings, and their memory items go (the survivor's text says the
same). A rerun finds nothing more to merge: the survivors of one run are not duplicates of each
other, since any such pair would have been merged.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from tessera.changes import Changes
from tessera.context.memory import MemoryChanged
from tessera.db.sql import Params
from tessera.db.tenant import Tenant
from workers.compounding.phrases import overlap, words
from workers.compounding.runs import Outcome, RunContext
from workers.memory.embedding import DIMENSIONS

NEAR: Final = 0.05
WORDS_WITH_VECTORS: Final = 0.5
WORDS_ALONE: Final = 0.85
MAX_EMBEDDED: Final = 500
"""Insights without a stored vector one run embeds itself (~6.5 ms each, off the event loop)."""
BLOCK: Final = 2_000
"""Insights of one group compared at once (a BLOCK x BLOCK similarity matrix, 16 MB)."""


@dataclass(slots=True)
class Candidate:
    """An active insight as consolidation reads it."""

    id: int
    type: str
    content: str
    confidence: float
    peak_confidence: float | None
    entity_ids: tuple[int, ...]
    artifacts: tuple[int, ...]
    support_count: int
    created_at: datetime
    reinforced_at: datetime | None
    words: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Merge:
    survivor: Candidate
    merged: tuple[Candidate, ...]


def group_key(candidate: Candidate) -> tuple[str, tuple[int, ...]]:
    return candidate.type, tuple(sorted(set(candidate.entity_ids)))


def find_merges(candidates: Sequence[Candidate], vectors: npt.NDArray[np.float32], *, threshold: float
                ) -> list[Merge]:
    """The merges among ``candidates`` (``vectors`` row-aligned, unit length; a zero row is an
    insight without a vector). Oldest first within each group of the same type and records; each
    insight not yet merged becomes the survivor of those after it that duplicate it."""
    groups: dict[tuple[str, tuple[int, ...]], list[int]] = {}
    for index, candidate in enumerate(candidates):
        groups.setdefault(group_key(candidate), []).append(index)
    merges: list[Merge] = []
    for members in groups.values():
        if len(members) < 2:
            continue
        members.sort(key=lambda i: (candidates[i].created_at, candidates[i].id))
        for start in range(0, len(members), BLOCK):
            block = members[start:start + BLOCK]
            merges += _merges_in(block, candidates, vectors, threshold)
    merges.sort(key=lambda m: m.survivor.id)
    return merges


def _merges_in(block: list[int], candidates: Sequence[Candidate], vectors: npt.NDArray[np.float32],
               threshold: float) -> list[Merge]:
    matrix = vectors[block]
    similarity = matrix @ matrix.T
    has_vector = [bool(np.any(row)) for row in matrix]
    taken = [False] * len(block)
    out = []
    for i in range(len(block)):
        if taken[i]:
            continue
        close = np.nonzero(similarity[i, i + 1:] >= threshold - NEAR)[0] + i + 1
        merged = []
        lead = candidates[block[i]]
        # Pairs with both vectors are compared by vector first (words only decide near the
        # threshold); a pair missing one is compared by words alone.
        lead_has_vector = bool(has_vector[i])
        near = set(close.tolist())
        for j in range(i + 1, len(block)):
            if taken[j]:
                continue
            other = candidates[block[j]]
            if lead_has_vector and has_vector[j]:
                duplicate = j in near and (similarity[i, j] >= threshold
                                           or overlap(lead.words, other.words) >= WORDS_WITH_VECTORS)
            else:
                duplicate = overlap(lead.words, other.words) >= WORDS_ALONE
            if duplicate:
                taken[j] = True
                merged.append(other)
        if merged:
            out.append(Merge(lead, tuple(merged)))
    return out


def provenance(candidate: Candidate) -> list[int]:
    return sorted(set(candidate.artifacts))


async def read_candidates(tenant: Tenant, limit: int) -> tuple[list[Candidate], list[bytes | None], list[str]]:
    """The newest ``limit`` active insights, with the vector the memory relay stored for each
    (its first passage's) and that vector's model."""
    params = Params()
    rows = await tenant.fetch(
        "SELECT i.id, i.type, i.content, i.confidence, i.peak_confidence, i.entity_ids, i.artifact_id, "
        "i.source_artifact_ids, i.support_count, i.created_at, i.reinforced_at, m.vector, m.vector_model "
        "FROM (SELECT * FROM insights WHERE workspace_id = $1 AND merged_into IS NULL "
        f"ORDER BY created_at DESC, id DESC LIMIT {params.add(limit)}) AS i "
        "LEFT JOIN memory_items m ON m.workspace_id = $1 AND m.source_type = 'insight' AND m.source_id = i.id "
        "AND m.position = 0", *params.values)
    candidates = []
    for r in rows:
        artifacts = tuple(r["source_artifact_ids"]) or ((r["artifact_id"],) if r["artifact_id"] is not None else ())
        candidates.append(Candidate(
            id=r["id"], type=r["type"], content=r["content"], confidence=r["confidence"],
            peak_confidence=r["peak_confidence"], entity_ids=tuple(r["entity_ids"]), artifacts=artifacts,
            support_count=r["support_count"], created_at=r["created_at"], reinforced_at=r["reinforced_at"],
            words=words(r["content"])))
    return candidates, [r["vector"] for r in rows], [r["vector_model"] or "" for r in rows]


def stored_vectors(blobs: Sequence[bytes | None], models: Sequence[str], model_id: str) -> npt.NDArray[np.float32]:
    """The stored vectors of ``model_id`` as rows; zero rows where there is none of that model."""
    out = np.zeros((len(blobs), DIMENSIONS), dtype=np.float32)
    for row, (blob, model) in enumerate(zip(blobs, models, strict=True)):
        if blob is not None and model == model_id and len(blob) == DIMENSIONS * 4:
            out[row] = np.frombuffer(blob, dtype=np.float32)
    return out


async def apply_merges(tenant: Tenant, changes: Changes, merges: Sequence[Merge]) -> None:
    """Write ``merges``: survivors updated, the merged insights (and those merged into them
    before) pointed at their survivor, the merged ones' memory items forgotten."""
    if not merges:
        return
    survivors: list[int] = []
    artifacts: list[str] = []
    supports: list[int] = []
    peaks: list[float] = []
    reinforced: list[datetime] = []
    merged_ids: list[int] = []
    targets: list[int] = []
    for merge in merges:
        group = (merge.survivor, *merge.merged)
        survivors.append(merge.survivor.id)
        artifacts.append("{" + ",".join(str(a) for a in sorted({a for c in group for a in c.artifacts})) + "}")
        supports.append(sum(c.support_count for c in group))
        peaks.append(max(max(c.confidence, c.peak_confidence or 0.0) for c in group))
        reinforced.append(max(c.reinforced_at or c.created_at for c in group))
        for c in merge.merged:
            merged_ids.append(c.id)
            targets.append(merge.survivor.id)
    params = Params()
    rows = params.unnest([(survivors, "bigint"), (artifacts, "text"), (supports, "int"), (peaks, "float8"),
                          (reinforced, "timestamptz")])
    await tenant.fetch(
        "UPDATE insights i SET source_artifact_ids = u.a::bigint[], support_count = u.s, confidence = u.p, "
        f"peak_confidence = u.p, reinforced_at = u.r FROM {rows} AS u(id, a, s, p, r) "
        "WHERE i.workspace_id = $1 AND i.id = u.id", *params.values)
    params = Params()
    rows = params.unnest([(merged_ids, "bigint"), (targets, "bigint")])
    await tenant.fetch(f"UPDATE insights i SET merged_into = u.target FROM {rows} AS u(id, target) "
                       "WHERE i.workspace_id = $1 AND i.id = u.id", *params.values)
    params = Params()
    merged = params.add(merged_ids, "bigint[]")
    target = params.add(targets, "bigint[]")
    await tenant.fetch(  # those merged into a now merged insight follow it to its survivor
        f"UPDATE insights i SET merged_into = u.target FROM unnest({merged}, {target}) AS u(id, target) "
        f"WHERE i.workspace_id = $1 AND i.merged_into = u.id AND i.merged_into = ANY({merged})", *params.values)
    params = Params()
    await tenant.fetch("DELETE FROM memory_items WHERE workspace_id = $1 AND source_type = 'insight' "
                       f"AND source_id = ANY({params.add(merged_ids, 'bigint[]')})", *params.values)
    changes.add(*(MemoryChanged("insight", i) for i in merged_ids), webhooks=False)


async def embed_missing(run: RunContext, candidates: Sequence[Candidate], vectors: npt.NDArray[np.float32]) -> None:
    """Fill in (in place) the vectors of up to ``MAX_EMBEDDED`` insights the memory relay has not
    embedded yet, newest first; the rest are compared by their words alone this time."""
    if run.embedder is None:
        return
    missing = [i for i in range(len(candidates)) if not vectors[i].any()][:MAX_EMBEDDED]
    if missing:
        embedder = run.embedder
        vectors[missing] = await asyncio.to_thread(embedder.embed, [candidates[i].content for i in missing])


async def consolidate(run: RunContext) -> Outcome:
    """The consolidation job's work, in ``run``'s transaction."""
    candidates, blobs, models = await read_candidates(run.tenant, run.settings.compounding_max_insights)
    vectors = stored_vectors(blobs, models, run.model_id())
    await embed_missing(run, candidates, vectors)
    merges = find_merges(candidates, vectors, threshold=run.settings.compounding_duplicate_similarity)
    await apply_merges(run.tenant, run.changes, merges)
    merged = sum(len(m.merged) for m in merges)
    result: dict[str, Any] = {
        "groups_merged": len(merges), "insights_merged": merged,
        "merges": [{"survivor_id": str(m.survivor.id), "merged_ids": [str(c.id) for c in m.merged]}
                   for m in merges[:50]]}
    return Outcome(insights_scanned=len(candidates), insights_affected=merged + len(merges),
                   candidates_created=len(merges), result=result)
