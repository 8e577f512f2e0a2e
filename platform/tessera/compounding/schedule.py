"""The compounding job types and the cron's schedule of them (``COMPOUNDING_SCHEDULE``)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Final, Literal, get_args

JobType = Literal["consolidation", "pattern_detection", "playbook_synthesis", "decay_sweep", "metrics"]
JOB_TYPES: Final[tuple[JobType, ...]] = get_args(JobType)
_INTERVAL = re.compile(r"^(\d{1,5})(m|h|d)$")
_UNIT = {"m": 60, "h": 3600, "d": 86_400}
MIN_INTERVAL: Final = timedelta(minutes=1)


def parse_schedule(text: str) -> dict[JobType, timedelta]:
    """``"consolidation=1h,metrics=24h"`` -> each job type's interval. Raises ``ValueError``
    naming the part it cannot read (an unknown job type, an interval that is not ``<n>m|h|d``,
    a job type named twice)."""
    schedule: dict[JobType, timedelta] = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        name, _, interval = (s.strip() for s in part.partition("="))
        job_type = next((t for t in JOB_TYPES if t == name), None)
        if job_type is None:
            raise ValueError(f"unknown compounding job type {name!r} (one of {', '.join(JOB_TYPES)})")
        match = _INTERVAL.match(interval)
        if match is None:
            raise ValueError(f"{name}: the interval must be a number and a unit (m, h, d), like 1h; got {interval!r}")
        span = timedelta(seconds=int(match.group(1)) * _UNIT[match.group(2)])
        if span < MIN_INTERVAL:
            raise ValueError(f"{name}: the interval must be at least 1m")
        if job_type in schedule:
            raise ValueError(f"{name} is scheduled twice")
        schedule[job_type] = span
    return schedule
