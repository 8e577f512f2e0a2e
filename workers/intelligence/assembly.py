"""Turning clues into entities: the mentions of one company or one person are merged, domains
are paired with company names, addresses, phones and profiles go to their person, and each
person is tied to the company the text links them to.

Every rule here is conservative: when the text does not say plainly that two mentions are the
same entity, or that a person works at a company, they stay apart or unlinked.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from typing import Final

from workers.intelligence.companies import (
    CompanyPhrase,
    compact_name,
    fold,
    name_from_domain,
    name_matches_domain,
)
from workers.intelligence.identifiers import Found, domain_of_email, is_company_domain, is_role_address
from workers.intelligence.names import (
    PersonClue,
    find_title,
    local_part_matches,
    looks_like_name,
    name_from_local_part,
    same_person_name,
)

_PROFILE_WINDOW: Final = 250
_LINK_GAP: Final = re.compile(
    r"^[ \t]*(?:,[ \t]*)?(?:(?:and|&)[ \t]+[^\W\d_][\w'’-]*(?:[ \t]+[^\W\d_][\w'’-]*){0,3}[ \t]+)?"
    r"(?:[\w'’—–-]+[ \t]+){0,6}?(?:at|@|from|of)[ \t]+$", re.IGNORECASE)
_BEFORE_NAME: Final = re.compile(r"\b(?:at|from|of)\s+$", re.IGNORECASE)
_TOPIC_GAP: Final = re.compile(r"[ \t]*:[ \t]*(?:(?:our|their)[ \t]+[\w -]{0,30}?[ \t]+)?")
_SPEAKER: Final = re.compile(r"\s+(?:commented|wrote|said|posted|replied"
                             r"|shared)(?:\s+on\s+[^:\n]{0,30})?:\s*[\"“]([^\"”]{0,400})")
_OWN_WORDS: Final = re.compile(r"\b(?:we|I)\b[^.!?]{0,80}\b(?:at|@)\s+$", re.IGNORECASE)
_FIRST_PERSON_EMPLOYER: Final = re.compile(
    r"\bI(?:'ve| have)?\s+(?:just\s+)?joined\s+|\bI\s+work\s+(?:at|for)\s+|\bI'm\s[\w\s]{0,40}?\sat\s+",
    re.IGNORECASE)
"""``I'm the head of sales at``: one blank, at most 40 characters, one blank before ``at``. With
``\\s+`` on both sides of the middle, a run of blanks after ``I'm`` was rescanned for each way of
splitting it between them (quadratic)."""
_COMMA: Final = re.compile(r"\s*+,")
_BEFORE_WINDOW: Final = 200
"""How far back the words before a mention are read: reading all of the text before every
mention made the work grow with the square of the text."""
_POSSESSIVE: Final = re.compile(r"['’]s$")


@dataclass
class CompanyDraft:
    name: str | None
    domains: list[str] = field(default_factory=list)
    spans: list[tuple[int, int]] = field(default_factory=list)
    vendor: bool = False
    """A mention names it as a tool or competitor (``moving to Notion``) and no domain of the
    text is its."""

    @property
    def first(self) -> int:
        return min(start for start, _ in self.spans) if self.spans else 0

    @property
    def label(self) -> str:
        """How a person's ``company`` names it: the name, else the first domain."""
        return self.name or self.domains[0]


@dataclass
class PersonDraft:
    name: str | None
    strength: int
    emails: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)
    profiles: list[str] = field(default_factory=list)
    title: str | None = None
    company_hint: str | None = None
    spans: list[tuple[int, int]] = field(default_factory=list)
    company: CompanyDraft | None = None

    @property
    def first(self) -> int:
        return min(start for start, _ in self.spans) if self.spans else 0


def _same_company(a: str, b: str) -> bool:
    ka, kb = compact_name(a), compact_name(b)
    if not ka or not kb:
        return False
    if ka == kb:
        return True
    wa, wb = a.split(), b.split()
    shorter, longer = (wa, wb) if len(wa) < len(wb) else (wb, wa)
    return len(shorter) >= 1 and [fold(w) for w in longer[:len(shorter)]] == [fold(w) for w in shorter] \
        and len(fold(shorter[0])) >= 3


