"""Signals in prose: each sentence is read against cue patterns of the seven insight types, and
every type whose cue matches yields a signal whose content is the sentence itself.

A cue is a regular expression with a weight (how plainly it states the type); a sentence's
confidence for a type is its strongest cue's weight, a little higher when several agree. Some
types also need company in the sentence: a date is a ``timeline`` only next to a business event
(a decision, a signature, a renewal), not next to a meeting, which is a ``next_step``. Patterns
that look like a cue but are not one (``would love to``, ``happy to help``, ``great to meet
you``) are removed from the sentence before matching.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from workers.intelligence.model import MAX_SIGNAL_CONTENT
from workers.intelligence.spans import Spans

_I = re.IGNORECASE
# Month names are matched case-sensitively ("may", "march" are also words) and not inside a
# hyphenated name ("Min-jun"); full day names in any case, abbreviations capitalized only.
_MONTHS: Final = (r"(?<![-\w])(?-i:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
                  r"|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)")
_DAYS: Final = r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|(?-i:Mon|Tue|Wed|Thu|Fri))"
_NEAR: Final = (
    rf"(?:{_DAYS}|tomorrow|today(?!['’]s)|tonight|EO[DW]|(?:this|next)\s+(?:week|{_DAYS}))"
)
_FAR: Final = (
    rf"(?:Q[1-4]|H[12]|FY\s?\d{{2,4}}|{_MONTHS}(?:\s+\d{{1,2}}(?:st|nd|rd|th)?)?|\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTHS}"
    rf"|mid-{_MONTHS}|(?:early|late)\s+{_MONTHS}|the\s+\d{{1,2}}(?:st|nd|rd|th)"
    rf"|\d{{4}}-\d{{2}}-\d{{2}}|\d{{1,2}}/\d{{1,2}}(?:/\d{{2,4}})?|EO[MQY]"
    rf"|(?:this|next|the\s+next|the\s+end\s+of(?:\s+the)?|end\s+of(?:\s+the)?|the\s+new|a\s+few)\s+"
    rf"(?:fiscal\s+year|billing\s+cycle|quarter|month|year|weeks|months|sprint|{_MONTHS})"
    rf"|end\s+of\s+(?:{_MONTHS}|Q[1-4])|(?:two|three|four|a\s+couple\s+of)\s+(?:more\s+)?weeks"
    rf"|within\s+\d+\s+(?:business\s+|working\s+)?(?:days|weeks|months))"
)
NEAR_TIME: Final = re.compile(rf"\b{_NEAR}\b", _I)
FAR_TIME: Final = re.compile(rf"\b{_FAR}\b", _I)
_DEADLINE_NEAR: Final = re.compile(rf"\b(?:by|before|until|no later than)\s+(?:the\s+end\s+of\s+)?{_NEAR}\b", _I)
_HORIZON: Final = re.compile(
    r"\b(?:(?:by|before|in|until|for|after|starting|start of|end of)\s+(?:the\s+)?(?:end\s+of\s+)?(?:Q[1-4]|H[12])"
    r"|next\s+(?:fiscal\s+)?(?:year|quarter)|(?:this|new|next)\s+fiscal\s+year|end\s+of\s+(?:the\s+)?quarter"
    r"|within\s+\d+\s+(?:business\s+|working\s+)?(?:days|weeks)|at\s+(?:the\s+|our\s+)?renewal)\b", _I)
_BUSINESS_EVENT: Final = re.compile(
    r"\b(?:decisions?|decide[ds]?|deciding|sign(?:s|ed|ing|ature)?|close[sd]?|closing|go(?:es)?[ -]live|launch\w*"
    r"|roll\s?out"
    r"|rollout|renew\w*|contract|deadline|due|expir\w+|valid until|budget|fiscal|purchase\w*|buy|start(?:s|ing)?"
    r"|kick[ -]?off|implement\w*|migrat\w*|pilot|trial|expan\w+|add\s+\d+\s+(?:seats|users|licenses)|fix(?:ed)?"
    r"|refund\w*|revisit|park(?:ed)?|pushed|slip\w*|delay\w*|cancel\w*|on hold|approv\w+|deploy\w*|rebuild\w*"
    r"|replac\w+|quote|proposal|go to tender|commit\w*|live|proof of concept|poc|ends?|assessment)\b", _I)
_DEADLINE_EVENT: Final = re.compile(
    r"\b(?:decisions?|decide[ds]?|sign(?:s|ed|ing)?|go(?:es)?[ -]live|launch\w*|renew\w*|due|expir\w+|start(?:s|ing)?"
    r"|kick[ -]?off|fix(?:ed)?|refund\w*|cancel\w*|deadline)\b", _I)
_CLAUSES: Final = re.compile(r"\s[—–]\s|;")


def states_timeline(sentence: str) -> bool:
    """Whether a sentence dates a business event: a horizon (``next quarter``, ``by Q3``) alone,
    a date or month next to an event (a decision, a renewal, a trial), or a near day (``Friday``,
    ``tomorrow``) that is a deadline (``by Friday``) or next to a hard event (a fix, a signature,
    a start). Dates next to meetings are next steps, not timelines. Judged per clause."""
    if _HORIZON.search(sentence):
        return True
    for clause in _CLAUSES.split(sentence):
        if FAR_TIME.search(clause) and _BUSINESS_EVENT.search(clause):
            return True
        if NEAR_TIME.search(clause) and (_DEADLINE_EVENT.search(clause) or (_DEADLINE_NEAR.search(clause)
                                         and _BUSINESS_EVENT.search(clause))):
            return True
    return False


@dataclass(frozen=True, slots=True)
class Cue:
    type: str
    pattern: re.Pattern[str]
    weight: float


def _cues(kind: str, weight: float, *patterns: str) -> list[Cue]:
    return [Cue(kind, re.compile(p, _I), weight) for p in patterns]


_NOT_CUES: Final = re.compile(
    r"\b(?:would|I'd|we'd|I would|we would)\s+love\b|\bhappy to\s+(?:help|run|share|chat|jump|answer|hop|set)\b"
    r"|\bgreat\s+(?:to\s+(?:meet|see|speak|chat|hear|connect|catch)|speaking|talking|chatting|meeting|catching)\b"
    r"|\bhope (?:you're|you are|all is) (?:well|good)\b|\bno further questions\b|\bclient demo\b"
    r"|[$€£]\s?\d[\d,.]*\s?(?:k|m|bn|million|billion)?\s+(?:Series\s+[A-F]|seed)\b|\bSeries\s+[A-F]\b", _I)

CUES: Final[tuple[Cue, ...]] = tuple([
    *_cues("buying_signal", 0.85,
           r"\b(?:book|schedule|see|request\w*|want\w*|get|arrange|set up|love|like|need)\b[^.]{0,25}\bdemo\b",
           r"\bready to (?:buy|sign|purchase|move forward|go ahead)\b", r"\bmove forward with\b",
           r"\bproceed with\b", r"\bclosed[- ]won\b", r"\bverbal (?:yes|commit\w*)\b",
           r"\bsigned (?:the |a )?(?:\d+-year )?(?:contract|deal|order form|agreement|po)\b",
           r"\b(?:approved|approve) the (?:purchase|deal|contract)\b", r"\bpurchase order\b",
           r"\bsend (?:over )?the (?:contract|order form)\b", r"\bcommit to the\b"),
    *_cues("buying_signal", 0.7,
           r"\bproduct demo\b", r"\bdemo (?:done|request\w*|went well)\b", r"\binterest(?:ed)? in\b",
           r"\bstrong interest\b",
           r"\b(?:send|share|need|needs|request\w*|asking|asked|want\w*|receive|get|discuss)\b[^.]{0,30}"
           r"\b(?:pricing|price list|quote|quotation|proposal)\b",
           r"\b(?:pricing|quote)\s+for\s+(?:our\s+)?\d+", r"\bformal quote\b",
           r"\b(?:offer|start\w*|want|request\w*|asked for|sign up for)\b[^.]{0,20}\btrial\b",
           r"\b\d+-day trial\b", r"\btrial workspace\b",
           r"\b(?:expand|expansion|roll ?out to|upgrade to|more seats)\b",
           r"\badd\s+\d+\s+(?:more\s+)?(?:seats|users|licenses)\b", r"\b\d+\s+(?:seats|licenses)\b",
           r"\b(?:looking for a|exploring tools|evaluating tools|finalists|shortlist\w*|need something to replace)\b",
           r"\bpilot\b[^.]{0,30}\b(?:move forward|start|want|roll)\b|\bmove forward with the pilot\b",
           r"\b(?:sandbox|rfp|request for proposal|intent to bid)\b", r"\bwould recommend\b|\bI'd recommend\b",
           r"\bearmarked for\b", r"\bgo live\b", r"\bbefore we commit\b",
           r"\boutgrow\w*\b", r"\bwants? something\b", r"\b(?:see|review|share)\b[^.]{0,15}\bcase stud(?:y|ies)\b",
           r"\b(?:proof of concept|PoC)\b", r"\brenewing\b",
           r"\b(?:add|adding) (?:the|an?) [\w-]+ (?:module|add-on|tier|plan)\b",
           r"\border form\b", r"\basked about the [\w-]+ (?:tier|plan|edition)\b",
           r"\blooking (?:at|for) (?:a |new )?(?:tool\w*|solution\w*|platform\w*|crm\w*|software|vendor\w*|options)\b",
           r"\bcomparing us\b", r"\breference customer\b", r"\brecommendation\b", r"\bexpansion candidates?\b",
           r"\bdo you (?:integrate|support|offer|have|provide)\b",
           r"\b(?:asked|asking|wants? to know) (?:if|whether) (?:we|you) (?:support|offer|have|integrate)\b",
           r"\bwhat would it cost\b|\bhow much (?:is|does|would)\b|\bwhat(?:'s| is) the (?:price|cost)\b",
           r"\bevaluating\b", r"\breplacing\b", r"\bsigned (?:the )?(?:msa|sow|dpa|nda|agreement)\b",
           r"(?-i:\bWON\b)|\bwe won\b|\bwon (?:the )?(?:deal|account|business)\b", r"\bdeciding factor\b"),
    *_cues("risk", 0.85,
           r"\b(?:churn\w*|cancel(?:l?ing|led|lation|s)?|terminat\w+|won't renew|not renew\w*)\b",
           r"\bat risk\b", r"\b(?:put|puts|putting)\b[^.]{0,20}\bon hold\b",
           r"\bswitch\w* to a competitor\b", r"\b(?:full |major )?outage\b", r"\bdown for\b|\bbeen down\b",
           r"\bdowngrade\b"),
    *_cues("risk", 0.7,
           r"\b(?:moving to|move to|switching to|side-by-side with|considering switching)\b",
           r"\bcompetitor\b", r"\bescalat\w+\b", r"\bthreat\w*\b", r"\brisk of\b",
           r"\b(?:failing|keeps breaking|broken)\b", r"\bslip\w*\b", r"\bpushed (?:back |out )?(?:to|until|into)\b",
           r"\bdelay\w*\b",
           r"\b(?:usage|logins|adoption|activity)\b[^.]{0,40}\b(?:dropped|declin\w+|decreas\w+|down)\b",
           r"\bon (?:parental |medical |maternity |paternity )?leave\b", r"\bnew sponsor\b", r"\bleft the company\b",
           r"\bsecurity concerns?\b|\bbreach\b", r"\bdispute\b", r"\b(?:go to )?tender\b", r"\breview the renewal\b",
           r"\bhiring freeze\b", r"\bconsolidate vendors\b",
           r"\bcomparing us (?:against|with|to)\b",
           r"\b(?:look|looking) at (?:other|alternative) (?:tools|vendors|options|solutions)\b",
           r"\balternatives?\b", r"\blost\b[^.]{0,40}\bto\b", r"\bwill not sign\b|\bwon't sign\b", r"\bblocking\b",
           r"\bhas(?:n't| not) logged in\b|\bno logins?\b",
           r"\b(?:didn't|did not|doesn't|does not) (?:respond|reply)\b",
           r"\bunresponsive\b|\bgone (?:dark|quiet)\b", r"\bprice increase\b", r"\bnot acceptable\b",
           r"\bflood\w*\b|\bdata loss\b|\bincident\b", r"\bhold(?:ing)? off\b", r"\breallocat\w+\b",
           r"\bswitching\b", r"\bmissed\b[^.]{0,30}\b(?:delivery|deadline|sla|notifications?)\b"),
    *_cues("objection", 0.8,
           r"\btoo (?:expensive|pricey|costly)\b", r"\b(?:a bit |too )?steep\b",
           r"\bpushed back\b[^.]{0,20}\b(?:price|pricing|cost)\b", r"\bnot a priority\b", r"\bnot the right time\b",
           r"\bno budget\b", r"\balready (?:use|using|have|work with)\b", r"\bjust renewed with\b",
           r"\b(?:main|biggest|only) (?:issue|blocker|concern|problem|objection)\b", r"\bblocker\b",
           r"\b(?:the )?one thing stopping\b", r"\bwon't approve\b", r"\bdeal[- ]?breaker\b", r"\bnot acceptable\b",
           r"\btoo (?:basic|limited|complex|complicated|slow)\b",
           r"\bwill not sign unless\b|\bunless\b[^.]{0,40}\b(?:kept|match|lower)",
           r"\bblocking our\b", r"\bbudget (?:was |has been |got )?(?:reallocated|cut|frozen|slashed)\b"),
    *_cues("objection", 0.7,
           r"\bconcerns? (?:about|over|with|regarding)\b", r"\b(?:raised|has|have) concerns\b", r"\bworried about\b",
           r"\bhesitant\b|\bskeptical\b", r"\bwants? a \d+% discount\b", r"\bneeds? SOC ?2\b",
           r"\b(?:price|pricing|cost) is (?:the |an |a )?(?:main |big )?(?:issue|problem|concern)\b",
           r"\b(?:price|pricing|cost|rate)\b[^.]{0,30}\b(?:higher|too high|more expensive|increase)\b",
           r"^concern:", r"\bneeds? an? [\w-]+ option\b"),
    *_cues("timeline", 0.7, r"\bvalid until\b", r"\bexpected close\b", r"\bdecision expected\b",
           r"\bbudget cycle closes\b", r"\bresponses are due\b", r"\brenews on\b"),
    *_cues("budget", 0.85,
           r"(?:[$€£¥]|R\$|US\$)\s?\d[\d,.]*\s?(?:k|m|bn|million|thousand)?\b",
           r"\b\d[\d,.]{0,20}\s?(?:k|m)?\s?(?:USD|EUR|GBP|dollars|euros|pounds)\b",  # bounded: see _SENTENCE_END
           r"\bbudget (?:approved|of|for|is|sign-off)\b|\bapproved budget\b|\bno budget\b", r"\bearmarked\b"),
    *_cues("budget", 0.7, r"\bbudget\b", r"\bapproved spend\b", r"\bfunding\b"),
    *_cues("sentiment", 0.8,
           r"\blov(?:e|es|ed|ing)\b", r"\b(?:fantastic|amazing|excellent|awesome|outstanding|superb|brilliant)\b",
           r"\b(?:thrilled|delighted|impressed|excited)\b", r"\bexceeded (?:our )?expectations\b",
           r"\bnever looked back\b", r"\b(?:very |really |so )?happy with\b", r"\bgame[- ]changer\b",
           r"\bfrustrat\w+\b", r"\bdisappoint\w+\b", r"\b(?:unhappy|furious|angry|upset|annoyed|fed up)\b",
           r"\b(?:terrible|awful|horrible|unacceptable)\b", r"\bconfusing\b", r"\bpainful\b", r"\bhate\b"),
    *_cues("sentiment", 0.6, r"\bsaves? (?:us )?hours\b", r"\bgreat (?:product|tool|support|experience|job)\b",
           r"\bbest [\w-]+ (?:we've|I've|we have|I have) (?:ever )?used\b",
           r"\b(?:is|are|was|were|been|looks?|seems?) (?:really |so |very |just )?(?:great|wonderful|perfect"
           r"|useless|bad)\b",
           r"\bnot acceptable\b|\bunacceptable\b",
           r"\b(?:clunky|buggy|unreliable|sluggish|intuitive|easy to use|a pleasure)\b", r"\bslow\b"),
    *_cues("next_step", 0.8,
           r"\b(?:follow(?:-| )?up|check back|circle back|touch base|revisit|reconnect)\b",
           r"\b(?:schedule|book|set up|arrange)\b[^.]{0,25}\b(?:call|meeting|follow-up|deep-dive|session|onsite"
           r"|workshop|time|check-in)\b",
           r"\blet's (?:meet|talk|chat|schedule|catch up|revisit|reconnect|plan|connect|set up|review)\b",
           r"\bnext steps?\b|\baction items?\b|\bnext (?:sync|call|meeting|check-in)\b",
           r"\b(?:I'll|I will|we'll|we will|will) send\b|\bsend (?:over|you|the|our|a|revised|security)\b",
           r"\b(?:I'll|we'll|will) share\b",
           r"(?-i:^(?!(?:Happy|Glad|Keen|Ready|Able|Sorry|Nice|Great|Good|Time|Need|Want|Going|Have)\b)"
           r"[A-Z][a-z]+(?<!ed) to (?:send|share|schedule|book|follow up|review|prepare|draft|call|set up"
           r"|introduce))\b",
           r"\bneed to (?:get|send|prepare|schedule|book|follow up|share)\b",
           r"\bcall (?:back|again)\b|\btry again\b",
           r"\bplease (?:confirm|send|share|review|sign|provide|let us know|check back)\b",
           r"\bplease (?:complete|fill|return)\b", r"\blet's do\b", r"\brun (?:it|this) by\b",
           r"\bsend (?:it|them|this) over\b",
           r"\blooking forward to (?:the|our) (?:kick-?off|call|meeting|demo|session)\b", r"\bI'll bring\b",
           r"\b(?:invitation|new event):", r"\bloop in\b", r"\bgoing out\b", r"\bwill reach out\b",
           r"\bcall me\b", r"\b(?:can|could) you (?:please )?(?:send|share|call|set up|schedule|confirm)\b",
           r"^next:", r"\bwalk (?:you|your team|them) through\b"),
    *_cues("next_step", 0.6,
           r"\b(?:'d like|would like|wants?|needs?) (?:a|an) (?:[\w-]+ )?(?:call|meeting|chat)\b",
           r"\b(?:push|move|reschedule)\w* (?:our|the) (?:call|meeting|check-in|demo)\b",
           r"\b(?:demo|call|meeting|sync|check-in)\b[^.]{0,15}\b(?:next week|tomorrow|next " + _DAYS + r")\b",
           r"\bneeds? the \w+ signed\b", r"\bprovide an? \w+ today\b"),
])


@dataclass(frozen=True, slots=True)
class Sentence:
    text: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class SentenceSignal:
    """A signal type found in one sentence, with its confidence and the sentence's span."""

    type: str
    content: str
    confidence: float
    start: int
    end: int


