"""Sets of text spans asked "does one of you hold this position?" once per match or line.

Asking a list with ``any(lo <= i < hi for lo, hi in spans)`` costs one pass over the list per
question: a text of many header lines, links or addresses asks as often as it has spans, and
the work grows with the square of the text. Merged and sorted once, the answer is a binary
search.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable


class Spans:
    """Half-open ``(start, end)`` spans of a text; overlapping and unsorted spans are fine."""

    def __init__(self, spans: Iterable[tuple[int, int]] = ()) -> None:
        merged: list[list[int]] = []
        for lo, hi in sorted(s for s in spans if s[0] < s[1]):
            if merged and lo <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], hi)
            else:
                merged.append([lo, hi])
        self._starts = [lo for lo, _ in merged]
        self._ends = [hi for _, hi in merged]

    def holds(self, position: int) -> bool:
        """Whether ``lo <= position < hi`` for one of the spans."""
        index = bisect_right(self._starts, position) - 1
        return index >= 0 and position < self._ends[index]
