"""Reading a custom notification rule (``tell me when a customer mentions switching to a
competitor``) into a matcher, and matching sentences against it. Pure and deterministic.

The description is read with the AI-list interpreter's vocabulary (``question.STOP_WORDS``,
``list_interpreter.INDUSTRIES`` and its noise words): lead-ins (``tell me when``, ``notify me
if``) and the mention verb are dropped; the subject (``a customer``, ``a contact``) gives the
object type; ``risks`` / ``buying signals`` / ``objections`` / ``next steps`` give insight types;
each concept of ``CONCEPTS`` whose cue appears gives that concept, matched in text through its
paraphrase patterns; what is left are key words (all of them must appear when no concept was
read). The worker also compares each sentence's embedding with the rule's phrase
(``workers/notification_matching.py``): that catches paraphrases the patterns miss.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from workers.intelligence.list_interpreter import INDUSTRIES
from workers.intelligence.question import STOP_WORDS

_I = re.IGNORECASE
_VENDORS: Final = (r"(?:Salesforce|HubSpot|Hubspot|Attio|Pipedrive|Zoho|Dynamics|Freshsales|Copper|Close\.com|Affinity"
                   r"|Monday\.com|Folk|Clay|Outreach|Gong|Intercom|Zendesk)")
_TARGET: Final = r"(?-i:[A-Z][\w.&-]+)"
"""A capitalized name after ``to`` (``move to Salesforce``)."""
_NOT_TARGETS: Final = re.compile(r"^(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|January|February"
                                 r"|March|April|May|June|July|August|September|October|November|December|Q[1-4]|I)$")


@dataclass(frozen=True, slots=True)
class Concept:
    """Something a rule may ask about: ``cue`` finds it in a description, ``patterns`` in text
    (any one matches); ``label`` says it in plain English."""

    name: str
    label: str
    cue: re.Pattern[str]
    patterns: tuple[re.Pattern[str], ...]


def _concept(name: str, label: str, cue: str, *patterns: str) -> Concept:
    return Concept(name, label, re.compile(cue, _I), tuple(re.compile(p, _I) for p in patterns))


CONCEPTS: Final[tuple[Concept, ...]] = (
    _concept(
        "competitor_switch", "switching to a competitor",
        r"\b(?:competitors?|competition|rivals?|alternatives?|another (?:vendor|provider|tool|solution|crm)"
        r"|other (?:vendors?|providers?|tools?|solutions?))\b",
        r"\bcompetitors?\b|\bcompetition\b|\brival (?:vendor|product|tool)s?\b",
        rf"\b(?:switch\w*|migrat\w*|transition\w*|defect\w*)\s+(?:over\s+)?(?:to|towards)\s+(?:\w+\s+){{0,2}}{_TARGET}",
        rf"\b(?:evaluat\w+|consider\w*|plan\w*|think\w*|explor\w+|look\w*|decid\w+|talk\w*)\b[^.]{{0,40}}"
        rf"\b(?:move|moving|migration|switch)\s+(?:over\s+)?to\s+{_TARGET}",
        r"\b(?:evaluat\w+|consider\w*|look\w*\s+(?:at|into)|explor\w+|trial\w*|pilot\w*|test\w*|compar\w+|review\w*)"
        r"\s+(?:a\s+|some\s+)?(?:other|alternative|different|another|competing|cheaper)\s+(?:vendors?|providers?"
        r"|tools?|solutions?|platforms?|options?|crms?|products?|systems?)\b",
        r"\breplac\w+\s+(?:us|you|our (?:product|platform|tool|solution))\b",
        rf"\b(?:go(?:ing)?|went|sign(?:ed|ing)?|chose|choos\w+|pick\w*)\s+with\s+{_TARGET}[^.]{{0,30}}\binstead\b",
        r"\bleav\w*\s+(?:us|you)\s+for\b", r"\btak\w+\s+(?:their|our|its|the)\s+business\s+elsewhere\b",
        rf"\b(?:switch\w*|mov\w+|migrat\w*|replac\w+|evaluat\w+|consider\w*|trial\w*|pilot\w*)\b[^.]{{0,60}}"
        rf"\b{_VENDORS}\b",
        rf"\b{_VENDORS}\b[^.]{{0,60}}\b(?:instead|replace\w*|switch\w*|migrat\w*|cheaper|better offer)\b",
    ),
    _concept(
        "churn", "cancelling or not renewing",
        r"\b(?:churn\w*|cancel\w*|not renew\w*|won't renew|terminat\w+|leav(?:e|ing) us|stop using)\b",
        r"\b(?:churn\w*|cancel(?:l?ing|led|lation|s)?|terminat\w+|won't renew|will not renew|not (?:going to )?renew\w*"
        r"|stop using|end (?:the|our) (?:contract|subscription))\b",
    ),
    _concept(
        "pricing", "pricing or budget concerns",
        r"\b(?:pric\w+|discount\w*|cost\w*|expensive|budget\w*|too much money)\b",
        r"\b(?:pric\w+|discount\w*|cost\w*|expensive|budget\w*|cheaper|afford\w*|overpriced)\b",
    ),
    _concept(
        "security", "security or compliance reviews",
        r"\b(?:security|soc ?2|compliance|gdpr|hipaa|iso ?27001|pen(?:etration)? test\w*|dpa)\b",
        r"\b(?:security (?:review|questionnaire|concerns?|team|assessment)|soc ?2|compliance|gdpr|hipaa|iso ?27001"
        r"|pen(?:etration)? test\w*|dpa|data processing agreement|infosec)\b",
    ),
    _concept(
        "renewal", "renewals",
        r"\brenew\w*\b",
        r"\brenew\w*\b",
    ),
    _concept(
        "expansion", "expansion or upsell",
        r"\b(?:expan\w+|upsell\w*|upgrad\w+|more seats|add(?:ing)? seats)\b",
        r"\b(?:expan\w+|upsell\w*|upgrad\w+|more (?:seats|licenses|users)|add(?:ing)?\s+\d*\s*(?:more\s+)?"
        r"(?:seats|licenses|users)|roll(?:ing)? ?out to)\b",
    ),
    _concept(
        "demo", "demo requests",
        r"\bdemos?\b",
        r"\bdemos?\b|\bwalk ?through\b",
    ),
    _concept(
        "outage", "outages or product problems",
        r"\b(?:outages?|downtime|bugs?|incidents?|broken|crash\w*)\b",
        r"\b(?:outages?|downtime|bugs?|incidents?|broken|crash\w*|been down|is down|went down|keeps failing"
        r"|not working|error rates?)\b",
    ),
    _concept(
        "champion_change", "a champion or sponsor leaving",
        r"\b(?:champion|sponsor|left the company|leaves? the company|leaving the company|new (?:cto|ceo|vp|head))\b",
        r"\b(?:left the company|leav\w+ the company|resign\w*|new (?:sponsor|champion|cto|ceo|cfo|vp|head of)"
        r"|replaced by|parental leave|no longer (?:with|at))\b",
    ),
    _concept(
        "contract", "contracts and legal",
        r"\b(?:contracts?|legal|redlines?|msa|terms)\b",
        r"\b(?:contracts?|legal|redlin\w+|msa|sow|order form|terms and conditions|signature)\b",
    ),
    _concept(
        "complaint", "complaints or frustration",
        r"\b(?:complain\w*|unhappy|frustrat\w+|angry|dissatisf\w+|upset)\b",
        r"\b(?:complain\w*|unhappy|frustrat\w+|angry|dissatisf\w+|upset|disappoint\w+|not happy|fed up)\b",
    ),
)
INSIGHT_TYPE_CUES: Final = (
    ("risk", re.compile(r"\brisks?\b|\bat[- ]risk\b", _I)),
    ("buying_signal", re.compile(r"\bbuying signals?\b|\bpurchase intent\b|\bready to buy\b", _I)),
    ("objection", re.compile(r"\bobjections?\b", _I)),
    ("next_step", re.compile(r"\bnext steps?\b|\bfollow[- ]ups?\b", _I)),
    ("timeline", re.compile(r"\btimelines?\b|\bdeadlines?\b", _I)),
    ("sentiment", re.compile(r"\bsentiment\b", _I)),
)
_LEAD_IN: Final = re.compile(
    r"^\s*(?:please\s+)?(?:(?:tell|notify|alert|ping|warn|inform|show)\s+(?:me|us)|let\s+(?:me|us)\s+know"
    r"|i\s+(?:want|would like|'d like)\s+to\s+(?:know|be (?:notified|told|alerted))|send\s+(?:me\s+)?an?\s+alert"
    r"|notifications?|alerts?)?\s*(?:when(?:ever)?|if|as soon as|any ?time|about|of|on|for)?\s*", _I)
_SUBJECTS: Final = (
    ("company", re.compile(r"\b(?:customers?|clients?|accounts?|compan(?:y|ies)|prospects?|leads?|organi[sz]ations?"
                           r"|vendors?|partners?)\b", _I)),
    ("person", re.compile(r"\b(?:contacts?|persons?|people|champions?|buyers?|decision[- ]makers?|ctos?|ceos?|cfos?"
                          r"|vps?|executives?|stakeholders?)\b", _I)),
)
_MENTION: Final = re.compile(
    r"\b(?:mention\w*|say\w*|said|talk\w*\s+about|rais\w+|ask\w*\s+about|brings?\s+up|brought\s+up|discuss\w*"
    r"|complain\w*\s+about|tell\w*\s+us|writes?|wrote|emails?|is|are|gets?|goes|becomes?|has|have|any|new)\b", _I)
_NOISE: Final = frozenset({
    "customer", "customers", "client", "clients", "account", "accounts", "company", "companies", "prospect",
    "prospects", "lead", "leads", "contact", "contacts", "person", "people", "someone", "somebody", "anyone",
    "anybody", "stuff", "important", "happens", "happen", "happened", "changes", "change", "update", "updates",
    "news", "notify", "notification", "notifications", "alert", "alerts", "me", "mentions", "mention",
    "mentioned", "says", "said", "talks", "talk", "about", "raises", "asks", "asked", "brings", "brought",
    "discusses", "record", "records", "one", "ones", "time", "times", "whenever", "soon", "possible", "kind",
    "sort", "type", "types", "come", "comes", "coming", "arise", "arises", "appear", "appears", "show", "shows",
    "occur", "occurs", "mail", "email", "emails", "message", "messages", "call", "calls", "meeting",
})
_WORD: Final = re.compile(r"[^\W_][\w'’-]*")
_STAGE: Final = re.compile(r"\b(?:stage|status|pipeline|deal stage|lifecycle)\b", _I)


def _core_phrase(description: str) -> str:
    text = " ".join(description.split()).strip(" .!?")
    return _LEAD_IN.sub("", text, count=1).strip() or text


def interpret_rule(description: str) -> tuple[dict[str, object] | None, str, str]:
    """The matcher of a rule's description, a name for the rule and an explanation; the matcher
    is None when the description names nothing to look for (the explanation then says why).

    Matcher: ``phrase`` (the description without its lead-in, compared by embedding),
    ``concepts`` (names in ``CONCEPTS``), ``keywords`` (all must appear when there is no concept),
    ``insight_types``, ``object_type`` (``company`` / ``person`` / None), ``industries`` (words the
    matched records' attributes should contain), ``stage_change`` (record stage changes count),
    ``explanation``."""
    phrase = _core_phrase(description)
    concepts = [c for c in CONCEPTS if c.cue.search(phrase)]
    insight_types = [kind for kind, cue in INSIGHT_TYPE_CUES if cue.search(phrase)]
    object_type = next((kind for kind, pattern in _SUBJECTS if pattern.search(phrase)), None)
    stage_change = bool(_STAGE.search(phrase)) and bool(re.search(r"\bchang\w+|\bmov\w+|\bbecomes?\b", phrase, _I))
    rest = phrase
    for concept in concepts:
        rest = concept.cue.sub(" ", rest)
    industries = [i for i in INDUSTRIES if re.search(rf"(?<![\w-]){re.escape(i)}(?![\w-])", rest, _I)]
    for _, cue in INSIGHT_TYPE_CUES:
        rest = cue.sub(" ", rest)
    for _, pattern in _SUBJECTS:
        rest = pattern.sub(" ", rest)
    for industry in industries:
        rest = re.sub(rf"(?<![\w-]){re.escape(industry)}(?![\w-])", " ", rest, flags=_I)
    rest = _MENTION.sub(" ", rest)
    if stage_change:
        rest = _STAGE.sub(" ", rest)
    keywords: list[str] = []
    for word in _WORD.findall(rest):
        folded = word.casefold().strip("'’")
        if len(folded) >= 3 and folded not in STOP_WORDS and folded not in _NOISE and folded not in keywords \
                and any(ch.isalpha() for ch in folded):
            if concepts and folded in {"switch", "switching", "move", "moving", "migrate", "migrating", "changing",
                                       "switches", "replacing", "replace"}:
                continue  # part of the concept's wording
            keywords.append(folded)
    keywords = keywords[:8]
    name = phrase[:1].upper() + phrase[1:]
    if not (concepts or insight_types or keywords or stage_change):
        return None, name, ("it names nothing to look for; say what a text or a record change should mention, "
                            "e.g. 'tell me when a customer mentions switching to a competitor'")
    parts = [f"mentions of {c.label}" for c in concepts]
    if insight_types:
        parts.append("insights of type " + ", ".join(insight_types))
    if stage_change:
        parts.append("stage or status changes")
    if keywords and not concepts:
        parts.append("texts mentioning " + " and ".join(repr(k) for k in keywords))
    explanation = "Matches " + "; ".join(parts)
    if object_type:
        explanation += f" about a {object_type}"
    if industries:
        explanation += f" in {', '.join(industries)}"
    explanation += (", and texts whose meaning is close to " + repr(phrase) if concepts or keywords else "") + "."
    matcher: dict[str, object] = {
        "phrase": phrase, "concepts": [c.name for c in concepts], "keywords": keywords,
        "insight_types": insight_types, "object_type": object_type, "industries": industries,
        "stage_change": stage_change, "explanation": explanation}
    return matcher, name, explanation


_CONCEPTS_BY_NAME: Final = {c.name: c for c in CONCEPTS}


def _stem(word: str) -> str:
    return word[:max(4, len(word) - 3)] if len(word) > 5 else word


def match_text(matcher: Mapping[str, object], text: str) -> str | None:
    """Why ``text`` matches the matcher's words (a concept's label, or its key words), or None.
    The embedding comparison is the worker's (it needs the model)."""
    names = matcher.get("concepts")
    for name in names if isinstance(names, list) else []:
        concept = _CONCEPTS_BY_NAME.get(str(name))
        if concept is None:
            continue
        for pattern in concept.patterns:
            found = pattern.search(text)
            if found is None:
                continue
            target = re.search(rf"\bto\s+({_TARGET})", found.group(0))
            if target is not None and _NOT_TARGETS.match(target.group(1)):
                continue
            return f"mentions {concept.label}"
    keywords = matcher.get("keywords")
    if names or not isinstance(keywords, list) or not keywords:
        return None
    folded = text.casefold()
    words = set(_WORD.findall(folded))
    if all(any(w.startswith(_stem(str(k))) for w in words) for k in keywords):
        return "mentions " + " and ".join(repr(str(k)) for k in keywords)
    return None


def wants_type(matcher: Mapping[str, object], insight_type: str) -> bool:
    types = matcher.get("insight_types")
    return not types or (isinstance(types, list) and insight_type in types)


def needs_words(matcher: Mapping[str, object]) -> bool:
    """Whether text must match words or meaning (else an insight of a wanted type is enough)."""
    return bool(matcher.get("concepts") or matcher.get("keywords"))


def object_type_ok(matcher: Mapping[str, object], object_slugs: Sequence[str]) -> bool:
    """A rule naming an object type wants a source about one of that type: ``company`` (a
    customer, an account) is satisfied by a company or by a person (someone at the customer speaks
    for it), ``person`` by a person. A source that names no record at all is not excluded (the
    text may be about a customer extraction did not find)."""
    wanted = matcher.get("object_type")
    if not wanted or not object_slugs:
        return True
    accepted = {"company", "person"} if wanted == "company" else {str(wanted)}
    return bool(accepted & set(object_slugs))
