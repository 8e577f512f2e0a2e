"""The SQL the product's ``RecordQuery`` runs, captured on a plain asyncpg connection
(``CapturingTenant``) and optionally rewritten before it runs (``RewritingTenant``): how
``bench_records`` explains its slowest queries and ``bench_storage`` tries changes to the generated
SQL (``fence_exists``, ``merge_ranges``, ``use_text_key``) without changing the product."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import asyncpg


class CapturingTenant:
    """What ``RecordQuery`` needs of a ``Tenant``, on a plain asyncpg connection, keeping every
    statement it runs (``$1`` is the workspace id, as in ``Tenant.fetch``)."""

    def __init__(self, conn: asyncpg.Connection, workspace_id: int) -> None:
        self.conn = conn
        self.workspace_id = workspace_id
        self.statements: list[tuple[str, tuple[Any, ...], float]] = []

    async def fetch(self, statement: str, *args: Any) -> list[Any]:
        started = time.perf_counter()
        rows: list[Any] = await self.conn.fetch(statement, self.workspace_id, *args)
        self.statements.append((statement, args, (time.perf_counter() - started) * 1000))
        return rows

    async def fetchrow(self, statement: str, *args: Any) -> Any:
        rows = await self.fetch(statement, *args)
        return rows[0] if rows else None

    async def fetch_one(self, statement: str, *args: Any) -> Any:
        (row,) = await self.fetch(statement, *args)
        return row


class RewritingTenant(CapturingTenant):
    """A ``CapturingTenant`` that runs each statement through ``rewrite`` first: how the EAV
    variants below try a change to the generated SQL without changing the product."""

    def __init__(self, conn: asyncpg.Connection, workspace_id: int, rewrite: Callable[[str], str]) -> None:
        super().__init__(conn, workspace_id)
        self.rewrite = rewrite

    async def fetch(self, statement: str, *args: Any) -> list[Any]:
        return await super().fetch(self.rewrite(statement), *args)


def fence_exists(sql: str) -> str:
    """Every ``EXISTS (SELECT 1 FROM record_values ...)`` probe with ``OFFSET 0`` appended (once).
    PostgreSQL flattens a plain EXISTS into a semi-join, which it may then run as a hash join
    over every matching value (all of them, before the LIMIT); with OFFSET 0 the probe stays a
    per-row subplan, so an ordered walk stops after the page."""
    marker = "EXISTS (SELECT 1 FROM record_values"
    out, start = [], 0
    while (found := sql.find(marker, start)) >= 0:
        depth, index = 0, found + len("EXISTS ")
        while True:
            depth += {"(": 1, ")": -1}.get(sql[index], 0)
            if depth == 0:
                break
            index += 1
        already = sql[found:index].rstrip().endswith("OFFSET 0")  # the product fences its walks itself
        out.append(sql[start:index] + ("" if already else " OFFSET 0"))
        start = index
    out.append(sql[start:])
    return "".join(out)


_RANGE_PAIR = re.compile(
    r"\(SELECT v\.record_id FROM record_values v WHERE (v\.workspace_id = \$1 AND v\.attribute_id = \$\d+::bigint "
    r"AND v\.facet = \$\d+::text AND v\.v_num [<>]=? \$\d+::numeric)\) INTERSECT \(SELECT v\.record_id FROM "
    r"record_values v WHERE v\.workspace_id = \$1 AND (v\.attribute_id = \$\d+::bigint AND v\.facet = \$\d+::text "
    r"AND v\.v_num [<>]=? \$\d+::numeric)\)")
_TEXT_KEY = re.compile(r'left\((\w+)\.v_text, 200\) COLLATE "C"')


def merge_ranges(sql: str) -> str:
    """Two INTERSECTed range scans of one numeric facet (``{"$gte": a, "$lt": b}``) as one scan."""
    return _RANGE_PAIR.sub(r"(SELECT v.record_id FROM record_values v WHERE \1 AND \2)", sql)


def use_text_key(sql: str) -> str:
    """``left(v.v_text, 200) COLLATE "C"`` replaced by the stored column ``v_key`` (see
    ``bench_storage.add_text_key``), which an index-only scan can return."""
    return _TEXT_KEY.sub(r"\1.v_key", sql)


def fixed(sql: str) -> str:
    return use_text_key(merge_ranges(fence_exists(sql)))
