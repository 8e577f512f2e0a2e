"""Words and key phrases of insights, for telling near-duplicates apart and naming themes."""

from __future__ import annotations

import functools
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Final

_WORD: Final = re.compile(r"[A-Za-z][A-Za-z0-9'’-]*|\d+")
_STOP_WORDS: Final = """
a an the and or but if then than so of to in on at by for with from into onto about over under after before
during until while as is are was were be been being am do does did done have has had having will would shall
should can could may might must not no nor this that these those it its it's they them their theirs we us our
ours you your yours he him his she her hers i me my mine who whom whose which what when where why how all any
both each few more most other some such only own same too very just also still again even ever really quite
there here out up down off once ago via per etc re within without across around between through
"""
_GENERIC_WORDS: Final = """
said says say saying told tell mentioned mention mentions raised raise raises raising asked ask asks asking
wants want wanted need needs needed noted note notes call calls called meeting meetings team teams today
week weeks yesterday customer customers prospect prospects client clients company companies concern concerns
concerned worried worry worries issue issues thing things lot bit get got make made going go think thinks
thought feel feels felt like likes see seen look looks looking know knows let lets keep kept new well
"""
STOP: Final = frozenset(_STOP_WORDS.split())
GENERIC: Final = frozenset(_GENERIC_WORDS.split())
"""Words every insight of a kind uses (its cue words, reporting verbs): no theme is named by them."""


@functools.lru_cache(maxsize=65_536)
def normalize_word(word: str) -> str:
    """Lower case, curly apostrophes straightened, a plural ``s`` dropped (``reviews`` -> ``review``)."""
    low = word.casefold().replace("’", "'")
    low = low[:-2] if low.endswith("'s") else low
    if len(low) > 4 and low.endswith("s") and not low.endswith(("ss", "us", "is")):
        low = low[:-1]
    return low


def words(text: str) -> list[str]:
    """The normalized words of ``text`` that are not stop words."""
    return [w for w in (normalize_word(t) for t in _WORD.findall(text)) if w not in STOP]


def overlap(a: Sequence[str], b: Sequence[str]) -> float:
    """Jaccard overlap of two texts' word sets (0 when either is empty)."""
    left, right = set(a), set(b)
    if not left or not right:
        return 0.0
    return len(left & right) / len(left | right)


Run = list[tuple[str, str]]
"""Adjacent content words of a text: (normalized, as written) pairs."""


def content_runs(text: str, *, exclude: Iterable[str] = ()) -> list[Run]:
    """The runs of adjacent content words of ``text``: stop and generic words break a run, and
    so do the words of ``exclude`` (e.g. the names of the records the text is about)."""
    excluded = {normalize_word(w) for name in exclude for w in _WORD.findall(name)}
    runs: list[Run] = [[]]
    for token in _WORD.findall(text):
        key = normalize_word(token)
        if key in STOP or key in GENERIC or key in excluded or (len(key) < 2 and not key.isdigit()):
            if runs[-1]:
                runs.append([])
            continue
        runs[-1].append((key, token))
    return [run for run in runs if run]


def key_phrases(text: str, *, exclude: Iterable[str] = ()) -> dict[str, str]:
    """The theme candidates of a text: every two or three adjacent content words, as
    normalized key -> the words as written."""
    return phrases_of(content_runs(text, exclude=exclude))


def phrases_of(runs: Sequence[Run]) -> dict[str, str]:
    """``key_phrases`` of a text already split into ``content_runs``."""
    phrases: dict[str, str] = {}
    for run in runs:
        for size in (2, 3):
            for start in range(len(run) - size + 1):
                part = run[start:start + size]
                phrases.setdefault(" ".join(k for k, _ in part), " ".join(w for _, w in part))
    return phrases


def widest_phrase(key: str, texts: Sequence[str], *, share: float = 0.8) -> str:
    """``widest_in`` over texts not yet split into runs."""
    return widest_in(key, [content_runs(t) for t in texts], share=share)


def widest_in(key: str, runs: Sequence[Sequence[Run]], *, share: float = 0.8) -> str:
    """``key`` widened word by word (left, then right) while the wider phrase is still in at
    least ``share`` of ``texts``; returned as most often written. ``"send soc"`` in texts that all
    say "send the SOC 2 report" -> ``"send soc 2 report"``."""
    words_of = key.split()

    def spans(phrase: list[str]) -> list[tuple[Run, int]]:
        found = []
        for text_runs in runs:
            for run in text_runs:
                keys = [k for k, _ in run]
                start = next((i for i in range(len(keys) - len(phrase) + 1) if keys[i:i + len(phrase)] == phrase), None)
                if start is not None:
                    found.append((run, start))
                    break
        return found

    current = spans(words_of)
    needed = max(1, math.ceil(share * len(runs)))
    for side in (-1, 1):
        while len(words_of) < 6:
            extra: Counter[str] = Counter()
            for run, start in current:
                at = start - 1 if side < 0 else start + len(words_of)
                if 0 <= at < len(run):
                    extra[run[at][0]] += 1
            if not extra:
                break
            word, count = extra.most_common(1)[0]
            if count < needed:
                break
            words_of = [word, *words_of] if side < 0 else [*words_of, word]
            current = spans(words_of)
    written: Counter[str] = Counter(" ".join(w for _, w in run[start:start + len(words_of)]) for run, start in current)
    return written.most_common(1)[0][0] if written else key