def merge_companies(phrases: list[CompanyPhrase], domains: list[Found], text: str) -> list[CompanyDraft]:
    """One draft per company: phrases naming the same company (``Acme``, ``Acme Corp``) are one,
    the longest spelling wins; each company domain joins the name it sits next to in the text or
    whose spelling it matches, else stands alone."""
    drafts: list[CompanyDraft] = []
    for phrase in sorted(phrases, key=lambda p: (p.start, -p.strength)):
        for draft in drafts:
            if draft.name is not None and _same_company(draft.name, phrase.name):
                if (len(phrase.name) > len(draft.name) and compact_name(phrase.name) != compact_name(draft.name)) \
                        or (phrase.name.endswith(".") and compact_name(phrase.name) == compact_name(draft.name)):
                    draft.name = phrase.name
                draft.spans.append((phrase.start, phrase.end))
                draft.vendor = draft.vendor or phrase.vendor
                break
        else:
            drafts.append(CompanyDraft(phrase.name, spans=[(phrase.start, phrase.end)], vendor=phrase.vendor))
    for found in domains:
        domain = found.value
        existing = next((d for d in drafts if domain in d.domains), None)
        if existing is not None:
            existing.spans.append((found.start, found.end))
            continue
        adjacent = next((d for d in drafts if d.name is not None and any(
            0 <= found.start - end <= 3 and text[end:found.start].strip() in ("(", "", "-", "–")
            for _, end in d.spans)), None)
        spelled = next((d for d in drafts if d.name is not None and name_matches_domain(d.name, domain)), None)
        target = adjacent or spelled
        if target is not None:
            target.domains.append(domain)
            target.spans.append((found.start, found.end))
            target.vendor = False
        else:
            drafts.append(CompanyDraft(None, [domain], [(found.start, found.end)]))
    return sorted(drafts, key=lambda d: d.first)


def find_company(drafts: list[CompanyDraft], hint: str) -> CompanyDraft | None:
    """The draft a company name or domain refers to."""
    hint_domain = hint.lower() if "." in hint and " " not in hint else None
    for draft in drafts:
        if hint_domain is not None and hint_domain in draft.domains:
            return draft
        if draft.name is not None and _same_company(draft.name, hint):
            return draft
    return None


def _matching_person(drafts: list[PersonDraft], clue: PersonClue) -> PersonDraft | None:
    for draft in drafts:
        if set(clue.emails) & set(draft.emails):
            return draft
    if clue.name is None:
        for email in clue.emails:
            owners = [d for d in drafts if d.name and not d.emails and local_part_matches(email, d.name)]
            if len(owners) == 1:
                return owners[0]
        return None
    same = [d for d in drafts if d.name is not None and d.name.casefold() == clue.name.casefold()]
    if same:
        return same[0]
    related = [d for d in drafts if d.name is not None and (
        same_person_name(clue.name, d.name) or same_person_name(d.name, clue.name))]
    if len(related) == 1 and not (set(clue.emails) and set(related[0].emails)):
        return related[0]
    return None


def merge_people(clues: list[PersonClue]) -> list[PersonDraft]:
    """One draft per person: clues sharing an address, a name, or a first name with a fuller
    name are merged; the fullest name and the strongest evidence win. Role addresses
    (``sales@``) never make a person."""
    drafts: list[PersonDraft] = []
    for clue in sorted(clues, key=lambda c: (c.start, -c.strength)):
        emails = tuple(e for e in clue.emails if not is_role_address(e))
        name = _POSSESSIVE.sub("", clue.name) if clue.name else None
        if name is None and not emails:
            continue
        clue = PersonClue(name, clue.start, clue.end, emails, clue.title, clue.company, clue.strength)
        draft = _matching_person(drafts, clue)
        if draft is None:
            draft = PersonDraft(name, clue.strength)
            drafts.append(draft)
        elif name is not None and (draft.name is None or len(name.split()) > len(draft.name.split())):
            draft.name = name
        draft.strength = max(draft.strength, clue.strength)
        draft.emails.extend(e for e in emails if e not in draft.emails)
        draft.title = draft.title or clue.title
        draft.company_hint = draft.company_hint or clue.company
        draft.spans.append((clue.start, clue.end))
    return drafts


def attach_emails(drafts: list[PersonDraft], emails: list[Found]) -> None:
    """Addresses no clue claimed go to the person whose name they spell (``mross@`` to Mike
    Ross), else become a person named from the address (``jane.doe@`` -> Jane Doe)."""
    for found in emails:
        address = found.value
        if is_role_address(address) or any(address in d.emails for d in drafts):
            continue
        owners = [d for d in drafts if d.name and local_part_matches(address, d.name)
                  and not any(domain_of_email(e) == domain_of_email(address) for e in d.emails)]
        if len(owners) == 1:
            owners[0].emails.append(address)
            owners[0].spans.append((found.start, found.end))
            continue
        derived = name_from_local_part(address)
        same = [d for d in drafts if derived and d.name and d.name.casefold() == derived.casefold()]
        if same:
            same[0].emails.append(address)
            continue
        drafts.append(PersonDraft(derived, 1, [address], spans=[(found.start, found.end)]))


