"""What a natural-language question names, so the API can look the entities up: domains,
e-mail addresses, capitalized names (people or companies) and the remaining keywords.

``What's the status with techflow.io?`` -> domain ``techflow.io``, keyword ``status``;
``Compare engagement levels of Acme Corp and TechFlow`` -> names ``Acme Corp``, ``TechFlow``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from workers.intelligence.identifiers import find_domains, find_emails
from workers.intelligence.spans import Spans

STOP_WORDS: Final = frozenset({
    "a", "an", "the", "and", "or", "but", "of", "to", "in", "on", "at", "for", "with", "about", "from", "by",
    "is", "are", "was", "were", "be", "been", "being", "am", "do", "does", "did", "done", "have", "has", "had",
    "what", "what's", "whats", "which", "who", "whom", "whose", "when", "where", "why", "how", "that", "this",
    "these", "those", "there", "here", "it", "its", "it's", "they", "them", "their", "we", "us", "our", "you",
    "your", "i", "me", "my", "he", "she", "his", "her", "any", "all", "some", "each", "every", "most", "more",
    "much", "many", "few", "can", "could", "should", "would", "will", "shall", "may", "might", "must", "tell",
    "show", "give", "find", "list", "get", "let", "know", "please", "summarize", "summarise", "compare",
    "between", "than", "then", "so", "if", "not", "no", "yes", "just", "also", "very", "into", "over", "under",
    "up", "down", "out", "as", "like", "latest", "recent", "recently", "anything", "everything", "something",
    "going", "happening", "thing", "things", "lately", "now", "currently", "whether", "s",
})
_QUESTION_OPENERS: Final = frozenset({
    "what", "what's", "which", "who", "how", "when", "where", "why", "is", "are", "did", "does", "do", "can",
    "could", "should", "would", "will", "tell", "show", "give", "list", "find", "summarize", "summarise",
    "compare", "any", "has", "have", "was", "were", "please", "describe", "explain", "get", "let",
})
_CAPITALIZED: Final = re.compile(
    r"(?<![\w@.])((?:[A-Z][\w'’&.-]*[\w])(?:\s+(?:&\s+)?(?:[A-Z][\w'’&.-]*[\w]|of|de|van|von))*(?:\s+[A-Z][\w'’&.-]*[\w])?)"
)
_WORD: Final = re.compile(r"[^\W\d_][\w'’-]*")


@dataclass(frozen=True, slots=True)
class QuestionTerms:
    domains: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    names: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not (self.domains or self.emails or self.names or self.keywords)

    def describe(self) -> str:
        """The terms as a reader would list them: ``"techflow.io", "Sarah Chen" and "renewal"``."""
        quoted = [f'"{t}"' for t in (*self.emails, *self.domains, *self.names, *self.keywords)]
        if not quoted:
            return "no specific terms"
        return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


def resolve_question_terms(question: str) -> QuestionTerms:
    """The domains, addresses, names and keywords of a question, each in order of appearance and
    without repeats. A capitalized word that only opens the sentence (``What``, ``Compare``) is
    not a name; possessives are dropped (``Acme's`` -> ``Acme``). Pure."""
    emails = find_emails(question)
    domains = [d for d in find_domains(question, [(e.start, e.end) for e in emails])]
    taken = [(e.start, e.end) for e in emails] + [(d.start, d.end) for d in domains]
    names: list[str] = []
    identifiers = Spans(taken)  # the names' own spans end before the next match starts
    for match in _CAPITALIZED.finditer(question):
        if identifiers.holds(match.start()):
            continue
        words = match.group(1).split()
        while words and words[0].casefold().strip("'’") in _QUESTION_OPENERS | STOP_WORDS:
            words.pop(0)
        while words and words[-1].casefold() in ("of", "de", "van", "von", "&"):
            words.pop()
        name = re.sub(r"['’]s$", "", " ".join(words)).rstrip(".")
        if name and name.casefold() not in STOP_WORDS and name not in names:
            names.append(name)
            taken.append((match.start(), match.end()))
    keywords: list[str] = []
    named = Spans(taken)
    for match in _WORD.finditer(question):
        if named.holds(match.start()):
            continue
        word = re.sub(r"['’]s$", "", match.group(0).casefold())
        if len(word) >= 3 and word not in STOP_WORDS and word not in keywords:
            keywords.append(word)
    return QuestionTerms(
        domains=tuple(dict.fromkeys(d.value for d in domains)),
        emails=tuple(e.value for e in emails),
        names=tuple(names),
        keywords=tuple(keywords),
    )
