"""Does a recalled sentence answer the question at all? (pure)

Similarity alone cannot say: "What is Sarah's phone number?" is close to every passage about
Sarah because of her name, while "Which hue do I like best?" shares nothing with "My favorite
color is blue" but its meaning. Three checks, each cheap:

- **names**: every name the question uses (``Sarah Okonkwo``, ``Porto``) appears in the passage,
  by one of its words (first or last name, possessive dropped);
- **answer type**: a question that asks for a phone number, an e-mail address, a time or a
  quantity is answered only by a sentence that holds one;
- **meaning without the names**: the question with its names taken out is still close to the
  passage (cosine of their vectors at least ``RESIDUAL_AT_LEAST``); the passage keeps its names,
  which then match nothing in the question.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Final

_PHONE_Q: Final = re.compile(r"\b(?:phone|mobile|cell|telephone)(?:\s+number)?\b|\bcall\s+\w+\s+on\b", re.I)
_EMAIL_Q: Final = re.compile(r"\be-?mail\b", re.I)
_TIME_Q: Final = re.compile(
    r"^\s*(?:and\s+)?when\b|\b(?:what|which)\s+(?:date|day|time|year|month|hour|evening|morning|night|weekday)\b|"
    r"\bbirthday\b|\bdeadline\b|\bat\s+what\s+hour\b|\bon\s+what\s+date\b|\bhow\s+soon\b", re.I)
_QUANTITY_Q: Final = re.compile(
    r"^\s*(?:and\s+)?how\s+(?:many|much|long|far|old|often|fast|big|large|tall|heavy)\b|"
    r"\b(?:price|cost|revenue|salary|budget|percentage|rate|amount|number\s+of|headcount)\b", re.I)

_PHONE: Final = re.compile(r"\+?\d[\d\s().-]{6,}\d")
_EMAIL: Final = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
_MONTHS = ("january|february|march|april|may|june|july|august|september|october|november|december|"
           "jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec")
_TIME: Final = re.compile(
    rf"\b(?:{_MONTHS}|monday|tuesday|wednesday|thursday|friday|saturday|sunday|weekend|weekday|today|tomorrow|"
    r"tonight|yesterday|morning|afternoon|evening|night|noon|midnight|week|month|year|spring|summer|autumn|fall|"
    r"winter|quarter|q[1-4]|daily|weekly|monthly|annually|every|next|last)\b|\b\d{1,2}(?:st|nd|rd|th)\b|"
    r"\b\d{1,2}[:.]\d{2}\b|\b\d{4}\b|\b\d{1,2}\s*(?:am|pm)\b|\bat\s+\d{1,2}\b|\b\d{1,2}/\d{1,2}\b", re.I)
_QUANTITY: Final = re.compile(
    r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty|fifty|"
    r"hundred|thousand|million|billion|dozen|half|twice|double|triple|once|several|few)\b", re.I)

RESIDUAL_AT_LEAST: Final = 0.2


def expected_answer_type(question: str) -> str | None:
    """``phone``, ``email``, ``time``, ``quantity`` or None (any sentence may answer)."""
    if _PHONE_Q.search(question):
        return "phone"
    if _EMAIL_Q.search(question):
        return "email"
    if _TIME_Q.search(question):
        return "time"
    if _QUANTITY_Q.search(question):
        return "quantity"
    return None


def holds_answer_type(kind: str | None, sentence: str) -> bool:
    pattern = {"phone": _PHONE, "email": _EMAIL, "time": _TIME, "quantity": _QUANTITY}.get(kind or "")
    return pattern is None or bool(pattern.search(sentence))


_NAME_WORD: Final = re.compile(r"[^\W_][\w-]*", re.UNICODE)


GENERIC_NAME_WORDS: Final = frozenset({
    "the", "and", "of", "dr", "mr", "mrs", "ms", "prof", "inc", "ltd", "llc", "gmbh", "ag", "sa", "plc", "co", "corp",
    "company", "group", "holdings", "logistics", "labs", "lab", "bank", "energy", "energie", "health", "foods",
    "freight", "data", "robotics", "systems", "solutions", "technologies", "technology", "partners", "capital",
    "consulting", "services", "software", "industries", "international", "global", "retail", "media", "studio",
})


def name_words(name: str) -> list[str]:
    """The words a name can be mentioned by (``Sarah Okonkwo's`` -> ``sarah``, ``okonkwo``); the
    generic words of company names (``Logistics``, ``Bank``) do not count, unless they are all it has."""
    words = [re.sub(r"['’]s$", "", w).casefold() for w in _NAME_WORD.findall(name)]
    words = [w for w in words if len(w) >= 3 or any(c.isdigit() for c in w)]
    distinctive = [w for w in words if w not in GENERIC_NAME_WORDS]
    return distinctive or words


def mentions_all(names: Sequence[str], text: str) -> bool:
    """Whether ``text`` mentions every name (each by at least one of its words)."""
    folded = text.casefold()
    for name in names:
        words = name_words(name)
        if words and not any(re.search(rf"(?<!\w){re.escape(w)}", folded) for w in words):
            return False
    return True


def without_names(text: str, names: Sequence[str]) -> str:
    """``text`` with every word of ``names`` (and its possessive) taken out."""
    for name in names:
        for word in name_words(name):
            text = re.sub(rf"(?<!\w){re.escape(word)}(?:['’]s)?(?!\w)", " ", text, flags=re.IGNORECASE)
    return " ".join(text.split())
