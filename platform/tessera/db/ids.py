"""Time-ordered 64-bit ids drawn without a round trip per id.

Ids have the layout of the database's ``next_id()``: 41 bits of milliseconds since 2024-01-01 and
22 bits of ``tessera_id_seq``. A process reserves sequence values in blocks (one query per
block) and stamps them with its own clock, so ids stay unique across processes (the sequence
values are) and ordered by creation time. A block older than a few seconds is discarded, so a
sequence value is never combined with a millisecond in which, 4 million ids later, another
process could use the same low bits.
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
    beyond bigint). ``str.isdigit`` alone also accepts "³" or "١", which ``int`` refuses or reads."""
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 19:
        return None
    value = int(raw)
    return value if value < 2**63 else None


EPOCH_MS = 1_704_067_200_000
SEQUENCE_BITS = 22
BLOCK = 1000
MAX_BLOCK_AGE_S = 5.0


class IdAllocator:
    def __init__(self) -> None:
        self._free: deque[int] = deque()
        self._fetched_at = 0.0
        self._lock = asyncio.Lock()

    async def take(self, conn: AsyncConnection, count: int) -> list[int]:
        """``count`` fresh ids, in increasing order."""
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
        millis = int(time.time() * 1000) - EPOCH_MS
        mask = (1 << SEQUENCE_BITS) - 1
        return [(millis << SEQUENCE_BITS) | (value & mask) for value in sequence]