def merge_same_names(drafts: list[PersonDraft]) -> list[PersonDraft]:
    """Drafts that ended up with the same name (one named by its address, one by the prose)
    are one person, unless both carry addresses."""
    kept: list[PersonDraft] = []
    for draft in drafts:
        twin = next((k for k in kept if k.name and draft.name and k.name.casefold() == draft.name.casefold()
                     and not (k.emails and draft.emails)), None)
        if twin is None:
            kept.append(draft)
            continue
        twin.emails.extend(e for e in draft.emails if e not in twin.emails)
        twin.spans.extend(draft.spans)
        twin.strength = max(twin.strength, draft.strength)
        twin.title = twin.title or draft.title
        twin.company_hint = twin.company_hint or draft.company_hint
    return kept


def attach_nearby(drafts: list[PersonDraft], found: list[Found], kind: str) -> list[Found]:
    """Phones or profiles go to the person mentioned closest before them (within a few lines);
    returns those that no one claimed."""
    orphans = []
    for item in found:
        best: tuple[int, PersonDraft] | None = None
        for draft in drafts:
            for start, end in draft.spans:
                if start <= item.start and item.start - end <= _PROFILE_WINDOW and (best is None or start > best[0]):
                    best = (start, draft)
        if best is None:
            orphans.append(item)
            continue
        target = best[1].phones if kind == "phone" else best[1].profiles
        if item.value not in target:
            target.append(item.value)
    return orphans


class _CompanySpans:
    """Every span of every company, sorted by start and by end, so that the look-ups below read
    the few spans near a position instead of all of them for every mention of a person (which
    grew with the square of the text). Each answer lists spans in the companies' order, so the
    first one that fits is the one a loop over all companies would have found."""

    def __init__(self, companies: list[CompanyDraft]) -> None:
        rows = [(start, end, order, company) for order, (company, (start, end)) in
                enumerate((c, span) for c in companies for span in c.spans)]
        self._by_start = sorted(rows, key=lambda r: (r[0], r[2]))
        self._starts = [r[0] for r in self._by_start]
        self._by_end = sorted(rows, key=lambda r: (r[1], r[2]))
        self._ends = [r[1] for r in self._by_end]

    def starting(self, lo: int, hi: int) -> list[tuple[int, int, int, CompanyDraft]]:
        """Spans with ``lo <= start <= hi``."""
        found = self._by_start[bisect_left(self._starts, lo):bisect_right(self._starts, hi)]
        return sorted(found, key=lambda r: r[2])

    def ending(self, lo: int, hi: int) -> list[tuple[int, int, int, CompanyDraft]]:
        """Spans with ``lo <= end <= hi``."""
        found = self._by_end[bisect_left(self._ends, lo):bisect_right(self._ends, hi)]
        return sorted(found, key=lambda r: r[2])

    def last_before(self, position: int) -> tuple[int, CompanyDraft] | None:
        """The latest start before ``position`` of a company not named as a vendor (the first
        such company when several start there)."""
        index = bisect_left(self._starts, position) - 1
        while index >= 0 and self._by_start[index][3].vendor:
            index -= 1
        if index < 0:
            return None
        start = self._starts[index]
        same = [r for r in self._by_start[bisect_left(self._starts, start):index + 1] if not r[3].vendor]
        return start, min(same, key=lambda r: r[2])[3]


def _company_after_mention(text: str, end: int, companies: _CompanySpans) -> CompanyDraft | None:
    window = re.sub(r"\([^()\n]*\)", lambda m: " " * len(m.group(0)), text[end:end + 90])
    window = re.split(r"[.:;!?\"“\n]", window, maxsplit=1)[0]
    for start, _, _, company in companies.starting(end + 1, end + len(window)):
        if _LINK_GAP.match(window[:start - end]):
            return company
    return None


