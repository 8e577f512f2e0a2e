"""Creation order across the change of id layout (migration 0012).

Before migration 0012 ids had 63 bits (milliseconds since 2024-01-01 << 22), so every id made
after 2024-01-25 is at least 2^53; from 0012 on they have 53 (seconds << 22, ``tessera.db.ids``)
and are all below 2^53. An upgraded database keeps its old ids (docs/storage.md, "Ids"): there
every new id is smaller than every old one, and ``ORDER BY id`` is no longer creation order.
Creation order is (layout, id): the old ids in id order, then the new ones in id order.

A workspace whose own id is new was created after the upgrade, and so were all of its rows: for
it plain id order is creation order, and these functions produce the same SQL as before 0012.
(Rows written during a rolling upgrade by processes still running older code carry old ids even
there; they come out of creation order, never out of the results.) Only workspaces created before
the upgrade pay for the two layouts: an in-memory sort key, or one more query when a page crosses
from one layout to the other (two when an offset skips a whole layout: it is counted, up to the
offset).
"""

from __future__ import annotations

import asyncpg

from tessera.db.sql import Params
from tessera.db.tenant import Tenant

FIRST_OLD_ID = 1 << 53
"""Ids at or above this were issued before migration 0012; every later id is below it."""


def _mixed(workspace_id: int) -> bool:
    """Whether the workspace predates 0012, so its rows may carry ids of both layouts."""
    return workspace_id >= FIRST_OLD_ID


def order_by(workspace_id: int, column: str, *, newest_first: bool = False) -> str:
    """``ORDER BY`` terms putting the rows of ``column`` in creation order. Use no index: for sets
    sorted in memory (a filtered handful); walks along an index go through ``creation_page``."""
    direction = "DESC" if newest_first else "ASC"
    if not _mixed(workspace_id):
        return f"{column} {direction}"
    return f"({column} < {FIRST_OLD_ID}) {direction}, {column} {direction}"


def beyond(workspace_id: int, column: str, placeholder: str, last_id: int, *, newest_first: bool = False) -> str:
    """A predicate for the rows after ``last_id`` (bound to ``placeholder``) in the order of
    ``order_by``: a keyset cursor's condition."""
    if not _mixed(workspace_id):
        return f"{column} {'<' if newest_first else '>'} {placeholder}"
    old = last_id >= FIRST_OLD_ID
    if newest_first:  # older rows: the same layout's smaller ids, and every old id after a new one
        return (f"({column} < {placeholder} AND {column} >= {FIRST_OLD_ID})" if old
                else f"({column} < {placeholder} OR {column} >= {FIRST_OLD_ID})")
    return (f"({column} > {placeholder} OR {column} < {FIRST_OLD_ID})" if old
            else f"({column} > {placeholder} AND {column} < {FIRST_OLD_ID})")


async def creation_page(tenant: Tenant, select: str, params: Params, *, column: str = "id",
                        newest_first: bool, limit: int, offset: int = 0,
                        after: int | None = None) -> list[asyncpg.Record]:
    """The rows of ``select`` in creation order (newest or oldest first): ``limit`` of them after
    skipping ``offset``, or the ``limit`` that follow the row whose id is ``after`` (a cursor).

    ``select`` is ``SELECT ... WHERE ...`` without ORDER BY or LIMIT, its parameters bound in
    ``params`` (left as they are: each query this runs binds its own on a copy); each query is
    ``select`` walked along ``column`` (one index range per layout), so an index that serves
    ``ORDER BY column`` under its conditions serves it here too."""
    direction, past = ("DESC", "<") if newest_first else ("ASC", ">")
    layouts: list[str | None] = [None]
    if _mixed(tenant.workspace_id):
        new, old = f"{column} < {FIRST_OLD_ID}", f"{column} >= {FIRST_OLD_ID}"
        layouts = [new, old] if newest_first else [old, new]
        if after is not None:  # the cursor's layout goes on past it; the one before it is done
            layouts = layouts[layouts.index(old if after >= FIRST_OLD_ID else new):]
    rows: list[asyncpg.Record] = []
    skip = offset
    for position, layout in enumerate(layouts):
        layout_params = params.copy()
        where = select + (f" AND {layout}" if layout else "")
        if after is not None and position == 0:
            where += f" AND {column} {past} {layout_params.add(after)}"
        page = layout_params.copy()
        found = await tenant.fetch(f"{where} ORDER BY {column} {direction} LIMIT {page.add(limit - len(rows))} "
                                   f"OFFSET {page.add(skip)}", *page.values)
        rows.extend(found)
        if len(rows) >= limit or position == len(layouts) - 1:
            break
        if found or not skip:
            skip = 0
        else:  # this layout held at most `skip` rows, all skipped: the next one skips the rest
            held = await tenant.fetch(f"SELECT count(*) FROM ({where} LIMIT {layout_params.add(skip)}) AS held",
                                      *layout_params.values)
            skip -= int(held[0][0])
    return rows
