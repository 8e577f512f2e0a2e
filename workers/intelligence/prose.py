"""People and companies named in running prose, found through the words around them.

A two-to-four word capitalized name (``Priya Desai commented``) stands on its shape; a lone
first name needs a cue (``Hi Dan``, ``voicemail for Jim``, ``Sarah from Acme``). A company
named by one ordinary-looking word needs a cue as well (``at Initech``, ``moving to Notion``,
``the Tidewater account``). Each clue carries its span, so the extractor can tell which person
a company phrase sits next to.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from workers.intelligence.companies import (
    COMPANY_RUN,
    CompanyPhrase,
    company_run_at,
    could_be_company,
    is_camel_case,
    shape_says_company,
)
from workers.intelligence.names import (
    PersonClue,
    best_name_in,
    find_name_runs,
    find_title,
    looks_like_name,
)

_I = re.IGNORECASE
_SINGLE_NAME_BEFORE: Final = re.compile(
    r"(?:voicemail for|call back|called|emailed|pinged|texted|met with|spoke (?:to|with)|talked (?:to|with)"
    r"|heard from|loop in|cc'?d?|intro(?:duced)? (?:to|us to)|I'm|I am|this is|my name is|champion|Congrats to"
    r"|Thanks to|contact:?|colleague,?|friend,?|ask|asked|tell|told)\s+$", _I)
_PERSON_AFTER: Final = re.compile(
    r"^\s*(?:\((?!\d)|,\s+(?:a|an|our|their|the)\s|(?:said|says|mentioned|commented|wrote|replied|asked|emailed|called"
    r"|posted|noted|told|confirmed|shared|hinted|suggested|thinks|pushed|raised|added|explained|reported|responded"
    r"|agreed|promised|joined|requested|is leading|will send|will share)\b)", _I)
_SINGLE_AFTER: Final = re.compile(r"^\s+(?:from|at|@)\s+[A-Z]|^\s*\((?:[A-Z][\w&. ]+|[a-z0-9.-]+\.[a-z]{2,})\)")
_COMPANY_VERBS: Final = re.compile(
    r"^\s+(?:just\s+)?(?:signed|renewed|churned|reporting|reported an?|raised|acquired|launched|is merging"
    r"|is issuing|has \w+ earmarked|is looking for|are (?:the )?(?:two |three )?finalists)\b", _I)
_COMPANY_CUES: Final = (
    (re.compile(r"\b(?:already use|use|uses|using|switched from|switching from|switch(?:ing|ed)? to|moving to|move to"
                r"|migrat\w+ (?:from|to)|side-by-side with|evaluating|replace|replacing|renewed with|signed with"
                r"|partnership with|partnered with|recommend|competitor|came across|heard about|signed up for"
                r"|trialing|trialling|comparing us (?:against|with|to)|compared (?:us )?(?:against|with|to)|against"
                r"|rolled out|roll out|implemented|deployed|bought|chose|selected|went with|lost \w+(?: \w+)? to"
                r"|lost to|look at|looking at|integrate with|integrates with|integration with|sync with|connect to"
                r"|led by|backed by|acquired by|funded by|invested in|investors?|"
                r"(?:won|win|lost|lose)\s+[\w&.' ]{1,60}?\s+(?:from|to))\s+$", _I), "vendor"),
    (re.compile(r"(?:\b(?:at|@)|\bof)\s+$", _I), "at"),
    (re.compile(r"\bfrom\s+$", _I), "from"),
    (re.compile(r"\b(?:joined|joining|works? (?:at|for)|working (?:at|for)|everyone at|team at)\s+$", _I), "employer"),
    (re.compile(r"\b(?:renewal|contract|deal|update|partnership|intro|introduction)\s+(?:for|with|on|to)\s+$", _I),
     "deal"),
    (re.compile(r"\b(?:the|our|their)\s+$", _I), "the"),
)
_ACCOUNT_NOUNS: Final = re.compile(r"^\s+(?:account|deal|team|trial|contract|renewal|workspace|pilot|opportunity"
                                   r"|rollout|poc)\b", _I)
_LIST_HEAD: Final = re.compile(r"(?m)^[ \t]*(?:\d+[.)])[ \t]+([A-Z][^:\n]{1,60}):")
_MEETING_BEFORE: Final = re.compile(r"\b(?:met|meet|meeting|see you|saw)\b[^.,;:—–!?\n]*$", _I)
_CLAUSE: Final = re.compile(r"[^.,;—–!?\n(]*$")
_THEIR_TITLE: Final = re.compile(r"(?:\b(?:their|our)\s+|(?:^|[.!?]\s+|\n\s*))((?:[\w-]+\s+){0,3}?(?:lead"
                                 r"|head of \w+|ceo"
                                 r"|cto|cfo|coo|vp \w+|champion|contact|director of \w+|manager|founder|owner|president"
                                 r"|co-founder))\s*,?\s*$", _I)


# The words around a name are read in windows: reading all of the text before (or after) every
# candidate made the work grow with the square of the text (2,000 "at Acme" took 1.5 s).
_BEFORE_WINDOW: Final = 200
_AFTER_WINDOW: Final = 200


def _opens_sentence(text: str, start: int) -> bool:
    """Whether ``text[:start]`` ends in a sentence end, a line break or a dash and then blanks (what
    ``(?:[.!?:]\\s+|\\n\\s*|—\\s+)$`` finds in it), looking only at those last blanks."""
    blank = start
    while blank > 0 and text[blank - 1].isspace():
        blank -= 1
    return "\n" in text[blank:start] or (0 < blank < start and text[blank - 1] in ".!?:—")


@dataclass
class ProseFacts:
    people: list[PersonClue]
    companies: list[CompanyPhrase]
    their: list[tuple[int, str]]
    """(person clue start, "their"/"our"): a person introduced as ``their ops lead Ravi``."""


def _company_after(text: str, end: int, kind: str) -> CompanyPhrase | None:
    found = company_run_at(text, end)
    if found is None:
        return None
    name, start, stop = found
    if not (could_be_company(name) or shape_says_company(name)):
        return None
    if looks_like_name(name) and not shape_says_company(name):
        return None  # "heard from Nadia Petrova", "at Acme, Peter Gibbons" is handled by the comma
    before = text[max(0, end - _BEFORE_WINDOW):end]
    if kind == "at" and _MEETING_BEFORE.search(before) and find_title(_CLAUSE.search(before).group(0)) is None:  # type: ignore[union-attr]
        return None  # "Met Carlos at SaaStr": an event or a place, not an employer
    if kind == "at" and re.search(r"\bof\s+$", before, _I) and not (
            find_title(before[-60:]) or shape_says_company(name)):
        return None  # "end of October", "one of Acme's" need a title before "of"
    if kind == "from" and not (shape_says_company(name) or is_camel_case(name) or _from_person(before)):
        return None
    if kind == "the" and not _ACCOUNT_NOUNS.match(text[stop:stop + _AFTER_WINDOW]):
        return None
    return CompanyPhrase(name, start, stop, 2 if shape_says_company(name) else 1, vendor=kind == "vendor")


def _coordinated(text: str, end: int) -> list[CompanyPhrase]:
    """``against Monday.com and Zoho``: companies joined to a cued one by ``and``/``or``/commas."""
    found: list[CompanyPhrase] = []
    cursor = end
    while True:
        joint = re.match(r"(?:,\s*(?:and\s+|or\s+)?|\s+(?:and|or)\s+)", text[cursor:cursor + _AFTER_WINDOW])
        if joint is None:
            return found
        nxt = company_run_at(text, cursor + joint.end())
        if nxt is None or not could_be_company(nxt[0]) or looks_like_name(nxt[0]):
            return found
        found.append(CompanyPhrase(nxt[0], nxt[1], nxt[2], 1))
        cursor = nxt[2]


def _from_person(before: str) -> bool:
    """Whether the words before ``from`` are a person (``Sarah from``, ``Siobhán Murphy from``,
    ``someone from``)."""
    before = before[:-len("from ")].rstrip() if before.rstrip().endswith("from") else before.rstrip()
    words = before.rstrip().rsplit(None, 2)
    if not words:
        return False
    if words[-1].casefold() in ("someone", "somebody", "folks", "people", "guys", "team", "rep", "contact",
                                "champion", "colleague", "friend", "w/"):
        return True
    tail = " ".join(words[-2:])
    return looks_like_name(tail) or looks_like_name(words[-1], allow_single=True)


def find_prose_companies(text: str) -> list[CompanyPhrase]:
    """Company phrases pointed at by cue words, list heads (``2. Helix Biosciences: ...``) and
    subjects of company verbs (``Blue Harbor signed the deal``)."""
    found: list[CompanyPhrase] = []
    for match in COMPANY_RUN.finditer(text):
        before = text[max(0, match.start() - 60):match.start()]
        for pattern, kind in _COMPANY_CUES:
            if pattern.search(before):
                phrase = _company_after(text, match.start(), kind)
                if phrase is not None:
                    found.append(phrase)
                    found.extend(_coordinated(text, phrase.end))
                break
        name = match.group(1)
        if _COMPANY_VERBS.match(text[match.end():match.end() + _AFTER_WINDOW]) and could_be_company(name):
            start_of_sentence = match.start() == 0 or _opens_sentence(text, match.start())
            if start_of_sentence and not re.search(r"\b(?:I|we|he|she|they)$", name):
                found.append(CompanyPhrase(name.rstrip(" ,"), match.start(), match.start() + len(name.rstrip(" ,")), 2))
    # [^\S\n]*, not \s*: from every start of a run of blank lines \s* ran to its end (quadratic).
    for match in re.finditer(r"(?im)^[^\S\n]*(?:dear|hi|hello|hey)\s+([A-Z][\w&.' -]{1,40}?)\s+team\b", text):
        name = match.group(1).strip()
        if could_be_company(name):
            found.append(CompanyPhrase(name, match.start(1), match.start(1) + len(name), 1))
    for match in _LIST_HEAD.finditer(text):
        name = match.group(1).strip()
        words = name.split()
        proper = all(w[:1].isupper() or w in ("&", "of", "and") for w in words)
        if proper and could_be_company(name) and not looks_like_name(name) and len(words) <= 4:
            found.append(CompanyPhrase(name, match.start(1), match.end(1), 1))
    for match in re.finditer(r"\b([A-Z][\w&. ]{1,40}?) and ([A-Z][\w&. ]{1,40}?) are the (?:two |three )?"
                             r"(?:finalists|options|vendors|shortlist)", text):
        for group in (1, 2):
            found.append(CompanyPhrase(match.group(group), match.start(group), match.end(group), 2))
    return found


def find_prose_people(text: str) -> ProseFacts:
    """Person clues from running text (see the module docstring)."""
    people: list[PersonClue] = []
    their: list[tuple[int, str]] = []
    for run in find_name_runs(text):
        full = best_name_in(run)
        after = text[run.end:run.end + 40]
        if full is not None:
            name, start, end = full
            following = text[end:end + 40]
            if _COMPANY_VERBS.match(following):
                continue
            if end != run.end and shape_says_company(run.text):
                continue
            people.append(PersonClue(name, start, end, strength=2 if _PERSON_AFTER.match(following) else 1))
            _note_their(text, start, their)
            continue
        single = best_name_in(run, allow_single=True)
        if single is None or (len(run.words) > 1 and single[2] != run.end):
            continue
        name, start, end = single
        before = text[max(0, start - 40):start]
        after_is_person = bool(re.match(r"^\s+(?:from|at|@)\s+", after)) and looks_like_name(
            " ".join(re.sub(r"^\s+(?:from|at|@)\s+", "", after).split()[:2]).rstrip(",.:;"))
        if after_is_person and not _SINGLE_NAME_BEFORE.search(before):
            continue
        if _SINGLE_NAME_BEFORE.search(before) or _SINGLE_AFTER.match(after) or (_PERSON_AFTER.match(after) and \
                re.match(r"^\s*(?:said|says|mentioned|commented|wrote|replied|asked|told|confirmed)\b", after, _I)):
            if re.search(r"(?:\b(?:at|from|of|with the|to)\s+)$", before, _I) and _SINGLE_AFTER.match(after) is None \
                    and not _SINGLE_NAME_BEFORE.search(before):
                continue
            people.append(PersonClue(name, start, end, strength=2))
            _note_their(text, start, their)
    return ProseFacts(people, [], their)


def _note_their(text: str, start: int, their: list[tuple[int, str]]) -> None:
    match = _THEIR_TITLE.search(text[max(0, start - 60):start])
    if match is not None:
        their.append((start, match.group(1)))
