"""Company names in text and how they pair with domains.

A phrase is read as a company when its own shape says so (``Zentro GmbH``, ``Kestrel
Robotics``, ``TechFlow``) or when a cue around it does (``at Initech``, ``CEO of Globex``,
``the Tidewater account``, ``moving to Notion``). A name and a domain are one company when the
text puts them side by side (``Acme (acme.com)``) or when the domain's label spells the name
(``pinecrestcap.com`` for ``Pinecrest Capital``, ``stbrigids.org`` for ``St. Brigid's Hospital
Group``).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from typing import Final

import pycountry

from workers.intelligence.lexicon import (
    COMPANY_HEADS,
    COMPANY_PREFIXES,
    DEPARTMENTS,
    JOB_TITLE_WORDS,
    LEGAL_SUFFIXES,
    NOT_NAMES,
    PLACES,
    TOOLS,
)

_LEGAL: Final = frozenset(s.rstrip(".") for s in LEGAL_SUFFIXES)
_WORD: Final = r"(?:St\.\s)?[A-Z][\w'’.-]*[\w’']|[A-Z]"
_LEGAL_TAIL: Final = (r"(?:,?\s+(?:Inc|Corp|Co|Ltd|LLC|GmbH|AG|SA|S\.A|plc|PLC|Limited|Corporation|BV|NV|Oy|AB|SAS"
                      r"|Pty|KK)\b\.?){0,2}")
COMPANY_RUN: Final = re.compile(rf"(?<![\w@./])((?:{_WORD})(?:[ \t]+(?:&[ \t]+)?(?:{_WORD})){{0,4}}{_LEGAL_TAIL})")
_MET_AT: Final = re.compile(r"\b(?:met|meet|meeting|see you|saw)\b[^.,;\n]*\bat\s+$", re.IGNORECASE)
_AFFIXES: Final = (("get", ""), ("try", ""), ("use", ""), ("join", ""), ("", "hq"), ("", "app"), ("", "inc"),
                   ("", "corp"), ("", "group"), ("", "labs"), ("", "co"), ("", "io"))


@dataclass(frozen=True, slots=True)
class CompanyPhrase:
    """A company name read from the text, with its span and how sure the reading is
    (2: its shape says company; 1: a cue around it does)."""

    name: str
    start: int
    end: int
    strength: int
    vendor: bool = False
    """Named as a tool or competitor the text's company uses or weighs (``use Salesforce``)."""


