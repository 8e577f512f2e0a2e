"""Admission of record queries: what one workspace may ask of the database at once.

A filtered query may take hundreds of milliseconds on a large workspace. Without a bound, one
tenant firing expensive filters in parallel would hold every pooled connection (``DB_POOL_SIZE``)
and every other tenant's requests would queue behind it. ``QueryGate`` lets at most
``QUERY_CONCURRENCY_PER_WORKSPACE`` list queries of one workspace run at once in this process;
the next waits up to ``QUERY_QUEUE_SECONDS`` for a slot and is then answered 429. The slot is
taken before the request's connection, so waiting requests hold none.

``check_cost`` refuses what no index can serve cheaply at any size: deep offsets (use the
cursor) and many leading-wildcard substring conditions (each is a trigram scan).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from schema_registry.query import And, Condition, Node, Not, Or
from tessera.errors import BadRequest, FieldError, TooManyRequests

LEADING_WILDCARD_OPERATORS = frozenset({"$contains", "$ends_with"})


@dataclass(slots=True)
class _Slots:
    semaphore: asyncio.Semaphore
    users: int = 0


@dataclass
class QueryGate:
    limit: int
    wait_seconds: float
    what: str = "record queries"
    _slots: dict[int, _Slots] = field(default_factory=dict)

    @asynccontextmanager
    async def slot(self, workspace_id: int) -> AsyncIterator[None]:
        slots = self._slots.get(workspace_id)
        if slots is None:
            slots = self._slots[workspace_id] = _Slots(asyncio.Semaphore(self.limit))
        slots.users += 1
        try:
            try:
                await asyncio.wait_for(slots.semaphore.acquire(), self.wait_seconds)
            except TimeoutError:
                raise TooManyRequests(f"Too many {self.what} of this workspace at once (at most {self.limit}); "
                                      "retry shortly", retry_after=1) from None
            try:
                yield
            finally:
                slots.semaphore.release()
        finally:
            slots.users -= 1
            if slots.users == 0:
                del self._slots[workspace_id]


def count_leading_wildcards(node: Node | None) -> int:
    """How many conditions of a parsed filter need a substring match not anchored at the start."""
    if node is None:
        return 0
    if isinstance(node, Condition):
        return 1 if node.op in LEADING_WILDCARD_OPERATORS else 0
    if isinstance(node, Not):
        return count_leading_wildcards(node.child)
    assert isinstance(node, And | Or)
    return sum(count_leading_wildcards(child) for child in node.children)


def check_cost(node: Node | None, offset: int, *, max_offset: int, max_wildcards: int) -> None:
    """400 for a query whose cost no index bounds: an offset past ``max_offset`` or more than
    ``max_wildcards`` ``$contains``/``$ends_with`` conditions."""
    if offset > max_offset:
        raise BadRequest(f"offset may be at most {max_offset}: page further with the cursor "
                         "(send the next_cursor of the previous page as cursor)",
                         errors=[FieldError("offset", f"at most {max_offset}")])
    wildcards = count_leading_wildcards(node)
    if wildcards > max_wildcards:
        raise BadRequest(f"A filter may hold at most {max_wildcards} $contains/$ends_with conditions "
                         f"(this one has {wildcards}); use $starts_with or $eq, or search",
                         errors=[FieldError("filter", f"at most {max_wildcards} $contains/$ends_with")])
