"""Time-ordered 53-bit ids drawn without a round trip per id.

An id is ``seconds << 22 | (sequence & (2**22 - 1))``: 31 bits of seconds since 2024-01-01 (until
2092) and the low 22 bits of ``tessera_id_seq``, the layout of the database's ``next_id()``
(migration 0012). At most 2^53 - 1, so a JavaScript client reads every id exactly
(``Number.MAX_SAFE_INTEGER``); databases older than 0012 also hold 63-bit ids (milliseconds << 22),
which ``tessera.db.id_order`` puts in creation order with the new ones.

A process reserves sequence values in blocks (one query per block) and stamps them with its own
clock. Sequence values are unique, so two ids can only be equal if their sequence values differ
by a multiple of 2^22 and were stamped into the same second. A block older than
``MAX_BLOCK_AGE_S`` is discarded, so a value is stamped at most that long after it was drawn: a
collision needs 2^22 values drawn within ``MAX_BLOCK_AGE_S`` + 1 s (plus any clock skew between
the processes): about 1.4 million ids a second, sustained for 3 s. Ids grow with the second they
were stamped in; within one second they follow the sequence (the order blocks were drawn in, not
the order ids were used), and where the low 22 bits wrap, once every 4,194,304 values, the ids
after the wrap in that second are smaller than those before it.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from tessera.db.engine import translated


def id_from_text(raw: str) -> int | None:
    """The id a client's text stands for, or None when it cannot be one (not ASCII digits, or
    beyond bigint: ids from before migration 0012 reach 2^63). ``str.isdigit`` alone also accepts
    "³" or "١", which ``int`` refuses or reads."""
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 19:
        return None
    value = int(raw)
    return value if value < 2**63 else None


EPOCH_S = 1_704_067_200
"""2024-01-01T00:00:00Z, second 0 of the layout."""
TIME_BITS = 31
SEQUENCE_BITS = 22
MAX_ID = (1 << (TIME_BITS + SEQUENCE_BITS)) - 1
"""2^53 - 1, JavaScript's ``Number.MAX_SAFE_INTEGER``: the largest id the layout can make."""
BLOCK = 1000
MAX_BLOCK_AGE_S = 2.0


def compose_id(unix_seconds: float, sequence: int) -> int:
    """The id of sequence value ``sequence`` stamped at ``unix_seconds`` (``next_id()``'s layout).
    ValueError outside 2024-01-01 .. 2092-01-19, where the seconds do not fit their 31 bits."""
    seconds = int(unix_seconds) - EPOCH_S
    if not 0 <= seconds < 1 << TIME_BITS:
        raise ValueError(f"{unix_seconds} is outside the id layout's time range")
    return (seconds << SEQUENCE_BITS) | (sequence & ((1 << SEQUENCE_BITS) - 1))


class IdAllocator:
    def __init__(self) -> None:
        self._free: deque[int] = deque()
        self._fetched_at = 0.0
        self._lock = asyncio.Lock()

    async def take(self, conn: AsyncConnection, count: int) -> list[int]:
        """``count`` fresh ids, in increasing order (except across a wrap of the sequence's low 22
        bits within one second)."""
        async with self._lock:
            if time.monotonic() - self._fetched_at > MAX_BLOCK_AGE_S:
                self._free.clear()
            if len(self._free) < count:
                need = max(BLOCK, count - len(self._free))
                async with translated():
                    result = await conn.execute(
                        text("SELECT nextval('tessera_id_seq') FROM generate_series(1, :n)"), {"n": need})
                self._free.extend(row[0] for row in result)
                self._fetched_at = time.monotonic()
            sequence = [self._free.popleft() for _ in range(count)]
        now = time.time()
        return [compose_id(now, value) for value in sequence]
