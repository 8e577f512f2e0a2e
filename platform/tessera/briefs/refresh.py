"""Debounced brief refresh: which entity briefs have enough new context about their record to be
compiled again (the worker's sweep asks, its job recompiles them)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from tessera.briefs import repository
from tessera.context.memory import mentions_since
from tessera.db.tenant import Tenant


@dataclass(frozen=True, slots=True)
class RefreshPolicy:
    threshold: int
    """New memory items naming the record since the brief was compiled."""
    quiet: timedelta
    """No newer item for this long (the burst is over)..."""
    max_wait: timedelta
    """...or the oldest unconsidered one is this old (a record discussed without pause)."""


def is_due(count: int, oldest: datetime, newest: datetime, now: datetime, policy: RefreshPolicy) -> bool:
    """Whether a brief with ``count`` new items (from ``oldest`` to ``newest``) is due a recompile."""
    if count < policy.threshold:
        return False
    return newest <= now - policy.quiet or oldest <= now - policy.max_wait


async def due_briefs(tenant: Tenant, now: datetime, policy: RefreshPolicy, *, limit: int) -> list[int]:
    """Ids of the workspace's entity and private briefs due a recompile (among the ``limit``
    checked longest ago)."""
    briefs = [b for b in await repository.least_recently_checked(tenant, limit=limit) if b.record_id is not None]
    stats = await mentions_since(tenant, [(b.id, b.record_id, b.checked_at) for b in briefs
                                          if b.record_id is not None])
    return [b.id for b in briefs if b.id in stats and is_due(*stats[b.id], now, policy)]
