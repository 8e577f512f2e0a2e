"""Executing record queries: a total (exact up to COUNT_CAP), then the cheapest plan for the page.

Plans (measured in docs/storage.md):
- *filter-first*: compute the matching ids with index range scans (INTERSECT/UNION/EXCEPT),
  then sort just those. Best when few records match, and the only plan for multi-key or
  parent-attribute sorts.
- *id walk*: no sort given: walk the object's records in id order, probing each against the
  filter, stop after the page. Best when many records match.
- *sort-index walk*: one attribute sort over many matches: walk that attribute's value index
  in order, probing the filter, then the records without a value (NULLS LAST).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import orjson

from schema_registry.definitions import ObjectDefinition
from schema_registry.query import Condition, Node, SortKey
from schema_registry.types.base import StorageClass
from tessera.db.id_order import beyond, creation_page, order_by
from tessera.db.sql import Params
from tessera.db.tenant import Tenant
from tessera.records.cursor import CursorCodec
from tessera.records.repository import RECORD_COLUMNS, RecordRow, to_row
from tessera.records.sql import Compiler, SortValue, value_column
from tessera.wire import JsonObject

SMALL_RESULT = 2000
# `total` counts matches up to here and stops (10,000 means "at least 10,000"): an exact count of
# 200,000 matches cost 0.3-3 s at 1M records, far more than the page (docs/storage.md, 4.2).
COUNT_CAP = 10_000
_ROW_COLUMNS = ", ".join(f"r.{c.strip()}" for c in RECORD_COLUMNS.split(","))


@dataclass
class Page:
    rows: list[RecordRow]
    total: int
    has_more: bool
    next_cursor: str | None


def query_fingerprint(node: JsonObject | None, sorts: list[tuple[str, str]]) -> str:
    """What a cursor is bound to: the request's filter (as sent) and sort pairs."""
    return hashlib.sha256(orjson.dumps([node, sorts], default=str)).hexdigest()[:16]


