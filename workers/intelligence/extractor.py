"""The extractor seam and its local, deterministic default.

``Extractor`` is what the context worker calls. ``RuleExtractor`` answers with patterns and
lexicons only: no network, no model, the same output for the same text. It favours precision,
because the API creates records from what it returns: an address, domain or name is reported
only when the text states it, and a person is linked to a company only when the text says so.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

from workers.intelligence.assembly import (
    CompanyDraft,
    PersonDraft,
    attach_emails,
    attach_nearby,
    display_domain_name,
    drop_company_names_as_people,
    link_people,
    merge_companies,
    merge_people,
    merge_same_names,
)
from workers.intelligence.companies import CompanyPhrase, find_shaped_companies
from workers.intelligence.identifiers import (
    Found,
    domain_of_email,
    find_domains,
    find_emails,
    find_phones,
    find_social_profiles,
    is_company_domain,
)
from workers.intelligence.mail import read_message
from workers.intelligence.model import CompanyMention, Extraction, PersonMention, Signal
from workers.intelligence.names import PersonClue, name_from_local_part
from workers.intelligence.prose import find_prose_companies, find_prose_people
from workers.intelligence.signals import find_signals


class Extractor(Protocol):
    """Finds people, companies and signals in a text. ``context`` says where the text comes
    from (``"New LinkedIn activity"``); implementations may use it or not."""

    async def extract(self, text: str, context: str | None) -> Extraction: ...


class RuleExtractor:
    """The default extractor: ``extract_entities`` behind the ``Extractor`` interface, in a worker
    thread, so the event loop of the process (its other jobs: webhooks, the outbox relay) keeps
    running while a long text is read."""

    async def extract(self, text: str, context: str | None = None) -> Extraction:
        return await asyncio.to_thread(extract_entities, text)


def _company_domains(emails: list[Found], links: list[Found]) -> list[Found]:
    found = [Found(d, e.start, e.end) for e in emails if (d := domain_of_email(e.value)) and is_company_domain(d)]
    found += [link for link in links if is_company_domain(link.value)]
    return sorted(found, key=lambda f: f.start)


def _writer(people: list[PersonDraft], structure: list[tuple[int, int]], text: str) -> PersonDraft | None:
    """The author: the person of the signature, else of the first ``From:`` header."""
    lines = set(structure)  # a set: one list scan per span grew with the square of a long header block
    signed = [p for p in people if any(span in lines for span in p.spans) and p.strength >= 3]
    if signed:
        return max(signed, key=lambda p: max(start for start, _ in p.spans))
    lowered = text.casefold()
    header = lowered.find("from:")
    if header < 0:
        return None
    return next((p for p in people for start, _ in p.spans if 0 <= start - header <= 80), None)


def _subjects(start: int, end: int, people: list[PersonDraft], companies: list[CompanyDraft]) -> tuple[str, ...]:
    subjects: list[str] = []
    for person in people:
        if any(start <= s < end for s, _ in person.spans):
            key = person.name or (person.emails[0] if person.emails else None)
            if key and key not in subjects:
                subjects.append(key)
    for company in companies:
        if any(start <= s < end for s, _ in company.spans) and company.label not in subjects:
            subjects.append(company.label)
    return tuple(subjects)


def extract_entities(text: str) -> Extraction:
    """People, companies and signals of ``text`` by rules (see the module docstring). Pure and
    deterministic: entities come in order of first mention."""
    emails = find_emails(text)
    profiles = find_social_profiles(text)
    excluded = [(f.start, f.end) for f in emails + profiles]
    links = find_domains(text, excluded)
    phones = find_phones(text)
    message = read_message(text)
    prose = find_prose_people(text)

    phrases: list[CompanyPhrase] = [*message.companies, *find_prose_companies(text), *find_shaped_companies(text)]
    clue_names = {c.name.casefold() for c in message.people if c.name and c.strength >= 3}
    phrases = [p for p in phrases if p.name.casefold() not in clue_names]
    companies = merge_companies(phrases, _company_domains(emails, links), text)

    clues: list[PersonClue] = [*message.people, *prose.people]
    people = drop_company_names_as_people(merge_people(clues), companies)
    attach_emails(people, emails)
    for person in people:
        if person.name is None and person.emails:
            person.name = name_from_local_part(person.emails[0])
    people = merge_same_names(people)
    attach_nearby(people, phones, "phone")
    for orphan in attach_nearby(people, profiles, "profile"):
        people.append(PersonDraft(None, 1, profiles=[orphan.value], spans=[(orphan.start, orphan.end)]))
    link_people(text, people, companies, prose.their, _writer(people, message.structure, text))
    people.sort(key=lambda p: p.first)

    signals: list[Signal] = []
    seen: set[tuple[str, str]] = set()
    for found in find_signals(text, message.structure):
        if (found.type, found.content) in seen:
            continue
        seen.add((found.type, found.content))
        signals.append(Signal(found.type, found.content, _subjects(found.start, found.end, people, companies),
                              found.confidence))

    return Extraction(
        people=tuple(PersonMention(
            name=p.name, emails=tuple(p.emails), phones=tuple(p.phones), social_profiles=tuple(p.profiles),
            job_title=p.title, company=p.company.label if p.company else None) for p in people),
        companies=tuple(CompanyMention(display_domain_name(c), tuple(c.domains)) for c in companies),
        signals=tuple(signals),
    )
