"""Wording of answers from memory (pure): what a question asks about, whether it asks for a
general picture of an entity, and how a recalled sentence is quoted."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Final

_OPENER: Final = re.compile(
    r"^\s*(?:(?:and|so|ok|okay)\s*,?\s+)?(?:what|which|who|whom|when|where|why|how(?:\s+(?:much|many|long|often|old))?)"
    r"(?:'s|\s+(?:is|are|was|were|do|does|did|has|have|had|will|would|should|can|could))?\s+", re.IGNORECASE)
_SWAP: Final = {"my": "your", "i": "you", "me": "you", "mine": "yours", "am": "are", "our": "your", "we": "you",
                "us": "you", "ours": "yours"}
_GENERAL: Final = re.compile(
    r"^\s*(?:tell me (?:about|more about)|who (?:is|are|was)|what do (?:we|you|i) know about|what about|"
    r"summari[sz]e|give me (?:a|an) (?:overview|summary|update) (?:of|on)|describe|anything (?:on|about)|"
    r"what(?:'s| is) (?:new|happening|going on) (?:with|at)|what(?:'s| is) the (?:status|latest|news|update)|"
    r"(?:status|latest|update) (?:on|of|with)|how is|how are|compare|which deals)\b", re.IGNORECASE)


def subject_of(question: str) -> str:
    """What a question asks about, seen from the platform: ``What is my favourite colour?`` ->
    ``your favourite colour``."""
    text = _OPENER.sub("", question.strip(), count=1).rstrip(" ?!.")
    words = [_SWAP.get(w.casefold(), w) if w.casefold() in _SWAP else w for w in text.split()]
    return " ".join(words) or question.strip()


def asks_for_overview(question: str) -> bool:
    """Whether the question asks for what is known about an entity in general (``Tell me about
    Sarah``), not for one fact."""
    return bool(_GENERAL.match(question))


def quote(sentence: str, when: datetime | None) -> str:
    """A recalled sentence as the answer states it, with the day it was remembered."""
    body = " ".join(sentence.split()).rstrip()
    if body and body[-1] not in ".!?":
        body += "."
    return f"{body} (remembered {when.date().isoformat()})" if when else body