# Sentences come from tenants' text: no pattern here may rescan a run of blanks or digits from each
# of its characters (quadratic: a line of 16,000 spaces took seconds). A run is entered only at its
# first character ((?<!\s)), which finds the same matches, or its length is bounded.
_SENTENCE_END: Final = re.compile(r"(?<=[.!?])[\"”')\]]?\s+(?=[\"“(\[]?[A-Z0-9@#])|(?<!\s)\s+[—–]\s+(?=[A-Z])"
                                  r"|(?<=:)\s+(?=\d+\)\s)")


def split_sentences(text: str, skip: list[tuple[int, int]]) -> list[Sentence]:
    """Sentences of the prose: each line is split at sentence ends; lines inside ``skip`` spans
    (headers, signatures) are left out; quote markers and list bullets are removed."""
    sentences: list[Sentence] = []
    skipped = Spans(skip)
    for line in re.finditer(r"(?m)^.*$", text):
        if not line.group(0).strip() or skipped.holds(line.start()):
            continue
        cursor = line.start()
        pieces = _SENTENCE_END.split(line.group(0))
        for piece in pieces:
            position = text.find(piece, cursor)
            cursor = position + len(piece)
            cleaned = re.sub(r"^[\s>*•·\-–—]*(?:\d+[.)]\s+)?", "", piece).strip()
            if len(cleaned) >= 3 and any(c.isalpha() for c in cleaned):
                sentences.append(Sentence(cleaned, position, position + len(piece)))
    return sentences


