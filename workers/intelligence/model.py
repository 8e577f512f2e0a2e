"""What an extractor finds in a text: people, companies and signals, as immutable values.

An ``Extraction`` is stored as the artifact's raw extraction (a JSON document in PostgreSQL),
so it has a stable JSON form: ``to_json`` writes it and ``from_json`` reads it back, refusing
anything malformed with ``ValueError``. ``EXTRACTION_JSON_SCHEMA`` describes that form; it is
also the structured-output schema an LLM is asked to fill.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

SIGNAL_TYPES: Final = ("buying_signal", "risk", "objection", "timeline", "budget", "sentiment", "next_step")
"""Every insight type an extractor may emit, in a fixed order (reports and schemas use it)."""

MAX_SIGNAL_CONTENT: Final = 300


@dataclass(frozen=True, slots=True)
class PersonMention:
    """A person the text names or writes to. ``company`` is the name or registered domain of the
    company the text links the person to (works at, writes from, signs as), or None."""

    name: str | None
    emails: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    social_profiles: tuple[str, ...] = ()
    job_title: str | None = None
    company: str | None = None


@dataclass(frozen=True, slots=True)
class CompanyMention:
    """A company the text names or whose registered domain it mentions (lowercase domains)."""

    name: str | None
    domains: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Signal:
    """One insight: ``type`` is one of ``SIGNAL_TYPES``; ``content`` a short readable statement
    (at most ``MAX_SIGNAL_CONTENT`` characters); ``subjects`` the names, domains or emails of the
    mentioned entities it is about (empty: about every entity of the text)."""

    type: str
    content: str
    subjects: tuple[str, ...] = ()
    confidence: float = 0.5


@dataclass(frozen=True, slots=True)
class Extraction:
    people: tuple[PersonMention, ...] = ()
    companies: tuple[CompanyMention, ...] = ()
    signals: tuple[Signal, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not (self.people or self.companies or self.signals)


def _strings(schema_nullable: bool = False) -> dict[str, Any]:
    return {"type": ["string", "null"]} if schema_nullable else {"type": "string"}


def _string_list() -> dict[str, Any]:
    return {"type": "array", "items": {"type": "string"}}


EXTRACTION_JSON_SCHEMA: Final[dict[str, Any]] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["people", "companies", "signals"],
    "properties": {
        "people": {"type": "array", "items": {
            "type": "object", "additionalProperties": False,
            "required": ["name", "emails", "phones", "social_profiles", "job_title", "company"],
            "properties": {
                "name": _strings(True), "emails": _string_list(), "phones": _string_list(),
                "social_profiles": _string_list(), "job_title": _strings(True), "company": _strings(True),
            },
        }},
        "companies": {"type": "array", "items": {
            "type": "object", "additionalProperties": False, "required": ["name", "domains"],
            "properties": {"name": _strings(True), "domains": _string_list()},
        }},
        "signals": {"type": "array", "items": {
            "type": "object", "additionalProperties": False,
            "required": ["type", "content", "subjects", "confidence"],
            "properties": {
                "type": {"type": "string", "enum": list(SIGNAL_TYPES)},
                "content": _strings(), "subjects": _string_list(),
                "confidence": {"type": "number", "minimum": 0, "maximum": 1},
            },
        }},
    },
}


def to_json(extraction: Extraction) -> dict[str, Any]:
    """The JSON form of an extraction (lists for tuples; every key always present)."""
    return {
        "people": [{"name": p.name, "emails": list(p.emails), "phones": list(p.phones),
                    "social_profiles": list(p.social_profiles), "job_title": p.job_title,
                    "company": p.company} for p in extraction.people],
        "companies": [{"name": c.name, "domains": list(c.domains)} for c in extraction.companies],
        "signals": [{"type": s.type, "content": s.content, "subjects": list(s.subjects),
                     "confidence": s.confidence} for s in extraction.signals],
    }


def _optional_str(raw: Mapping[str, Any], key: str, where: str) -> str | None:
    value = raw.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"{where}.{key}: expected a string or null")
    return value


def _str_tuple(raw: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = raw.get(key, [])
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError(f"{where}.{key}: expected a list of strings")
    return tuple(value)


def _objects(raw: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    value = raw.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise ValueError(f"{key}: expected a list of objects")
    return value


def from_json(raw: Any) -> Extraction:
    """An extraction from its JSON form. Missing lists are empty and missing optional strings
    None; wrong types raise ``ValueError`` naming the field, and so does an unknown signal type or
    a confidence outside [0, 1]."""
    if not isinstance(raw, dict):
        raise ValueError("expected an object with people, companies and signals")
    people = tuple(
        PersonMention(
            name=_optional_str(p, "name", f"people[{i}]"),
            emails=_str_tuple(p, "emails", f"people[{i}]"),
            phones=_str_tuple(p, "phones", f"people[{i}]"),
            social_profiles=_str_tuple(p, "social_profiles", f"people[{i}]"),
            job_title=_optional_str(p, "job_title", f"people[{i}]"),
            company=_optional_str(p, "company", f"people[{i}]"),
        )
        for i, p in enumerate(_objects(raw, "people"))
    )
    companies = tuple(
        CompanyMention(name=_optional_str(c, "name", f"companies[{i}]"),
                       domains=_str_tuple(c, "domains", f"companies[{i}]"))
        for i, c in enumerate(_objects(raw, "companies"))
    )
    signals = []
    for i, s in enumerate(_objects(raw, "signals")):
        kind = s.get("type")
        if kind not in SIGNAL_TYPES:
            raise ValueError(f"signals[{i}].type: expected one of {', '.join(SIGNAL_TYPES)}")
        content = s.get("content")
        if not isinstance(content, str):
            raise ValueError(f"signals[{i}].content: expected a string")
        confidence = s.get("confidence", 0.5)
        if isinstance(confidence, bool) or not isinstance(confidence, int | float) or not 0 <= confidence <= 1:
            raise ValueError(f"signals[{i}].confidence: expected a number between 0 and 1")
        signals.append(Signal(kind, content, _str_tuple(s, "subjects", f"signals[{i}]"), float(confidence)))
    return Extraction(people, companies, tuple(signals))
