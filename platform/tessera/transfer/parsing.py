"""CPU-bound parsing of uploaded files, kept off the API's event loop.

A parse (an import preview, the first MiB of an upload) runs in a worker thread so the loop keeps
serving every other request meanwhile, at most ``parse_max_threads`` at once per API process. It
has a time budget: the parser checks its deadline between records and stops, and the caller stops
waiting shortly after it in any case, so an over-budget file answers 400 instead of holding a
thread. A thread shares the GIL with the loop, and one long C-level regex call never gives it
back; that is why the parsers themselves are linear (``cells``, ``imports.RowReader``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import anyio
import anyio.to_thread

from tessera.errors import BadRequest

T = TypeVar("T")

_BACKSTOP_S = 1.0
"""How long past the budget the caller still waits for a parser that missed its own deadline."""


@dataclass(frozen=True)
class ParseBudget:
    """Limits of one parse: its time budget, the longest record, the threads it may take."""

    seconds: float
    max_record_chars: int
    limiter: anyio.CapacityLimiter | None = None


@dataclass(frozen=True)
class Deadline:
    """When a parse must stop (``time.monotonic``); parsers call ``check`` between records."""

    at: float
    seconds: float

    def check(self) -> None:
        """``BadRequest`` once the deadline has passed. Also hands the GIL over: a parsing thread
        otherwise keeps it for the whole switch interval (5 ms) each time the event loop asks, and
        a request needing a few dozen hand-overs waited 100-300 ms behind two parses."""
        if time.monotonic() > self.at:
            raise over_budget(self.seconds)
        time.sleep(0)


def over_budget(seconds: float) -> BadRequest:
    return BadRequest(f"The file took too long to parse (over {seconds:g} s): send fewer or simpler rows")


async def parse_off_loop(budget: ParseBudget, parse: Callable[[Deadline], T]) -> T:
    """``parse(Deadline(...))`` in a worker thread: its result, or ``BadRequest`` when it runs
    over ``budget.seconds``."""
    deadline = Deadline(time.monotonic() + budget.seconds, budget.seconds)
    try:
        with anyio.fail_after(budget.seconds + _BACKSTOP_S):
            return await anyio.to_thread.run_sync(parse, deadline, abandon_on_cancel=True, limiter=budget.limiter)
    except TimeoutError as err:
        raise over_budget(budget.seconds) from err