def _company_before_mention(text: str, start: int, companies: _CompanySpans) -> CompanyDraft | None:
    """``at Globex, Peter Gibbons`` and ``Vandelay Industries: Art Vandelay said``."""
    for c_start, c_end, _, company in companies.ending(start - 40, start):
        between = text[c_end:start]
        if start - c_end <= 3 and between.strip() == "," and _BEFORE_NAME.search(
                text[max(0, c_start - _BEFORE_WINDOW):c_start]):
            return company
        if _TOPIC_GAP.fullmatch(between):
            return company
    return None


def _company_in_own_words(text: str, end: int, companies: _CompanySpans) -> CompanyDraft | None:
    """``Marcus commented: "... we are rebuilding our stack at Brightwave"``: the company a
    quoted speaker says they are at."""
    quote = _SPEAKER.match(text, end)
    if quote is None:
        return None
    lo, hi = quote.span(1)
    for c_start, _, _, company in companies.starting(lo, hi - 1):
        if _OWN_WORDS.search(text[lo:c_start]):
            return company
    return None


def _nearest_company_before(position: int, companies: _CompanySpans, line_only: str | None) -> CompanyDraft | None:
    """The company mentioned last before ``position`` (on the same line when ``line_only`` is the
    text), passing over companies named as a vendor or competitor (``lost X to Salesforce``)."""
    last = companies.last_before(position)
    if last is None or (line_only is not None and "\n" in line_only[last[0]:position]):
        return None
    return last[1]


def link_people(text: str, people: list[PersonDraft], companies: list[CompanyDraft],
                their: list[tuple[int, str]], writer: PersonDraft | None) -> None:
    """Set each person's company (see the module docstring for the order of evidence) and a job
    title read right after the name when none was found yet."""
    ordered = sorted(people, key=lambda p: p is not writer)
    spans = _CompanySpans(companies)
    for person in ordered:
        chosen = find_company(companies, person.company_hint) if person.company_hint else None
        for start, end in sorted(person.spans):
            if chosen is None:
                chosen = (_company_after_mention(text, end, spans)
                          or _company_before_mention(text, start, spans)
                          or _company_in_own_words(text, end, spans))
            if person.title is None and person.name is not None:
                title = find_title(text[end:end + 40].split("\n", 1)[0]) if _COMMA.match(text, end) else None
                person.title = title
        if chosen is None:
            for email in person.emails:
                domain = domain_of_email(email)
                if domain is not None and is_company_domain(domain):
                    chosen = find_company(companies, domain)
                    break
        if chosen is None:
            for start, title in their:
                if any(s == start for s, _ in person.spans):
                    person.title = person.title or title
                    near = _nearest_company_before(start, spans, text if "champion" in title.casefold() else None)
                    before = text[max(0, start - _BEFORE_WINDOW):start]
                    if re.search(r"\bour\s+" + re.escape(title) + r"\s*+,?\s*$", before, re.IGNORECASE) \
                            and writer is not None and writer is not person and "champion" not in title.casefold():
                        near = writer.company
                    chosen = near
        person.company = chosen
    _share_across_and(text, people)
    if writer is not None and writer.company is None:
        match = _FIRST_PERSON_EMPLOYER.search(text)
        if match is not None:
            writer.company = next((c for c in companies for s, _ in c.spans if s == match.end()), None)


def _share_across_and(text: str, people: list[PersonDraft]) -> None:
    """``Kim Min-jun and Park Ji-woo (Hanbit Retail)``: the first of two people joined by
    ``and`` shares the company the text gives the second."""
    for first in people:
        if first.company is not None:
            continue
        for _, end in first.spans:
            for second in people:
                if second is first or second.company is None:
                    continue
                if any(start - end in (3, 5) and text[end:start] in (" and ", " & ") for start, _ in second.spans):
                    first.company = second.company


def drop_company_names_as_people(people: list[PersonDraft], companies: list[CompanyDraft]) -> list[PersonDraft]:
    """A phrase read both as a person and as a company (``Blue Harbor signed the deal``) is the
    company, unless a header or signature says it is a person."""
    kept = []
    names = {compact_name(c.name) for c in companies if c.name}
    for person in people:
        if person.name and person.strength < 3 and not person.emails and compact_name(person.name) in names:
            continue
        kept.append(person)
    return kept


def company_names_from_people(people: list[PersonDraft]) -> set[str]:
    return {p.name.casefold() for p in people if p.name and looks_like_name(p.name)}


def display_domain_name(draft: CompanyDraft) -> str | None:
    """The name reported for a company: the text's, else the one its domain spells (see
    ``name_from_domain``); None only for a company without both."""
    if draft.name:
        return draft.name
    return name_from_domain(draft.domains[0]) if draft.domains else None
