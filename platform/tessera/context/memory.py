"""Memory items: what the workspace was told, kept for recall.

An artifact's text is split into passages (windows of two sentences, overlapping by one, with
their character offsets); a note (title and content) and an insight are one item each, split the
same way when long. Items are written in the transaction of their source with an outbox row
(topic ``memory``): the worker embeds them and indexes them in Meilisearch (keyword + vector), so a
crash between commit and indexing loses nothing. ``search`` (PostgreSQL full text) answers when
Meilisearch cannot, and finds items the relay has not indexed yet.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

import asyncpg

from tessera.changes import MEMORY, Changes, DomainEvent, EventRows
from tessera.db.sql import WORKSPACE, Params
from tessera.db.tenant import Tenant

WINDOW: Final = 2
MAX_UNIT: Final = 400
"""A sentence longer than this many characters is cut at a word boundary into several units."""
MAX_PASSAGES: Final = 5_000
"""At most this many passages per source (100,000 characters of short sentences make ~2,000)."""

_BREAK = re.compile(r"(?<=[.!?…])[\"')\]]*\s+(?=[\"'“(\[]?[A-Z0-9À-Þ])|\n+")


@dataclass(frozen=True, slots=True)
class Passage:
    position: int
    start: int
    end: int
    content: str


_ABBREVIATION = re.compile(
    r"(?:^|[\s(])(?:dr|mr|mrs|ms|prof|st|sr|jr|mt|no|vs|etc|approx|inc|ltd|co|corp|dept|e\.g|i\.e|a\.m|p\.m|"
    r"[A-Z])\.$", re.IGNORECASE)


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of the sentences of ``text``: a line break or a sentence end breaks it, but not
    the dot of an abbreviation (``Dr. Halvorsen``, ``e.g.``, an initial); long ones are cut."""
    merged: list[tuple[int, int]] = []
    for start, end in _raw_spans(text):
        if merged and _ABBREVIATION.search(text[merged[-1][0]:merged[-1][1]]) and \
                "\n" not in text[merged[-1][1]:start] and end - merged[-1][0] <= MAX_UNIT:
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def _raw_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of the sentences of ``text`` (lines and sentence ends break it), long ones cut."""
    units: list[tuple[int, int]] = []
    start = 0
    for match in [*_BREAK.finditer(text), None]:
        end = match.start() if match is not None else len(text)
        while start < end and text[start].isspace():
            start += 1
        stop = end
        while stop > start and text[stop - 1].isspace():
            stop -= 1
        while stop - start > MAX_UNIT:
            cut = text.rfind(" ", start, start + MAX_UNIT)
            cut = cut if cut > start else start + MAX_UNIT
            units.append((start, cut))
            start = cut
            while start < stop and text[start].isspace():
                start += 1
        if stop > start:
            units.append((start, stop))
        if match is not None:
            start = match.end()
    return units


def split_passages(text: str) -> list[Passage]:
    """The passages of a text: windows of ``WINDOW`` sentences moving one sentence at a time."""
    units = sentence_spans(text)
    if not units:
        return []
    windows = [units] if len(units) <= WINDOW else [units[i:i + WINDOW] for i in range(len(units) - WINDOW + 1)]
    passages = []
    for position, window in enumerate(windows[:MAX_PASSAGES]):
        start, end = window[0][0], window[-1][1]
        passages.append(Passage(position, start, end, text[start:end]))
    return passages


def _source(params: Params, source_type: str, source_id: int) -> str:
    """The predicate of one source's items, its values bound in ``params``."""
    return f"source_type = {params.add(source_type)} AND source_id = {params.add(source_id)}"


async def _delete_source(tenant: Tenant, source_type: str, source_id: int) -> None:
    params = Params()
    where = _source(params, source_type, source_id)
    await tenant.fetch(f"DELETE FROM memory_items WHERE workspace_id = $1 AND {where}", *params.values)


async def remember(tenant: Tenant, changes: Changes, source_type: str, source_id: int, text: str, *, context: str,
                   created_at: datetime, entity_ids: Sequence[int] = ()) -> int:
    """Replace the memory items of one source with the passages of ``text`` (none when empty) and
    queue their indexing. Returns how many items the source now has."""
    passages = split_passages(text)
    await _delete_source(tenant, source_type, source_id)
    if passages:
        params = Params()
        fixed = (f"{params.add(source_type)}, {params.add(source_id)}, p, s, e, {params.add(context)}, c, "
                 f"{params.add(list(entity_ids), 'bigint[]')}, {params.add(created_at)}")
        rows = params.unnest([([p.position for p in passages], "int"), ([p.start for p in passages], "int"),
                              ([p.end for p in passages], "int"), ([p.content for p in passages], "text")])
        await tenant.fetch(
            "INSERT INTO memory_items (workspace_id, source_type, source_id, position, start_offset, end_offset, "
            f"context, content, entity_ids, created_at) SELECT {WORKSPACE}, {fixed} FROM {rows} AS t(p, s, e, c)",
            *params.values)
    changes.add(MemoryChanged(source_type, source_id), webhooks=False)
    return len(passages)