def fold(text: str) -> str:
    """Lowercase letters and digits only, accents removed: the form names are compared in."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if c.isalnum())


def strip_legal_suffix(name: str) -> str:
    """``Acme, Inc.`` -> ``Acme``; ``Zentro GmbH`` -> ``Zentro``; other names unchanged."""
    words = name.replace(",", " ").split()
    while len(words) > 1 and words[-1].casefold().rstrip(".") in _LEGAL:
        words.pop()
    return " ".join(words)


def compact_name(name: str) -> str:
    """The comparison key of a company name: legal suffix dropped, then ``fold``."""
    return fold(strip_legal_suffix(name))


def domain_label(domain: str) -> str:
    """The label of a registered domain below its public suffix (``acme.co.uk`` -> ``acme``)."""
    return domain.split(".", 1)[0]


def name_from_domain(domain: str) -> str:
    """The name a company known only by its domain is given: its label, capitalized, hyphens as
    spaces (``techflow.io`` -> ``Techflow``, ``savanna-agro.sn`` -> ``Savanna Agro``)."""
    return " ".join(part[:1].upper() + part[1:] for part in domain_label(domain).split("-") if part)


def _segments(label: str, words: list[str]) -> bool:
    """Whether ``label`` is a concatenation of prefixes of consecutive ``words`` (from the first),
    each prefix at least one letter: ``pinecrestcap`` = pinecrest + cap(ital)."""
    if not label:
        return True
    if not words:
        return False
    word = words[0]
    for size in range(min(len(word), len(label)), 0, -1):
        if label.startswith(word[:size]) and _segments(label[size:], words[1:]):
            return True
    return False


def name_matches_domain(name: str, domain: str) -> bool:
    """Whether a domain's label spells a company name: equal once folded, or made of prefixes of
    its words in order (``orbitalfoods`` / ``Orbital Foods``, ``ibm`` / ``International Business
    Machines``), allowing the usual affixes (``getmosaic``, ``veridianhq``). The first word must
    be spelled out in full, or the label be at least three letters of initials."""
    if name.strip().lower() == domain:
        return True  # "Monday.com"
    words = [fold(w) for w in re.split(r"[\s&+/-]+", strip_legal_suffix(name)) if fold(w)]
    if not words:
        return False
    label = fold(domain_label(domain))
    candidates = {label}
    for prefix, suffix in _AFFIXES:
        if label.startswith(prefix) and label.endswith(suffix) and len(label) > len(prefix) + len(suffix) + 2:
            candidates.add(label[len(prefix):len(label) - len(suffix)])
    for candidate in candidates:
        if candidate == "".join(words):
            return True
        if candidate.startswith(words[0]) and _segments(candidate, words):
            return True
        if len(words) >= 3 and candidate == "".join(w[0] for w in words):
            return True
    return False


@cache
def _country_names() -> frozenset[str]:
    names: set[str] = set()
    for country in pycountry.countries:
        for attr in ("name", "common_name", "official_name"):
            value = getattr(country, attr, None)
            if isinstance(value, str):
                names.add(value.casefold())
    return frozenset(names)


def is_place(phrase: str) -> bool:
    """Whether a phrase names a country or a well-known city or region."""
    folded = phrase.casefold()
    return folded in PLACES or folded in _country_names()


def _clean(phrase: str) -> str:
    words = phrase.split()
    while words and words[0].casefold().strip(".") in NOT_NAMES | {"re:", "fw:", "fwd:"}:
        words.pop(0)
    return " ".join(words).rstrip(" ,")


def is_camel_case(word: str) -> bool:
    """``TechFlow``, ``DataNimbus``, ``HubSpot``: an inner capital after lowercase letters."""
    return bool(re.fullmatch(r"[A-Z][a-z]+(?:[A-Z][a-z0-9]+)+", word))


def shape_says_company(phrase: str) -> bool:
    """Whether a capitalized phrase is a company by its own shape: it ends in a legal form
    (``Inc.``, ``GmbH``) or, with two words or more, in a company noun (``Robotics``, ``Health``)
    or starts with one (``Grupo``). Titles and departments never are."""
    words = phrase.replace(",", " ").split()
    if not words:
        return False
    last = words[-1].casefold().rstrip(".")
    if len(words) >= 2 and last in _LEGAL:
        return True
    if any(w.casefold().strip(".") in JOB_TITLE_WORDS for w in words):
        return False
    if phrase.casefold() in DEPARTMENTS:
        return False
    return len(words) >= 2 and (last in COMPANY_HEADS or words[0].casefold() in COMPANY_PREFIXES)


def could_be_company(phrase: str) -> bool:
    """Whether a capitalized phrase that a cue points at may be a company: not a common word,
    place, tool, department, title, day or month."""
    words = phrase.split()
    if not words or not phrase[:1].isupper():
        return False
    folded = phrase.casefold()
    if folded in DEPARTMENTS or is_place(phrase):
        return False
    if len(words) == 1:
        word = words[0].casefold().strip(".'’")
        return not (word in NOT_NAMES or word in TOOLS or word in JOB_TITLE_WORDS or word in COMPANY_HEADS
                    or len(word) < 2)
    return not any(w.casefold().strip(".") in JOB_TITLE_WORDS for w in words) and words[0].casefold() not in TOOLS


def find_shaped_companies(text: str) -> list[CompanyPhrase]:
    """Every phrase whose shape says company (see ``shape_says_company``), cleaned of leading
    common words (``Quick update on`` is not part of a name)."""
    found: list[CompanyPhrase] = []
    for match in COMPANY_RUN.finditer(text):
        raw = match.group(1)
        name = _clean(raw)
        if not name:
            continue
        start = match.start(1) + raw.index(name.split()[0])
        if shape_says_company(name) and not is_place(name):
            found.append(CompanyPhrase(name, start, start + len(name), 2))
        elif " " not in name and is_camel_case(name) and name.casefold() not in TOOLS \
                and name.casefold() not in DEPARTMENTS \
                and not _MET_AT.search(text[max(0, start - 80):start]):
            found.append(CompanyPhrase(name, start, start + len(name), 1))
    return found


def company_run_at(text: str, position: int) -> tuple[str, int, int] | None:
    """The capitalized (company-shaped) phrase starting at ``position``, if any, with its span;
    a trailing possessive or country is left out."""
    match = COMPANY_RUN.match(text, position)
    if match is None:
        return None
    name = match.group(1)
    words = name.split()
    # ``Globex, Peter Gibbons``: a comma ends the name unless a legal form follows it.
    while len(words) > 1 and is_place(words[-1]):
        words.pop()
    name = " ".join(words).rstrip(" ,")
    if name.endswith(("'s", "’s")) and len(name) > 3:
        name = name[:-2]
    return (name, position, position + len(name)) if name else None
