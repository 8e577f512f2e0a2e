"""Time, injectable: tests replace the clock instead of sleeping."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], float]
"""Seconds since the epoch, like ``time.time``."""

system_clock: Clock = time.time


def utcnow(clock: Clock = system_clock) -> datetime:
    return datetime.fromtimestamp(clock(), tz=UTC)