def summarize_sentence(sentence: str) -> str:
    """The content of a signal: the sentence with spaces collapsed, cut at a word boundary to at
    most ``MAX_SIGNAL_CONTENT`` characters."""
    text = re.sub(r"\s+", " ", sentence).strip()
    if len(text) <= MAX_SIGNAL_CONTENT:
        return text
    cut = text[:MAX_SIGNAL_CONTENT - 1].rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:") + "…"


def classify_sentence(sentence: str) -> dict[str, float]:
    """The signal types a sentence states, each with a confidence in (0, 1]. Pure."""
    masked = _NOT_CUES.sub(lambda m: "#" * len(m.group(0)), sentence)
    scores: dict[str, list[float]] = {}
    for cue in CUES:
        if cue.pattern.search(masked):
            scores.setdefault(cue.type, []).append(cue.weight)
    if states_timeline(masked):
        scores.setdefault("timeline", []).append(0.75)
    return {kind: round(min(0.95, max(weights) + 0.05 * (len(weights) - 1)), 2)
            for kind, weights in scores.items()}


def find_signals(text: str, skip: list[tuple[int, int]]) -> list[SentenceSignal]:
    """Every (sentence, type) signal of the prose, in text order; a type found in several
    sentences gives several signals."""
    found: list[SentenceSignal] = []
    for sentence in split_sentences(text, skip):
        for kind, confidence in sorted(classify_sentence(sentence.text).items()):
            found.append(SentenceSignal(kind, summarize_sentence(sentence.text), confidence,
                                        sentence.start, sentence.end))
    return found
