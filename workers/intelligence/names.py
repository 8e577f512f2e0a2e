"""People's names and job titles in text: what a name looks like, where one may start, how an
e-mail address spells one, and which phrases are titles.

Names are kept as written (accents, hyphens, apostrophes, the order the text uses): ``José
Álvarez``, ``Zhang Wei``, ``Kim Min-jun``. Only the shape of the words is judged, never a list
of known first names, so any culture's names pass and common capitalized words do not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from workers.intelligence.lexicon import (
    COMPANY_HEADS,
    COMPANY_PREFIXES,
    DEPARTMENTS,
    HONORIFICS,
    JOB_TITLE_WORDS,
    LEGAL_SUFFIXES,
    NAME_PARTICLES,
    NOT_NAMES,
    PLACES,
    TITLE_QUALIFIERS,
    TOOLS,
)

_LETTERS: Final = r"[^\W\d_]"
TOKEN: Final = re.compile(rf"{_LETTERS}+(?:['’\-]{_LETTERS}+)*")
_RUN: Final = re.compile(
    rf"(?<![\w@.'’-])((?:{_LETTERS}+(?:['’\-]{_LETTERS}+)*)"
    rf"(?:[ \t]+(?:[A-Z]\.(?=[ \t]+[A-Z])|{_LETTERS}+(?:['’\-]{_LETTERS}+)*))*)"
)
_INITIAL: Final = re.compile(r"[A-Z]\.")
_HONORIFIC: Final = re.compile(rf"^(?:{'|'.join(HONORIFICS)})\.?\s+", re.IGNORECASE)
_SPACES: Final = re.compile(r"\s+")
_TITLE_SPLIT: Final = re.compile(r"[\s,/&]+")
_LEGAL: Final = frozenset(s.rstrip(".") for s in LEGAL_SUFFIXES)


@dataclass(frozen=True, slots=True)
class NameRun:
    """A run of capitalized words that may be a name: the words and their span in the text."""

    words: tuple[str, ...]
    start: int
    end: int

    @property
    def text(self) -> str:
        return " ".join(self.words)


def collapse_spaces(text: str) -> str:
    return _SPACES.sub(" ", text).strip()


def strip_honorific(name: str) -> str:
    """``Dr. Amara Okonkwo`` -> ``Amara Okonkwo``; ``Ms. Tanaka`` -> ``Tanaka``."""
    return _HONORIFIC.sub("", collapse_spaces(name))


def is_name_word(word: str) -> bool:
    """A word that can be part of a person's name: capitalized letters (any script), optionally
    joined by hyphens or apostrophes, and not a common word, title, company word, tool or place."""
    if not word or not TOKEN.fullmatch(word):
        return False
    if not word[0].isupper():
        return False
    if len(word) > 1 and word.isupper() and len(word) <= 4:
        return False  # acronyms: CTO, SOC, EU
    folded = word.casefold()
    return not (folded in NOT_NAMES or folded in JOB_TITLE_WORDS or folded in COMPANY_HEADS
                or folded in _LEGAL or folded in TOOLS or folded in COMPANY_PREFIXES or folded in DEPARTMENTS)


def looks_like_name(candidate: str, *, allow_single: bool = False) -> bool:
    """Whether a phrase reads as a person's name: 2-4 name words (particles such as ``van`` or
    ``de la`` allowed inside), or a single name word when ``allow_single``."""
    words = strip_honorific(candidate).split(" ")
    if not words or words == [""] or " ".join(words).casefold() in PLACES:
        return False
    if len(words) > 1 and len(words[0]) > 5 and words[0].casefold().endswith("ing"):
        return False  # "Introducing Elena Popescu": a verb, not a first name
    if len(words) == 1:
        return allow_single and is_name_word(words[0]) and len(words[0]) > 1
    if len(words) > 4:
        return False
    if not is_name_word(words[0]) or not is_name_word(words[-1]):
        return False
    return all(is_name_word(w) or w.casefold() in NAME_PARTICLES or _INITIAL.fullmatch(w) for w in words[1:-1])


def find_name_runs(text: str) -> list[NameRun]:
    """Maximal runs of 1-5 capitalized words on one line (particles allowed inside), the raw
    material of name and company detection."""
    runs: list[NameRun] = []
    for match in _RUN.finditer(text):
        words = match.group(1).split()
        start = match.start(1)
        # Trim to the longest stretch that starts and ends with a capitalized word.
        current: list[str] = []
        offset = start
        cursor = start
        for word in words:
            position = text.index(word, cursor)
            cursor = position + len(word)
            if (word[0].isupper() and not word.endswith(".")) or (current and (
                    word.casefold() in NAME_PARTICLES or _INITIAL.fullmatch(word))):
                if not current:
                    offset = position
                current.append(word)
            else:
                _flush(current, offset, runs)
                current = []
        _flush(current, offset, runs)
    return runs


def _flush(words: list[str], start: int, runs: list[NameRun]) -> None:
    while words and not words[-1][0].isupper():
        words = words[:-1]
    if words:
        end = start + len(" ".join(words))
        runs.append(NameRun(tuple(words), start, end))


def best_name_in(run: NameRun, *, allow_single: bool = False) -> tuple[str, int, int] | None:
    """The part of a run that is a name: leading non-name words (``Met``, ``Heads``) are dropped,
    and so is everything from the first non-name word on. Returns (name, start, end)."""
    words = list(run.words)
    start = run.start
    while words and not is_name_word(words[0]):
        start += len(words[0]) + 1
        words.pop(0)
    kept: list[str] = []
    for word in words:
        if is_name_word(word) or (kept and (word.casefold() in NAME_PARTICLES or _INITIAL.fullmatch(word))):
            kept.append(word)
        else:
            break
    while kept and not is_name_word(kept[-1]):
        kept.pop()
    if not kept:
        return None
    name = " ".join(kept[:4])
    if not looks_like_name(name, allow_single=allow_single):
        return None
    return name, start, start + len(name)


def name_from_local_part(address: str) -> str | None:
    """A name spelled by an address's local part when it is ``first.last`` (or ``first_last``,
    ``first-last``), each part two letters or more: ``john.smith@`` -> ``John Smith``. Digits are
    ignored (``tom.becker83``). Initials and single words (``jsmith``, ``j.martinez``) give None."""
    local = address.split("@", 1)[0].split("+", 1)[0]
    parts = [re.sub(r"\d+", "", p).strip("-") for p in re.split(r"[._]+", local)]
    parts = [p for p in parts if p]
    if len(parts) == 1 and parts[0].count("-") == 1:
        parts = parts[0].split("-")  # jane-doe@
    if len(parts) not in (2, 3) or any(len(p) < 2 or not p.replace("-", "").isalpha() for p in parts):
        return None
    return " ".join("-".join(w[:1].upper() + w[1:].lower() for w in p.split("-")) for p in parts)


def _fold(text: str) -> str:
    import unicodedata

    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if c.isalnum())


def local_part_matches(address: str, name: str) -> bool:
    """Whether an address's local part is one of the usual spellings of ``name``: first, last,
    first.last, firstlast, flast, firstl, f.last, last.first (accents and case ignored)."""
    local = _fold(re.sub(r"\d+", "", address.split("@", 1)[0]))
    words = [_fold(w) for w in strip_honorific(name).split() if _fold(w)]
    if not local or not words:
        return False
    first, last = words[0], words[-1]
    spellings = {first, first + last, first[0] + last, first + last[0], last + first, last + first[0]}
    if len(words) == 1:
        spellings = {first}
    return local in spellings or (len(local) >= 3 and local == "".join(w[0] for w in words) and len(words) > 2)


def first_word(name: str) -> str:
    return strip_honorific(name).split(" ", 1)[0]


def same_person_name(short: str, full: str) -> bool:
    """Whether ``short`` (``Priya``, ``Ms. Raman``) refers to the person named ``full``
    (``Priya Raman``): equal, or one of the words of the full name."""
    a = strip_honorific(short).casefold()
    b = strip_honorific(full).casefold()
    if a == b:
        return True
    if " " in a:
        return False
    return a in b.split(" ")


def split_reversed_name(name: str) -> str:
    """``Okafor, Chidi`` (as mail headers write it) -> ``Chidi Okafor``; other names unchanged."""
    if name.count(",") == 1:
        last, first = (part.strip() for part in name.split(","))
        if last and first and " " not in last and looks_like_name(f"{first} {last}"):
            return f"{first} {last}"
    return name


def is_job_title(phrase: str) -> bool:
    """Whether a short phrase (at most seven words) is a job title: ``VP of Operations``,
    ``Head of IT``, ``Senior Account Executive``, ``Co-founder & CEO``."""
    phrase = collapse_spaces(phrase.strip(" .,;:-–—|()"))
    words = [w for w in _TITLE_SPLIT.split(phrase.casefold()) if w]
    if not words or len(words) > 7:
        return False
    return any(w.strip(".") in JOB_TITLE_WORDS for w in words) and not any(
        w in ("at", "@") for w in words)


def normalize_title(phrase: str) -> str:
    """A job title as it should be stored: spaces collapsed, surrounding punctuation removed."""
    return collapse_spaces(phrase.strip(" .,;:-–—|()"))


_TITLE_PHRASE: Final = re.compile(
    r"\b(?:(?:(?:senior|sr\.?|junior|global|regional|general|managing|deputy|interim|acting|executive)\s+)?"
    r"(?:(?:VP|SVP|EVP|Vice\s+President|Head|Director|Chief\s+\w+\s+Officer|Manager|Lead)\s+(?:of\s+)?"
    r"(?:[A-Z][\w&]*|IT|HR)(?:\s+(?:&\s+)?[A-Z][\w&]*){0,2}"
    r"|C[EFTIMOR]O|CISO|CPO|COO|Co-?founder(?:\s*(?:&|and)\s*C[ETFO]O)?|Founder(?:\s*(?:&|and)\s*C[ETFO]O)?"
    r"|(?:[A-Z][a-z]+\s+){0,2}(?:Engineer|Manager|Director|Officer|Executive|Analyst|Architect|Designer|Consultant|Lead)))",
)


def find_title(text: str) -> str | None:
    """The first job-title phrase in a short piece of text (a signature line, the words after
    a name), or None."""
    match = _TITLE_PHRASE.search(text)
    if match is None:
        return None
    title = normalize_title(match.group(0))
    return title if is_job_title(title) else None


def qualifies_title(word: str) -> bool:
    return word.casefold().strip(".") in TITLE_QUALIFIERS


@dataclass(frozen=True, slots=True)
class PersonClue:
    """One place where the text speaks of a person: a name and/or addresses, maybe a title and
    the company the text ties them to right there, with the span of the mention. ``strength``
    ranks the evidence (3: a mail header or signature, 2: a name with a strong cue, 1: weaker)."""

    name: str | None
    start: int
    end: int
    emails: tuple[str, ...] = ()
    title: str | None = None
    company: str | None = None
    strength: int = 2