async def forget(tenant: Tenant, changes: Changes, source_type: str, source_id: int) -> None:
    """Drop a source's memory items (and, through the outbox, their index documents)."""
    await _delete_source(tenant, source_type, source_id)
    changes.add(MemoryChanged(source_type, source_id), webhooks=False)


async def tag_entities(tenant: Tenant, changes: Changes, source_type: str, source_id: int,
                       names: Mapping[int, Iterable[str]]) -> None:
    """Mark each item of a source with the records it mentions (by one of their ``names``)."""
    params = Params()
    rows = await tenant.fetch(
        f"SELECT id, content, entity_ids FROM memory_items WHERE workspace_id = $1 "
        f"AND {_source(params, source_type, source_id)}", *params.values)
    patterns = {record_id: [n.casefold() for n in found if len(n) >= 3] for record_id, found in names.items()}
    ids, tags = [], []
    for row in rows:
        text = row["content"].casefold()
        mentioned = sorted({*row["entity_ids"], *(r for r, ns in patterns.items() if any(
            re.search(rf"(?<!\w){re.escape(n)}(?!\w)", text) for n in ns))})
        if mentioned != sorted(row["entity_ids"]):
            ids.append(row["id"])
            tags.append("{" + ",".join(str(m) for m in mentioned) + "}")
    if ids:
        params = Params()
        rows_of = params.unnest([(ids, "bigint"), (tags, "text")])
        await tenant.fetch(f"UPDATE memory_items m SET entity_ids = t.e::bigint[] FROM {rows_of} AS t(id, e) "
                           "WHERE m.workspace_id = $1 AND m.id = t.id", *params.values)
        changes.add(MemoryChanged(source_type, source_id), webhooks=False)


@dataclass(frozen=True, slots=True)
class MemoryChanged(DomainEvent):
    """A source's memory items changed: the relay re-reads them and updates the index."""

    source_type: str
    source_id: int

    def render(self, rows: EventRows, *, webhooks: bool) -> None:
        rows.outbox(MEMORY, "memory.changed", self.source_type, self.source_id)


@dataclass(frozen=True, slots=True)
class MemoryItem:
    id: int
    source_type: str
    source_id: int
    position: int
    context: str
    content: str
    entity_ids: tuple[int, ...]
    created_at: datetime
    keyword_score: float = 0.0
    vector: bytes | None = None
    """The stored embedding (float32) when it was made by ``vector_model`` of the reader's model."""
    vector_model: str = ""


_ITEM_COLUMNS = "id, source_type, source_id, position, context, content, entity_ids, created_at, vector, vector_model"


def _item(row: asyncpg.Record, keyword: float = 0.0) -> MemoryItem:
    return MemoryItem(id=row["id"], source_type=row["source_type"], source_id=row["source_id"],
                      position=row["position"], context=row["context"], content=row["content"],
                      entity_ids=tuple(row["entity_ids"]), created_at=row["created_at"], keyword_score=keyword,
                      vector=row["vector"], vector_model=row["vector_model"] or "")


_TS_WORD = re.compile(r"[^\W_]{2,}")
SCAN: Final = 2000


async def search_text(tenant: Tenant, query: str, *, limit: int, only_unindexed: bool = False) -> list[MemoryItem]:
    """Items matching any word of ``query`` (PostgreSQL full text, English stemming), best first.
    The work is bounded: at most ``SCAN`` matching items are ranked (the newest not-yet-indexed
    ones with ``only_unindexed``, found through their partial index, not through the words)."""
    words = _TS_WORD.findall(query)[:32]
    if not words:
        return []
    params = Params()
    terms, most = params.add(" | ".join(f"'{w}'" for w in words)), params.add(limit)
    if only_unindexed:
        rows = await tenant.fetch(
            f"WITH fresh AS MATERIALIZED (SELECT {_ITEM_COLUMNS}, search FROM memory_items WHERE workspace_id = $1 "
            f"AND indexed_at IS NULL ORDER BY id DESC LIMIT {SCAN}) "
            f"SELECT {_ITEM_COLUMNS}, ts_rank_cd(search, q) AS rank FROM fresh, to_tsquery('english', {terms}) AS q "
            f"WHERE search @@ q ORDER BY rank DESC, id DESC LIMIT {most}", *params.values)
    else:
        rows = await tenant.fetch(
            f"WITH hits AS MATERIALIZED (SELECT {_ITEM_COLUMNS}, search FROM memory_items, "
            f"to_tsquery('english', {terms}) AS q WHERE workspace_id = $1 AND search @@ q LIMIT {SCAN}) "
            f"SELECT {_ITEM_COLUMNS}, ts_rank_cd(search, q) AS rank FROM hits, to_tsquery('english', {terms}) AS q "
            f"ORDER BY rank DESC, id DESC LIMIT {most}", *params.values)
    return [_item(r, float(r["rank"])) for r in rows]