class RecordQuery:
    def __init__(self, tenant: Tenant, obj: ObjectDefinition, *, node: Node | None, sorts: list[SortKey],
                 codec: CursorCodec) -> None:
        self.tenant = tenant
        self.obj = obj
        self.node = node
        self.sorts = sorts
        self.codec = codec

    async def total(self) -> int:
        params = Params()
        compiler = Compiler(params, self.obj.id)
        if self.node is None:
            object_id = params.add(self.obj.id, "bigint")
            matched = f"SELECT id FROM records WHERE workspace_id = $1 AND object_id = {object_id}"
        else:
            # INTERSECT/UNION/EXCEPT results are distinct; a lone condition on a multi-value
            # attribute yields one row per matching value, so it is counted distinct.
            lone = isinstance(self.node, Condition) and self.node.target.attribute is not None \
                and self.node.target.attribute.is_multi_value
            distinct = "DISTINCT " if lone else ""
            matched = f"SELECT {distinct}id FROM ({compiler.id_set(self.node)}) AS matched(id)"
        sql = f"SELECT count(*) FROM ({matched} LIMIT {int(COUNT_CAP)}) AS capped"
        row = await self.tenant.fetch_one(sql, *params.values)
        return int(row[0])

    async def page(self, *, limit: int, offset: int, cursor: str | None) -> Page:
        total = await self.total()
        storages = [k.target.storage for k in self.sorts]
        after = self.codec.decode(cursor, storages) if cursor else None
        if total == 0:
            return Page([], 0, False, None)
        single_attribute_sort = (len(self.sorts) == 1 and self.sorts[0].target.attribute is not None
                                 and not self.sorts[0].target.parent)
        if total <= SMALL_RESULT or (self.sorts and not single_attribute_sort):
            rows, keys = await self._filter_first(limit + 1, offset, after)
        elif not self.sorts:
            rows, keys = await self._id_walk(limit + 1, offset, after)
        else:
            rows, keys = await self._sort_index_walk(limit + 1, offset, after)
        has_more = len(rows) > limit
        rows, keys = rows[:limit], keys[:limit]
        next_cursor = self.codec.encode(keys[-1], rows[-1].id) if has_more and rows else None
        return Page(rows, total, has_more, next_cursor)

    def _order(self, compiler: Compiler, alias: str = "r") -> tuple[list[str], str]:
        expressions = [compiler.sort_expression(k, alias) for k in self.sorts]
        order = [f"s{i} {'DESC' if k.descending else 'ASC'} NULLS LAST" for i, k in enumerate(self.sorts)]
        return expressions, ", ".join([*order, self._tie_break(alias)])

    def _tie_break(self, alias: str) -> str:
        """Ties go by id; without sort keys that is the whole order, creation order (the id walk's)."""
        return f"{alias}.id ASC" if self.sorts else order_by(self.tenant.workspace_id, f"{alias}.id")

    async def _run(self, sql: str, params: Params) -> tuple[list[RecordRow], list[list[SortValue]]]:
        rows = await self.tenant.fetch(sql, *params.values)
        return [to_row(r) for r in rows], [[r[f"s{i}"] for i in range(len(self.sorts))] for r in rows]

    def _keyset(self, compiler: Compiler, expressions: list[str], after: tuple[list[SortValue], int] | None,
                id_column: str = "r.id") -> str:
        if after is None:
            return ""
        if not self.sorts:
            return " AND " + beyond(self.tenant.workspace_id, id_column,
                                    compiler.params.add(after[1], "bigint"), after[1])
        keyed = [(e, k.descending, k.target.storage) for e, k in zip(expressions, self.sorts, strict=True)]
        return " AND " + compiler.keyset_after(keyed, after[0], after[1], id_column)

    async def _filter_first(self, limit: int, offset: int, after: tuple[list[SortValue], int] | None
                            ) -> tuple[list[RecordRow], list[list[SortValue]]]:
        params = Params()
        compiler = Compiler(params, self.obj.id)
        expressions, order = self._order(compiler)
        selected = "".join(f", {e} AS s{i}" for i, e in enumerate(expressions))
        where = f"r.workspace_id = $1 AND r.object_id = {params.add(self.obj.id, 'bigint')}"
        if self.node is not None:
            where += f" AND r.id IN ({compiler.id_set(self.node)})"
        if after is not None:
            inner = (f"SELECT {_ROW_COLUMNS}{selected} FROM records r WHERE {where}")
            keyset = self._keyset(compiler, [f"q.s{i}" for i in range(len(expressions))], after, "q.id")
            sql = (f"SELECT q.* FROM ({inner}) q WHERE TRUE{keyset} ORDER BY "
                   + ", ".join([*(f"q.s{i} {'DESC' if k.descending else 'ASC'} NULLS LAST"
                                  for i, k in enumerate(self.sorts)), self._tie_break("q")])
                   + f" LIMIT {params.add(limit, 'bigint')}")
        else:
            sql = (f"SELECT {_ROW_COLUMNS}{selected} FROM records r WHERE {where} ORDER BY {order} "
                   f"LIMIT {params.add(limit, 'bigint')} OFFSET {params.add(offset, 'bigint')}")
        return await self._run(sql, params)

    async def _id_walk(self, limit: int, offset: int, after: tuple[list[SortValue], int] | None
                       ) -> tuple[list[RecordRow], list[list[SortValue]]]:
        params = Params()
        compiler = Compiler(params, self.obj.id, probe_per_row=True)
        where = f"r.workspace_id = $1 AND r.object_id = {params.add(self.obj.id, 'bigint')}"
        if self.node is not None:
            where += f" AND {compiler.row_predicate(self.node)}"
        rows = await creation_page(self.tenant, f"SELECT {_ROW_COLUMNS} FROM records r WHERE {where}", params,
                                   column="r.id", newest_first=False, limit=limit,
                                   offset=0 if after is not None else offset,
                                   after=after[1] if after is not None else None)
        return [to_row(r) for r in rows], [[] for _ in rows]

    async def _sort_index_walk(self, limit: int, offset: int, after: tuple[list[SortValue], int] | None
                               ) -> tuple[list[RecordRow], list[list[SortValue]]]:
        key = self.sorts[0]
        target = key.target
        attribute, facet = target.attribute, target.facet
        assert attribute is not None and facet is not None
        direction = "DESC" if key.descending else "ASC"
        column = value_column(target.storage, "s")
        not_null = "s.v_text" if target.storage is StorageClass.TEXT else column

        def valued(params: Params, compiler: Compiler) -> str:
            where = (f"s.workspace_id = $1 AND s.attribute_id = {params.add(attribute.id, 'bigint')} "
                     f"AND s.facet = {params.add(facet.name, 'text')} AND s.ord = 0 "
                     f"AND {not_null} IS NOT NULL")
            if self.node is not None:
                where += f" AND {compiler.row_predicate(self.node)}"
            return where

        rows: list[RecordRow] = []
        keys: list[list[SortValue]] = []
        in_nulls = after is not None and after[0][0] is None
        if not in_nulls:
            params = Params()
            compiler = Compiler(params, self.obj.id, probe_per_row=True)
            where = valued(params, compiler)
            if after is not None:
                where += " AND " + compiler.keyset_after([(column, key.descending, target.storage)], after[0],
                                                         after[1], "r.id")
            sql = (f"SELECT {_ROW_COLUMNS}, {column} AS s0 FROM record_values s "
                   f"JOIN records r ON r.workspace_id = s.workspace_id AND r.id = s.record_id "
                   f"WHERE {where} ORDER BY {column} {direction}, s.record_id ASC "
                   f"LIMIT {params.add(limit, 'bigint')} OFFSET {params.add(0 if after else offset, 'bigint')}")
            rows, keys = await self._run(sql, params)
            if len(rows) >= limit:
                return rows, keys
        # Records without a value for the sort attribute come last, in id order.
        params = Params()
        compiler = Compiler(params, self.obj.id, probe_per_row=True)
        null_offset = 0
        if after is None and not rows:
            count_sql = (f"SELECT count(*) FROM record_values s JOIN records r ON r.workspace_id = s.workspace_id "
                         f"AND r.id = s.record_id WHERE {valued(params, compiler)}")
            valued_total = int((await self.tenant.fetch_one(count_sql, *params.values))[0])
            null_offset = max(0, offset - valued_total)
            params = Params()
            compiler = Compiler(params, self.obj.id, probe_per_row=True)
        where = (f"r.workspace_id = $1 AND r.object_id = {params.add(self.obj.id, 'bigint')} AND NOT EXISTS "
                 f"(SELECT 1 FROM record_values s WHERE s.workspace_id = $1 AND s.record_id = r.id "
                 f"AND s.attribute_id = {params.add(attribute.id, 'bigint')} "
                 f"AND s.facet = {params.add(facet.name, 'text')} AND s.ord = 0)")
        if self.node is not None:
            where += f" AND {compiler.row_predicate(self.node)}"
        if in_nulls and after is not None:
            where += f" AND r.id > {params.add(after[1], 'bigint')}"
        sql = (f"SELECT {_ROW_COLUMNS}, NULL AS s0 FROM records r WHERE {where} ORDER BY r.id "
               f"LIMIT {params.add(limit - len(rows), 'bigint')} OFFSET {params.add(null_offset, 'bigint')}")
        more_rows, more_keys = await self._run(sql, params)
        return rows + more_rows, keys + more_keys
