"""Reading an AI list query (``fintech companies in Germany with more than 50 employees``) as a
record filter plus full-text terms, and ranking the records that come back.

``interpret_list_query`` uses only attributes that exist on the object, found by slug, name and
type: a phrase whose attribute is missing becomes a search term instead (or, for a number, is
dropped and the explanation says so). The filter is in Tessera's record query language
(docs/query.md) and always passes ``schema_registry.query.parse_filter`` for that object.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

import pycountry

from schema_registry.definitions import AttributeDefinition, AttributeTypeName, ObjectDefinition
from workers.intelligence.question import STOP_WORDS
from workers.intelligence.reasoner import render_value

_I = re.IGNORECASE
INDUSTRIES: Final = (
    "fintech", "saas", "healthcare", "health tech", "healthtech", "medtech", "biotech", "pharma", "edtech",
    "education", "insurtech", "insurance", "proptech", "real estate", "e-commerce", "ecommerce", "retail",
    "logistics", "manufacturing", "automotive", "energy", "cleantech", "climate", "cybersecurity", "security",
    "gaming", "media", "marketing", "advertising", "hospitality", "travel", "legal", "legaltech", "consulting",
    "banking", "finance", "financial services", "telecom", "food", "agriculture", "agtech", "construction",
    "nonprofit", "government", "crypto", "blockchain", "ai", "software", "hardware", "tech", "technology",
    "b2b", "b2c", "marketplace", "fashion", "aerospace", "defense", "mining", "pharmaceuticals", "analytics",
)
_COUNT: Final = re.compile(
    r"\b(?:(?P<op>more than|over|greater than|above|at least|minimum of|fewer than|less than|under|below|at most"
    r"|up to|maximum of)\s+(?P<n>\d[\d,]*)|(?P<plus>\d[\d,]*)\s*\+|between\s+(?P<lo>\d[\d,]*)\s+(?:and|to|-)\s+"
    r"(?P<hi>\d[\d,]*)|(?P<lo2>\d[\d,]*)\s*(?:-|to)\s*(?P<hi2>\d[\d,]*))\s+(?:employees|people|staff|headcount|workers"
    r"|person|full-time employees|ftes?)\b", _I)
_OPERATORS: Final = {"more than": "$gt", "over": "$gt", "greater than": "$gt", "above": "$gt", "at least": "$gte",
                     "minimum of": "$gte", "fewer than": "$lt", "less than": "$lt", "under": "$lt", "below": "$lt",
                     "at most": "$lte", "up to": "$lte", "maximum of": "$lte"}
_PLACE: Final = re.compile(r"\b(?:based in|located in|headquartered in|hq in|in|from)\s+(?P<place>[A-Za-z][\w .'-]*?)"
                           r"(?=$|[,.;?!]|\s+(?:with|who|that|which|and|having|in|at|whose|where)\b)", _I)
_AT_COMPANY: Final = re.compile(r"\b(?:who work(?:s)? (?:at|for)|working (?:at|for)|employed (?:at|by)|works at|at"
                                r"|from)\s+"
                                r"(?P<org>(?:[\w-]+\.)+[a-z]{2,}|[A-Z][\w&.'-]*(?:\s+[A-Z][\w&.'-]*)*)", 0)
_TITLE: Final = re.compile(
    r"\b(?:with (?:a|the) )?(?:job )?title (?:of |is |like |containing )?[\"“]?(?P<t1>[\w &/-]+?)[\"”]?(?=$"
    r"|[,.;?!]|\s+(?:in|at|who|with|and)\b)"
    r"|\b(?P<t2>ctos?|ceos?|cfos?|coos?|cmos?|cios?|cisos?|cros?|vps? of [a-z]+|vps?|heads? of [a-z]+|founders?"
    r"|co-?founders?"
    r"|directors? of [a-z]+|(?:product|engineering|sales|marketing|account) managers?|engineers?|recruiters?|designers?"
    r"|account executives?)\b", _I)
_SYMBOLS: Final = {"$gt": ">", "$gte": ">=", "$lt": "<", "$lte": "<="}
_EVERYONE: Final = re.compile(r"^\s*(?:all|every|list|show(?: me)?|find)?\s*(?:all\s+)?(?:the\s+)?(?:companies|company"
                              r"|contacts?|people|persons?|everyone|everybody|records?)\s*$", _I)
_NOISE: Final = frozenset({"companies", "company", "contacts", "contact", "people", "person", "persons", "everyone",
                           "everybody", "records", "record", "asked", "ask", "mentioned", "mention", "talked",
                           "said", "employees", "employee", "staff", "based", "located", "headquartered", "work",
                           "works", "working", "title", "job", "show", "list", "find"})


@dataclass(frozen=True, slots=True)
class Interpretation:
    filter: dict[str, Any] | None
    terms: tuple[str, ...]
    explanation: str


@dataclass(frozen=True, slots=True)
class RankedEntity:
    id: int | str
    reason: str
    highlights: tuple[str, ...] = ()
    score: float = 0.0


def _find_attribute(obj: ObjectDefinition, words: Sequence[str],
                    types: Sequence[AttributeTypeName]) -> AttributeDefinition | None:
    for attribute in sorted(obj.attributes, key=lambda a: a.position):
        label = f"{attribute.slug} {attribute.name}".casefold()
        if attribute.type in types and any(w in label for w in words):
            return attribute
    return None


def _singular_title(raw: str) -> str:
    title = raw.strip()
    lowered = title.casefold()
    if re.fullmatch(r"(?:c[a-z]{1,3}o)s", lowered):
        return title[:-1].upper()
    if re.fullmatch(r"c[a-z]{1,3}o", lowered):
        return title.upper()
    for plural, singular in (("vps", "vp"), ("heads", "head"), ("founders", "founder"), ("directors", "director"),
                             ("managers", "manager"), ("engineers", "engineer"), ("executives", "executive"),
                             ("recruiters", "recruiter"), ("designers", "designer"), ("co-founders", "co-founder"),
                             ("cofounders", "cofounder")):
        title = re.sub(rf"\b{plural}\b", singular, title, flags=_I)
    return title


def _country_code(place: str) -> str | None:
    try:
        return str(pycountry.countries.lookup(place.strip()).alpha_2)
    except LookupError:
        return None


def interpret_list_query(query: str, object_type: Literal["contact", "company"],
                         obj: ObjectDefinition) -> Interpretation:
    """The filter and terms of an AI list query on ``obj`` (the person object for ``contact``,
    the company object for ``company``), with a plain-English explanation. Pure."""
    conditions: list[dict[str, Any]] = []
    understood: list[str] = []
    terms: list[str] = []
    rest = query
    noun = "contacts" if object_type == "contact" else "companies"

    def consume(match: re.Match[str]) -> None:
        nonlocal rest
        rest = rest.replace(match.group(0), " ", 1)

    for match in _COUNT.finditer(query):
        attribute = _find_attribute(obj, ("employee", "headcount", "staff", "size"), (AttributeTypeName.NUMBER,))
        consume(match)
        if match.group("op"):
            bounds = {_OPERATORS[match.group("op").casefold()]: int(match.group("n").replace(",", ""))}
        elif match.group("plus"):
            bounds = {"$gte": int(match.group("plus").replace(",", ""))}
        else:
            lo, hi = match.group("lo") or match.group("lo2"), match.group("hi") or match.group("hi2")
            bounds = {"$gte": int(lo.replace(",", "")), "$lte": int(hi.replace(",", ""))}
        text = " and ".join(f"{_SYMBOLS[op]} {n}" for op, n in bounds.items())
        if attribute is None:
            understood.append(f"a head count ({match.group(0).strip()}) that cannot be filtered: "
                              f"{noun} have no employee count attribute, so it was ignored")
            continue
        conditions.append({attribute.slug: bounds})
        understood.append(f"{attribute.name.lower()} {text}")

    if object_type == "contact":
        for match in _AT_COMPANY.finditer(rest):
            org = match.group("org").rstrip(".")
            if org.casefold() in STOP_WORDS or _country_code(org):
                continue
            consume(match)
            email = next((a for a in obj.attributes if a.type is AttributeTypeName.EMAIL), None)
            company_text = _find_attribute(obj, ("company", "organization", "organisation", "employer"),
                                           (AttributeTypeName.TEXT,))
            if "." in org and email is not None:
                domain = org.lower()
                conditions.append({f"{email.slug}.domain": {"$eq": domain}})
                understood.append(f"an e-mail address at {domain}")
            elif company_text is not None:
                conditions.append({company_text.slug: {"$contains": org}})
                understood.append(f"{company_text.name.lower()} containing \"{org}\"")
            else:
                terms.append(org.casefold())
                understood.append(f"works at {org} (searched as text: contacts have no company attribute)")

    for match in _TITLE.finditer(rest):
        title = _singular_title(match.group("t1") or match.group("t2") or "")
        if not title:
            continue
        consume(match)
        attribute = _find_attribute(obj, ("title", "role", "position"), (AttributeTypeName.TEXT,))
        if attribute is None or object_type != "contact":
            terms.append(title.casefold())
            understood.append(f"the title \"{title}\" (searched as text)")
        else:
            conditions.append({attribute.slug: {"$contains": title}})
            understood.append(f"a {attribute.name.lower()} containing \"{title}\"")

    for match in _PLACE.finditer(rest):
        place = match.group("place").strip()
        code = _country_code(place)
        if code is None and not place[:1].isupper():
            continue
        if place.casefold() in INDUSTRIES:
            continue
        consume(match)
        location = next((a for a in obj.attributes if a.type is AttributeTypeName.LOCATION), None)
        if location is not None and code is not None:
            conditions.append({f"{location.slug}.country_code": {"$eq": code}})
            understood.append(f"located in {place} ({location.slug}.country_code = {code})")
        elif location is not None:
            conditions.append({f"{location.slug}.city": {"$contains": place}})
            understood.append(f"located in {place} ({location.slug}.city)")
        else:
            terms.append(place.casefold())
            understood.append(f"{place} (searched as text: {noun} have no location attribute)")

    industry_attr = _find_attribute(obj, ("industry", "sector", "vertical"),
                                    (AttributeTypeName.TEXT, AttributeTypeName.SELECT))
    for industry in INDUSTRIES:
        pattern = re.compile(rf"(?<![\w-]){re.escape(industry)}(?![\w-])", _I)
        if not pattern.search(rest):
            continue
        rest = pattern.sub(" ", rest, count=1)
        if industry_attr is None:
            terms.append(industry)
            understood.append(f"the industry \"{industry}\" (searched as text)")
        elif industry_attr.type is AttributeTypeName.SELECT:
            options = [o.name for o in industry_attr.select_options if industry in o.name.casefold()]
            if options:
                conditions.append({industry_attr.slug: {"$in": options}})
                understood.append(f"{industry_attr.name.lower()} one of {', '.join(options)}")
            else:
                terms.append(industry)
                understood.append(f"the industry \"{industry}\" (no matching option; searched as text)")
        else:
            conditions.append({industry_attr.slug: {"$contains": industry}})
            understood.append(f"{industry_attr.name.lower()} containing \"{industry}\"")

    if not _EVERYONE.match(query):
        for word in re.findall(r"[^\W_][\w'-]*", rest):
            folded = word.casefold()
            if len(folded) >= 3 and folded not in STOP_WORDS and folded not in _NOISE and folded not in terms:
                terms.append(folded)

    query_filter: dict[str, Any] | None
    if not conditions:
        query_filter = None
    elif len(conditions) == 1:
        query_filter = conditions[0]
    else:
        query_filter = {"$and": conditions}
    explanation = f"All {noun}"
    if understood:
        explanation += " with " + "; ".join(understood)
    if terms:
        explanation += f", ranked by mentions of {', '.join(repr(t) for t in terms)} in their attributes and insights"
    explanation += "." if understood or terms else ", no filter."
    return Interpretation(query_filter, tuple(terms), explanation)


def _snippet(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1].rsplit(" ", 1)[0] + "…"


def rank_candidates(candidates: Sequence[tuple[int | str, str, Mapping[str, Any], Sequence[str]]],
                    terms: Sequence[str], limit: int) -> list[RankedEntity]:
    """The ``limit`` best candidates for the terms. A term in the name scores 3, in an attribute
    2, and each insight mentioning a term 1 (at most 3 per term); with terms, candidates
    matching none are left out. Ties keep the input order. ``highlights`` are up to three
    insights that mention a term. Pure and deterministic."""
    folded_terms = [t.casefold() for t in terms if t.strip()]
    ranked: list[tuple[float, int, RankedEntity]] = []
    for index, (entity_id, name, attributes, insights) in enumerate(candidates):
        score = 0.0
        reasons: list[str] = []
        highlights: list[str] = []
        for term in folded_terms:
            if term in name.casefold():
                score += 3
                reasons.append(f"'{term}' in the name")
            fields = [slug.replace("_", " ") for slug, value in attributes.items()
                      if slug != "name" and term in render_value(value).casefold()]
            if fields:
                score += 2 * len(fields)
                reasons.append(f"matches '{term}' in {', '.join(fields)}")
            mentions = [i for i in insights if term in i.casefold()]
            if mentions:
                score += min(3, len(mentions))
                reasons.append(f"{len(mentions)} insight{'s' if len(mentions) > 1 else ''} mention '{term}'")
                highlights.extend(_snippet(i) for i in mentions if _snippet(i) not in highlights)
        if folded_terms and score == 0:
            continue
        reason = "; ".join(reasons) if reasons else "Matches the query's filter"
        ranked.append((score, index, RankedEntity(entity_id, reason[:1].upper() + reason[1:] + ".",
                                                  tuple(highlights[:3]), score)))
    ranked.sort(key=lambda item: (-item[0], item[1]))
    return [entity for _, _, entity in ranked[:max(0, limit)]]
