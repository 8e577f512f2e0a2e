"""The structure of a message around its prose: header lines (``From: Name <address>``),
greetings, key-value forms, parenthesized details and the signature block.

This is where a text says most plainly who is who, so every clue found here is strong. The
lines that only carry structure (headers, the signature) are also returned, so signal detection
can leave them out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final

from workers.intelligence.companies import CompanyPhrase, could_be_company, shape_says_company
from workers.intelligence.identifiers import find_emails, find_phones
from workers.intelligence.lexicon import CLOSINGS, GREETINGS, HONORIFICS
from workers.intelligence.names import (
    PersonClue,
    best_name_in,
    collapse_spaces,
    find_name_runs,
    is_job_title,
    looks_like_name,
    normalize_title,
    split_reversed_name,
    strip_honorific,
)
from workers.intelligence.spans import Spans

_HEADER: Final = re.compile(
    r"(?im)^[ \t>]*(from|to|cc|bcc|reply-to|reporter|requester|who|organizer|sender|attendees|participants"
    r"|invitee|invitees|contact|date|sent|subject|when|where|event date/time|join zoom meeting|invitee email|present"
    r"|lead|new contact)"
    r"[ \t]*:[ \t]*(.*)$"
)
_PEOPLE_HEADERS: Final = frozenset({"from", "to", "cc", "bcc", "reply-to", "reporter", "requester", "who",
                                    "organizer", "sender", "attendees", "participants", "invitee", "invitees",
                                    "contact", "present", "lead", "new contact"})
_MAIL_HEADERS: Final = frozenset({"from", "to", "cc", "bcc", "reply-to", "date", "sent", "when", "where", "who",
                                  "organizer", "sender", "invitee email", "join zoom meeting", "event date/time"})
_IN_ANGLES: Final = re.compile(r"<[ \t]*+([^<>@\s]++@[^<>\s]++)[ \t]*+>")
_GREETING: Final = re.compile(
    rf"(?im)^[ \t>]*(?:{'|'.join(GREETINGS)})[ \t]+((?:(?:{'|'.join(HONORIFICS)})\.?[ \t]+)?"
    r"[^\W\d_][\w'’-]*(?:[ \t]+[^\W\d_][\w'’-]*){0,2})[ \t]*[,!:—–\n-]"
)
_PAREN: Final = re.compile(r"\(([^()\n]{1,160})\)")
_KV: Final = re.compile(r"(?i)\b(name|full name|company|organization|organisation|e-?mail|title"
                        r"|job title)[ \t]*[=:][ \t]*([^;\n|]+)")
_DASH_SIGNATURE: Final = re.compile(r"(?m)(?:^|[ \t])(?:—|–|--)[ \t]*([^\W\d_](?:[^\n@—–]|@[ \t])[^\n—–]{0,79})$")
_QUOTE_INTRO: Final = re.compile(r"(?m)^[ \t>]*On .{5,120} wrote:[ \t]*$")
_SPLIT_LIST: Final = re.compile(r"[;,]|\band\b")
_AT: Final = re.compile(r"\s+(?:at|@)\s+")
_SENT_FROM: Final = re.compile(r"(?i)^sent from my ")


@dataclass(frozen=True, slots=True)
class AngleAddress:
    """``Name <address>`` or ``"Name" <address>``: the span, the quoted name or the text before
    the bracket (up to 120 characters of the line), and the address as written."""

    start: int
    end: int
    quoted: str | None
    before: str | None
    address: str


def find_angle_addresses(line: str) -> list[AngleAddress]:
    """Every ``<address>`` of a line with the name before it, left to right, as ``finditer`` of
    ``(?:"([^"\\n]{1,80})"|([^\\n<>"]{0,120}?))[ \\t]*<[ \\t]*([^<>@\\s]+@[^<>\\s]+)[ \\t]*>``
    would find them, but in linear time: that pattern tries up to 120 name lengths at every start
    and rescans the blanks before ``<`` for each (a line of spaces took seconds per kilobyte).
    Here each address is found first, then the earliest start the pattern would have taken is
    worked out: a quoted name right before it, else the text after the last character a name
    cannot hold (a line break, a bracket, a quote), at most 120 characters before the blanks."""
    found: list[AngleAddress] = []
    pos = 0
    while True:
        bracket = line.find("<", pos)
        address = None
        while bracket >= 0 and (address := _IN_ANGLES.match(line, bracket)) is None:
            bracket = line.find("<", bracket + 1)
        if address is None:
            return found
        blanks = bracket
        while blanks > pos and line[blanks - 1] in " \t":
            blanks -= 1
        barrier = max(line.rfind(c, pos, bracket) for c in '\n<>"') + 1
        start = max(pos, barrier, blanks - 120)
        quoted = _quoted_before(line, pos, start)
        if quoted is not None:
            found.append(quoted)
        else:
            found.append(AngleAddress(start, address.end(), None, line[start:max(start, blanks)], address.group(1)))
        pos = found[-1].end


def _quoted_before(line: str, pos: int, limit: int) -> AngleAddress | None:
    """The first ``"Name" <address>`` whose opening quote lies in ``line[pos:limit]``."""
    quote = line.find('"', pos, limit)
    while quote >= 0:
        close = line.find('"', quote + 1)
        if close < 0:
            return None
        if 1 <= close - quote - 1 <= 80 and line.find("\n", quote + 1, close) < 0:
            bracket = close + 1
            while bracket < len(line) and line[bracket] in " \t":
                bracket += 1
            address = _IN_ANGLES.match(line, bracket)
            if address is not None:
                return AngleAddress(quote, address.end(), line[quote + 1:close], None, address.group(1))
        quote = line.find('"', quote + 1, limit)
    return None


@dataclass
class MessageFacts:
    """What the structure of a message says: people, company names, and the spans of lines that
    are structure rather than prose."""

    people: list[PersonClue] = field(default_factory=list)
    companies: list[CompanyPhrase] = field(default_factory=list)
    structure: list[tuple[int, int]] = field(default_factory=list)


def _emails_in(text: str) -> tuple[str, ...]:
    return tuple(found.value for found in find_emails(text))


def _name_before(prefix: str) -> str | None:
    """The name that ends a header value or a line just before ``<address>``."""
    prefix = prefix.strip().strip("\"'")
    reversed_name = split_reversed_name(prefix)
    if reversed_name != prefix:
        return reversed_name
    runs = find_name_runs(prefix)
    if not runs:
        return None
    found = best_name_in(runs[-1], allow_single=True)
    if found is None or runs[-1].end != len(prefix.rstrip()):
        return None
    return found[0]


def _parse_segments(segments: list[str], person: dict[str, object], facts: MessageFacts, offset: int) -> None:
    """Read title, company and addresses from the parts of a signature line or parenthesis."""
    for raw in segments:
        segment = collapse_spaces(raw.strip(" .-–—|"))
        if not segment or find_phones(segment) or segment.startswith(("http", "www.")):
            continue
        emails = _emails_in(segment)
        if emails:
            known = person.get("emails", ())
            person["emails"] = (tuple(known) if isinstance(known, tuple) else ()) + emails
            continue
        at_parts = _AT.split(segment, maxsplit=1)
        if len(at_parts) == 2 and is_job_title(at_parts[0]):
            person.setdefault("title", normalize_title(at_parts[0]))
            segment = at_parts[1]
        elif is_job_title(segment):
            person.setdefault("title", normalize_title(segment))
            continue
        if (segment[:1].isupper() and could_be_company(segment)
                and (not looks_like_name(segment) or "title" in person or shape_says_company(segment))
                and "company" not in person and not _SENT_FROM.match(segment)):
            person["company"] = segment
            facts.companies.append(CompanyPhrase(segment, offset, offset + len(segment), 2))


def _clue(person: dict[str, object], start: int, end: int, strength: int) -> PersonClue:
    name = person.get("name")
    title = person.get("title")
    company = person.get("company")
    emails = person.get("emails", ())
    return PersonClue(name if isinstance(name, str) else None, start, end,
                      tuple(emails) if isinstance(emails, tuple) else (),
                      title if isinstance(title, str) else None,
                      company if isinstance(company, str) else None, strength)


def _headers(text: str, facts: MessageFacts) -> None:
    last_invitee: int | None = None
    for match in _HEADER.finditer(text):
        key = match.group(1).casefold()
        value = match.group(2)
        if key in _MAIL_HEADERS:
            facts.structure.append((match.start(), match.end()))
        if key == "invitee email" and last_invitee is not None:
            old = facts.people[last_invitee]
            facts.people[last_invitee] = PersonClue(old.name, old.start, old.end, old.emails + _emails_in(value),
                                                    old.title, old.company, old.strength)
            continue
        if key not in _PEOPLE_HEADERS:
            continue
        base = match.start(2)
        covered: list[tuple[int, int]] = []
        for angle in find_angle_addresses(value):
            name = angle.quoted or _name_before(angle.before or "")
            if angle.quoted:
                name = split_reversed_name(angle.quoted.strip())
            address = angle.address.lower()
            covered.append((angle.start, angle.end))
            facts.people.append(PersonClue(name if name and looks_like_name(name, allow_single=True) else None,
                                           base + angle.start, base + angle.end, (address,), strength=3))
        rest = _blank_out(value, covered)
        for item in _SPLIT_LIST.split(_semicolons_in_parentheses(rest)):
            item_text = item.strip()
            paren = _first_parenthesized(item_text)
            head = item_text[:paren[0]].strip() if paren else item_text
            person: dict[str, object] = {}
            emails = _emails_in(head)
            if emails:
                person["emails"] = emails
            elif looks_like_name(strip_honorific(head), allow_single=key in ("invitee", "contact", "lead")):
                person["name"] = strip_honorific(head)
            else:
                continue
            if paren:
                inner = item_text[paren[0] + 1:paren[1] - 1]
                _parse_segments(inner.split(";"), person, facts, base + value.find(inner))
            position = base + max(value.find(head), 0)
            facts.people.append(_clue(person, position, position + len(head), 3))
            if key == "invitee":
                last_invitee = len(facts.people) - 1


def _blank_out(text: str, spans: list[tuple[int, int]]) -> str:
    """``text`` with the (sorted, disjoint) ``spans`` replaced by spaces."""
    pieces: list[str] = []
    last = 0
    for lo, hi in spans:
        pieces += [text[last:lo], " " * (hi - lo)]
        last = hi
    return "".join(pieces) + text[last:]


def _first_parenthesized(text: str, start: int = 0) -> tuple[int, int] | None:
    """The span of the first ``(...)`` of ``text[start:]`` (what ``\\([^)]*\\)`` finds first),
    by two scans instead of one per opening parenthesis."""
    opening = text.find("(", start)
    closing = text.find(")", opening + 1) if opening >= 0 else -1
    return (opening, closing + 1) if closing >= 0 else None


def _semicolons_in_parentheses(text: str) -> str:
    """Commas inside each ``(...)`` (as ``\\([^)]*\\)`` finds them) turned into semicolons."""
    pieces: list[str] = []
    last = 0
    while (span := _first_parenthesized(text, last)) is not None:
        lo, hi = span
        pieces += [text[last:lo], text[lo:hi].replace(",", ";")]
        last = hi
    return "".join(pieces) + text[last:]


def _angles_in_prose(text: str, facts: MessageFacts) -> None:
    header_spans = Spans(facts.structure)
    for line_match in re.finditer(r"(?m)^.*$", text):
        if header_spans.holds(line_match.start()):
            continue
        line = line_match.group(0)
        for angle in find_angle_addresses(line):
            name = split_reversed_name(angle.quoted) if angle.quoted else _name_before(angle.before or "")
            start = line_match.start() + angle.start
            facts.people.append(PersonClue(name, start, line_match.start() + angle.end,
                                           (angle.address.lower(),), strength=3))
        if _QUOTE_INTRO.match(line):
            facts.structure.append((line_match.start(), line_match.end()))


def _greetings(text: str, facts: MessageFacts) -> None:
    for match in _GREETING.finditer(text):
        name = strip_honorific(match.group(1))
        if looks_like_name(name, allow_single=True):
            facts.people.append(PersonClue(name, match.start(1), match.end(1), strength=2))


def _parentheses(text: str, facts: MessageFacts) -> None:
    for match in _PAREN.finditer(text):
        inner = match.group(1)
        segments = [s.strip() for s in inner.split(",")]
        before = text[max(0, match.start() - 80):match.start()].rstrip()
        runs = find_name_runs(before)
        owner = None
        if runs and runs[-1].end == len(before):
            owner = best_name_in(runs[-1], allow_single=True)
        person: dict[str, object] = {}
        role = re.search(r"(?i)\b(?:visitor|agent|customer|user|rep|support|host|guest|operator|speaker)\s*$", before)
        if role is not None and segments and looks_like_name(segments[0], allow_single=True):
            person["name"] = segments[0]
            _parse_segments(segments[1:], person, facts, match.start(1))
            facts.people.append(_clue(person, match.start(1), match.end(), 2))
            continue
        if owner is not None and before.endswith(owner[0]):
            person["name"] = owner[0]
            start = max(0, match.start() - 80) + owner[1]
        elif segments and looks_like_name(segments[0]) and len(segments) > 1:
            person["name"] = segments[0]
            segments = segments[1:]
            start = match.start(1)
        else:
            continue
        _parse_segments(segments, person, facts, match.start(1))
        if len(person) > 1 or owner is not None:
            facts.people.append(_clue(person, start, match.end(), 2))


def _key_values(text: str, facts: MessageFacts) -> None:
    current: dict[str, object] = {}
    start = end = 0
    for match in _KV.finditer(text):
        key = match.group(1).casefold().replace("-", "")
        value = match.group(2).strip()
        if key in ("name", "full name") and looks_like_name(value, allow_single=True):
            if current.get("name"):
                facts.people.append(_clue(current, start, end, 3))
            current, start = {"name": value}, match.start(2)
        elif key == "email" and current:
            current["emails"] = _emails_in(value)
        elif key in ("company", "organization", "organisation") and could_be_company(value):
            current["company"] = value
            facts.companies.append(CompanyPhrase(value, match.start(2), match.start(2) + len(value), 2))
        elif key in ("title", "job title") and current and is_job_title(value):
            current["title"] = normalize_title(value)
        end = match.end()
    if current.get("name"):
        facts.people.append(_clue(current, start, end, 3))


def _is_signature_line(line: str) -> bool:
    """A line that can follow the name in a signature: a title, a company, an address, a phone."""
    text = line.strip()
    if _emails_in(text) or find_phones(text):
        return True
    parts = [p.strip() for p in re.split(r"[|,]", text) if p.strip()]
    return bool(parts) and len(text) <= 80 and not text.endswith((".", "?", "!")) and all(
        is_job_title(p) or shape_says_company(p) or (p[:1].isupper() and could_be_company(p)) for p in parts)


def _is_closing(line: str) -> bool:
    folded = line.strip().casefold().rstrip(",.!:")
    return folded in CLOSINGS or line.strip() in ("--", "—", "-- ")


def _signature(text: str, facts: MessageFacts) -> None:
    lines = [(m.start(), m.group(0)) for m in re.finditer(r"(?m)^.*$", text)]
    quoted = next((i for i, (_, line) in enumerate(lines) if _QUOTE_INTRO.match(line) or line.startswith(">")
                   or line.startswith("----------")), len(lines))
    body = lines[:quoted]
    closing = max((i for i, (_, line) in enumerate(body) if _is_closing(line)), default=None)
    if closing is None:
        # No closing word: a lone name on the last lines of a mail-like text signs it.
        tail = [i for i, (_, line) in enumerate(body) if line.strip()]
        if len(tail) < 2:
            return
        mail_like = bool(facts.structure or any(_GREETING.match(line) for _, line in body))
        candidates = tail[-4:]
        closing = next((i - 1 for i in candidates if looks_like_name(body[i][1].strip(), allow_single=True)
                        and all(_is_signature_line(body[j][1]) for j in tail if j > i)
                        and (mail_like or i != tail[-1])), None)
        if closing is None:
            return
    block = [(start, line) for start, line in body[closing + 1:] if line.strip()][:6]
    block = [(s, line) for s, line in block if not _SENT_FROM.match(line.strip())]
    if not block or _is_closing(block[0][1]):
        block = block[1:]
    if not block:
        return
    first_start, first = block[0]
    parts = [p for p in re.split(r"\s*\|\s*", first.strip()) if p]
    name_part, _, rest = parts[0].partition(",")
    name = strip_honorific(name_part.strip())
    if not looks_like_name(name, allow_single=True):
        return
    person: dict[str, object] = {"name": name}
    segments = ([rest] if rest.strip() else []) + parts[1:]
    _parse_segments(segments, person, facts, first_start)
    for start, line in block[1:]:
        _parse_segments(re.split(r"\s*[|,]\s*", line.strip()), person, facts, start)
    end = block[-1][0] + len(block[-1][1])
    facts.people.append(_clue(person, first_start, end, 3))
    facts.structure.append((first_start, end))


def _dash_signatures(text: str, facts: MessageFacts) -> None:
    for match in _DASH_SIGNATURE.finditer(text):
        name_part, _, rest = match.group(1).partition(",")
        name = strip_honorific(name_part.strip())
        if not looks_like_name(name):
            continue
        person: dict[str, object] = {"name": name}
        _parse_segments([rest] if rest.strip() else [], person, facts, match.start(1))
        facts.people.append(_clue(person, match.start(1), match.end(1), 3))
        facts.structure.append((match.start(1), match.end(1)))


def read_message(text: str) -> MessageFacts:
    """People, company names and structure lines read from the message's form (see the module
    docstring). Pure."""
    facts = MessageFacts()
    _headers(text, facts)
    _angles_in_prose(text, facts)
    _greetings(text, facts)
    _parentheses(text, facts)
    _key_values(text, facts)
    _signature(text, facts)
    _dash_signatures(text, facts)
    facts.companies.extend(p for p in _subject_pairs(text))
    return facts


def _subject_pairs(text: str) -> list[CompanyPhrase]:
    """``Intro: Orbital Foods <> Pinecrest Capital``, ``Ledgerly <> Quantifi``: both sides."""
    found = []
    # Blanks are bounded ({0,40}) or possessive: with \s*, each of the 40 ways to end a name
    # rescanned the whole run of blanks after it (1 MB of them took seconds).
    for match in re.finditer(r"([A-Z][\w&.' ]{1,40}?)\s{0,40}(?:<>|\s[x×]\s|//)\s*([A-Z][\w&.' ]{1,40}?)"
                             r"(?=[^\S\n]*+(?:[|:\-–—\n]|$))", text):
        for group in (1, 2):
            name = collapse_spaces(match.group(group)).rstrip(" .")
            name = re.sub(r"^(?:Intro|Re|Fwd?|Subject|Invitation|Declined|Accepted|Updated invitation)\s*:\s*", "",
                          name, flags=re.IGNORECASE)
            if could_be_company(name) or shape_says_company(name):
                found.append(CompanyPhrase(name, match.start(group), match.end(group), 2))
    return found