async def items_about(tenant: Tenant, entity_ids: Sequence[int], *, limit: int, source_type: str | None = None
                      ) -> list[MemoryItem]:
    """The newest items that mention any of ``entity_ids`` (only those of ``source_type`` when given)."""
    if not entity_ids:
        return []
    params = Params()
    rows = await tenant.fetch(
        f"SELECT {_ITEM_COLUMNS} FROM memory_items WHERE workspace_id = $1 "
        f"AND entity_ids && {params.add(list(entity_ids), 'bigint[]')} "
        f"AND ({params.add(source_type, 'text')} IS NULL OR source_type = {params.add(source_type, 'text')}) "
        f"ORDER BY created_at DESC, id DESC LIMIT {params.add(limit)}", *params.values)
    return [_item(r) for r in rows]


async def items_by_id(tenant: Tenant, ids: Sequence[int]) -> dict[int, MemoryItem]:
    if not ids:
        return {}
    params = Params()
    rows = await tenant.fetch(f"SELECT {_ITEM_COLUMNS} FROM memory_items WHERE workspace_id = $1 "
                              f"AND id = ANY({params.add(list(ids), 'bigint[]')})", *params.values)
    return {r["id"]: _item(r) for r in rows}


async def mention_counts(tenant: Tenant, entity_ids: Sequence[int]) -> dict[int, int]:
    """How many memory items mention each entity."""
    if not entity_ids:
        return {}
    params = Params()
    entities = params.add(list(entity_ids), "bigint[]")
    rows = await tenant.fetch(
        "SELECT e AS entity_id, count(*) AS n FROM memory_items, unnest(entity_ids) AS e "
        f"WHERE workspace_id = $1 AND entity_ids && {entities} AND e = ANY({entities}) GROUP BY e", *params.values)
    return {r["entity_id"]: int(r["n"]) for r in rows}


async def mentions_since(tenant: Tenant, asks: Sequence[tuple[int, int, datetime]]
                         ) -> dict[int, tuple[int, datetime, datetime]]:
    """For each ``(key, entity_id, since)``: how many items naming the entity were made after
    ``since``, the oldest and the newest's time (keys with none are left out)."""
    if not asks:
        return {}
    params = Params()
    rows_of_asks = params.unnest([([a[0] for a in asks], "bigint"), ([a[1] for a in asks], "bigint"),
                                  ([a[2] for a in asks], "timestamptz")])
    rows = await tenant.fetch(
        "SELECT a.key, count(*) AS n, min(m.created_at) AS oldest, max(m.created_at) AS newest "
        f"FROM {rows_of_asks} AS a(key, entity_id, since) "
        "JOIN memory_items m ON m.workspace_id = $1 AND m.entity_ids @> ARRAY[a.entity_id] "
        "AND m.created_at > a.since GROUP BY a.key", *params.values)
    return {r["key"]: (int(r["n"]), r["oldest"], r["newest"]) for r in rows}


@dataclass(frozen=True, slots=True)
class RecalledPassage:
    """A passage chosen for an answer: the item, its relevance, the sentence it contributes and
    the older passages on the same thing that it replaces (a knowledge update)."""

    item: MemoryItem
    score: float
    sentence: str
    replaces: tuple[RecalledPassage, ...] = ()


@dataclass(frozen=True, slots=True)
class Recollection:
    """What recall found for a question. ``confidence`` below the answer's threshold means the
    memory holds nothing on it; ``retrieval`` says how the candidates were found (``hybrid``:
    Meilisearch keywords + vectors; ``postgres_fulltext``: the degraded path)."""

    passages: tuple[RecalledPassage, ...]
    confidence: float
    answerable: bool
    retrieval: str
    degraded: bool = False
    why_not: str = ""
    """When not answerable: the check the best passages failed (``names``, ``no time``, ``meaning``)."""
    residual: float = 0.0
    """How close the lead passage is to the question once the question's names are taken out."""
