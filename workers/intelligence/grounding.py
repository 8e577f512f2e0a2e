"""Keeping a model honest: an extraction from an LLM keeps only what the text itself shows, and
is completed with the rule extractor's finds.

A language model may invent an address, a domain or a name that is nowhere in the text; records
would then be created from nothing. ``ground_extraction`` drops every such value (case and
spacing ignored), and ``merge_extractions`` adds back the deterministic finds the model missed.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

import phonenumbers

from workers.intelligence.companies import compact_name
from workers.intelligence.identifiers import to_registered_domain
from workers.intelligence.model import (
    MAX_SIGNAL_CONTENT,
    SIGNAL_TYPES,
    CompanyMention,
    Extraction,
    PersonMention,
    Signal,
)


def normalize_model_json(raw: Any) -> dict[str, Any]:
    """A model's extraction JSON made readable by ``from_json``: items that are not objects,
    signals of unknown types or without text are dropped, confidences are clamped to [0, 1]
    (grammar-constrained decoders do not enforce numeric bounds), null lists become empty."""
    if not isinstance(raw, dict):
        raise ValueError("expected a JSON object")
    people = [p for p in raw.get("people") or [] if isinstance(p, dict)]
    companies = [c for c in raw.get("companies") or [] if isinstance(c, dict)]
    signals = []
    for signal in raw.get("signals") or []:
        if not isinstance(signal, dict) or signal.get("type") not in SIGNAL_TYPES:
            continue
        if not isinstance(signal.get("content"), str):
            continue
        confidence = signal.get("confidence")
        if isinstance(confidence, bool) or not isinstance(confidence, int | float):
            confidence = 0.5
        signals.append({**signal, "confidence": min(1.0, max(0.0, float(confidence)))})
    for entity in (*people, *companies):
        for key in ("emails", "phones", "social_profiles", "domains", "subjects"):
            if key in entity and not isinstance(entity[key], list):
                entity[key] = []
            elif key in entity:
                entity[key] = [v for v in entity[key] if isinstance(v, str)]
        for key in ("name", "job_title", "company"):
            if key in entity and not isinstance(entity[key], str | None):
                entity[key] = None
    return {"people": people, "companies": companies, "signals": signals}


def _folded(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def appears_in(value: str, text: str) -> bool:
    """Whether ``value`` occurs in ``text``, ignoring case and runs of whitespace."""
    needle = _folded(value)
    return bool(needle) and needle in _folded(text)


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _grounded_phone(raw: str, text: str) -> str | None:
    try:
        number = phonenumbers.parse(raw, "US")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    if str(number.national_number) not in _digits(text):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _grounded_domain(raw: str, text: str) -> str | None:
    domain = to_registered_domain(raw.strip().lower().removeprefix("https://").removeprefix("http://").split("/")[0])
    return domain if domain is not None and appears_in(domain, text) else None


def _grounded_company_ref(raw: str | None, text: str) -> str | None:
    if raw is None or not raw.strip():
        return None
    if "." in raw and " " not in raw.strip():
        return _grounded_domain(raw, text)
    return raw.strip() if appears_in(raw, text) else None


def ground_extraction(extraction: Extraction, text: str) -> Extraction:
    """The extraction minus every value ``text`` does not contain: addresses (lowercased),
    domains (reduced to registered domains), names, titles, company references, phone numbers
    (their digits must be in the text) and profile URLs; signal subjects likewise. People and
    companies left with nothing are dropped; signal content is trimmed to the size limit."""
    people = []
    for person in extraction.people:
        emails = tuple(dict.fromkeys(e.strip().lower() for e in person.emails if appears_in(e.strip(), text)))
        phones = tuple(dict.fromkeys(p for raw in person.phones if (p := _grounded_phone(raw, text))))
        profiles = tuple(dict.fromkeys(u for u in person.social_profiles if appears_in(
            re.sub(r"^(?:https?://)?(?:www\.)?", "", u).rstrip("/"), text)))
        name = person.name.strip() if person.name and appears_in(person.name, text) else None
        if not (name or emails or phones or profiles):
            continue
        title = person.job_title.strip() if person.job_title and appears_in(person.job_title, text) else None
        people.append(PersonMention(name, emails, phones, profiles, title, _grounded_company_ref(person.company, text)))
    companies = []
    for company in extraction.companies:
        domains = tuple(dict.fromkeys(d for raw in company.domains if (d := _grounded_domain(raw, text))))
        name = company.name.strip() if company.name and appears_in(company.name, text) else None
        if name or domains:
            companies.append(CompanyMention(name, domains))
    signals = []
    for signal in extraction.signals:
        content = " ".join(signal.content.split())[:MAX_SIGNAL_CONTENT]
        if signal.type not in SIGNAL_TYPES or not content:
            continue
        subjects = tuple(s for s in signal.subjects if appears_in(s, text))
        signals.append(Signal(signal.type, content, subjects, min(1.0, max(0.0, signal.confidence))))
    return Extraction(tuple(people), tuple(companies), tuple(signals))


def _same_person(a: PersonMention, b: PersonMention) -> bool:
    if set(a.emails) & set(b.emails):
        return True
    return bool(a.name and b.name and _folded(a.name) == _folded(b.name))


def _same_company(a: CompanyMention, b: CompanyMention) -> bool:
    if set(a.domains) & set(b.domains):
        return True
    return bool(a.name and b.name and compact_name(a.name) == compact_name(b.name))


def _union(first: tuple[str, ...], second: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(first + second))


def merge_extractions(model: Extraction, rules: Extraction) -> Extraction:
    """The model's (grounded) extraction completed with the rule extractor's: people and
    companies the model missed are added, addresses, phones, profiles and domains are united,
    missing names, titles and companies are filled in, and signal types the model did not report
    are added from the rules. Order: the model's entities first, then the rules' additions."""
    people = list(model.people)
    for found in rules.people:
        index = next((i for i, p in enumerate(people) if _same_person(p, found)), None)
        if index is None:
            people.append(found)
            continue
        p = people[index]
        people[index] = PersonMention(p.name or found.name, _union(p.emails, found.emails),
                                      _union(p.phones, found.phones), _union(p.social_profiles, found.social_profiles),
                                      p.job_title or found.job_title, p.company or found.company)
    companies = list(model.companies)
    for found_company in rules.companies:
        index = next((i for i, c in enumerate(companies) if _same_company(c, found_company)), None)
        if index is None:
            companies.append(found_company)
            continue
        c = companies[index]
        companies[index] = CompanyMention(c.name or found_company.name, _union(c.domains, found_company.domains))
    model_types = {s.type for s in model.signals}
    signals = list(model.signals) + [s for s in rules.signals if s.type not in model_types]
    return Extraction(tuple(people), tuple(companies), tuple(signals))
