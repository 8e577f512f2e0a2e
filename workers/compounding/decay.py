"""Decay sweep: an insight nothing reinforced (no duplicate merged into it) for
``COMPOUNDING_DECAY_AFTER_DAYS`` loses ``COMPOUNDING_DECAY_RATE`` of its confidence per such period,
never below ``COMPOUNDING_DECAY_FLOOR`` (nor above what it had). The confidence is derived from the
one it had when last reinforced (``peak_confidence``) and the insight's age, never from the last
sweep's result, so sweeping twice changes nothing more and a merge (which resets both) restores it.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from tessera.db.sql import Params
from workers.compounding.runs import Outcome, RunContext

BATCH = 5_000


def decayed_confidence(peak: float, reinforced_at: datetime, now: datetime, *, period: timedelta, rate: float,
                       floor: float) -> float:
    """The confidence of an insight ``peak`` confident when last reinforced at ``reinforced_at``."""
    periods = math.floor((now - reinforced_at) / period) if now > reinforced_at else 0
    if periods <= 0:
        return peak
    return round(min(peak, max(floor, peak * (1 - rate) ** periods)), 4)


async def sweep(run: RunContext) -> Outcome:
    """The decay sweep's work, in ``run``'s transaction: only insights older than one period are read."""
    settings = run.settings
    period = timedelta(days=settings.compounding_decay_after_days)
    scanned = (await run.tenant.fetch_one(
        "SELECT count(*) FROM insights WHERE workspace_id = $1 AND merged_into IS NULL"))[0]
    params = Params()
    rows = await run.tenant.fetch(
        "SELECT id, confidence, coalesce(peak_confidence, confidence) AS peak, coalesce(reinforced_at, created_at) "
        "AS since FROM insights WHERE workspace_id = $1 AND merged_into IS NULL "
        f"AND coalesce(reinforced_at, created_at) <= {params.add(run.now - period)} ORDER BY id "
        f"LIMIT {params.add(settings.compounding_max_insights)}", *params.values)
    ids, peaks, values = [], [], []
    lowest = 1.0
    for r in rows:
        value = decayed_confidence(r["peak"], r["since"], run.now, period=period, rate=settings.compounding_decay_rate,
                                   floor=settings.compounding_decay_floor)
        if abs(value - r["confidence"]) > 1e-9:
            ids.append(r["id"])
            peaks.append(r["peak"])
            values.append(value)
            lowest = min(lowest, value)
    for start in range(0, len(ids), BATCH):
        batch = Params()
        rows_of = batch.unnest([(ids[start:start + BATCH], "bigint"), (peaks[start:start + BATCH], "float8"),
                                (values[start:start + BATCH], "float8")])
        await run.tenant.fetch(
            f"UPDATE insights i SET peak_confidence = u.peak, confidence = u.value FROM {rows_of} "
            "AS u(id, peak, value) WHERE i.workspace_id = $1 AND i.id = u.id", *batch.values)
    return Outcome(insights_scanned=int(scanned), insights_affected=len(ids),
                   result={"stale_insights": len(rows), "insights_decayed": len(ids),
                           "lowest_confidence": lowest if ids else None,
                           "decay_after_days": settings.compounding_decay_after_days,
                           "rate": settings.compounding_decay_rate, "floor": settings.compounding_decay_floor})
