"""Cron-style schedules of custom notification rules: five fields (minute, hour, day of month,
month, day of week), each ``*``, a number, a range ``a-b``, a step ``*/n`` or ``a-b/n``, or a
comma-separated list of those; also ``@hourly``, ``@daily``, ``@weekly``. Days of week run 0-6
from Sunday (7 is Sunday too). Times are UTC. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

ALIASES: Final = {"@hourly": "0 * * * *", "@daily": "0 0 * * *", "@midnight": "0 0 * * *",
                  "@weekly": "0 0 * * 0"}
_FIELDS: Final = (("minute", 0, 59), ("hour", 0, 23), ("day of month", 1, 31), ("month", 1, 12),
                  ("day of week", 0, 7))
MIN_INTERVAL_MINUTES: Final = 1
"""A schedule fires at most once a minute (its finest field is the minute)."""
_HORIZON_DAYS: Final = 366 * 5
"""``next_time`` looks this far ahead (``0 0 29 2 *`` fires every four years; ``0 0 31 2 *`` never)."""


class ScheduleError(ValueError):
    """Why a schedule cannot be read (the message is shown to the caller)."""


@dataclass(frozen=True, slots=True)
class Schedule:
    text: str
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]
    any_day: bool
    any_weekday: bool

    def day_matches(self, moment: datetime) -> bool:
        """Whether the schedule fires on ``moment``'s day (UTC), at some hour and minute."""
        if moment.month not in self.months:
            return False
        day_ok = moment.day in self.days
        weekday_ok = (moment.isoweekday() % 7) in self.weekdays
        if self.any_day and self.any_weekday:
            return True
        if self.any_day:
            return weekday_ok
        if self.any_weekday:
            return day_ok
        return day_ok or weekday_ok  # cron: with both day fields restricted, either may match

    def fires_on(self, moment: datetime) -> bool:
        """Whether the schedule fires at ``moment``'s minute (UTC)."""
        return moment.minute in self.minutes and moment.hour in self.hours and self.day_matches(moment)


def _field(text: str, name: str, low: int, high: int) -> frozenset[int]:
    values: set[int] = set()
    for part in text.split(","):
        if not part:
            raise ScheduleError(f"the {name} field has an empty list item")
        base, _, step_text = part.partition("/")
        step = 1
        if step_text:
            if not step_text.isdigit() or int(step_text) == 0:
                raise ScheduleError(f"the {name} field's step '{step_text[:10]}' is not a positive number")
            step = int(step_text)
        if base == "*":
            start, end = low, high
        elif "-" in base:
            a, _, b = base.partition("-")
            if not (a.isdigit() and b.isdigit()):
                raise ScheduleError(f"the {name} field's range '{base[:20]}' is not two numbers")
            start, end = int(a), int(b)
            if start > end:
                raise ScheduleError(f"the {name} field's range '{base[:20]}' runs backwards")
        elif base.isdigit():
            start = end = int(base)
            if step_text:
                end = high
        else:
            raise ScheduleError(f"the {name} field '{part[:20]}' is not a number, a range, a step or *")
        if start < low or end > high:
            raise ScheduleError(f"the {name} field allows {low}-{high}, not '{part[:20]}'")
        values.update(range(start, end + 1, step))
    return frozenset(values)


def parse_schedule(text: str) -> Schedule:
    """The schedule ``text`` stands for, or ``ScheduleError`` saying what is wrong with it."""
    raw = " ".join(text.split())
    expanded = ALIASES.get(raw.casefold(), raw)
    parts = expanded.split(" ")
    if len(parts) != 5:
        raise ScheduleError(f"a schedule has 5 fields (minute hour day-of-month month day-of-week), "
                            f"this one has {len(parts) if expanded else 0}")
    sets = [_field(part, name, low, high) for part, (name, low, high) in zip(parts, _FIELDS, strict=True)]
    weekdays = frozenset(d % 7 for d in sets[4])
    schedule = Schedule(raw, sets[0], sets[1], sets[2], sets[3], weekdays, parts[2] == "*", parts[4] == "*")
    if next_time(schedule, datetime(2025, 1, 1)) is None:  # e.g. "0 0 31 2 *"
        raise ScheduleError("this schedule never fires (no such date)")
    return schedule


def next_time(schedule: Schedule, after: datetime) -> datetime | None:
    """The first minute strictly after ``after`` at which the schedule fires (None: never)."""
    start = after.replace(second=0, microsecond=0) + timedelta(minutes=1)
    day = start.replace(hour=0, minute=0)
    for offset in range(_HORIZON_DAYS):
        current = day + timedelta(days=offset)
        if not schedule.day_matches(current):
            continue
        for hour in sorted(schedule.hours):
            for minute in sorted(schedule.minutes):
                moment = current.replace(hour=hour, minute=minute)
                if moment >= start:
                    return moment
    return None
