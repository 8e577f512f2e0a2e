"""Ranking remembered passages for a question (pure; the vectors come from ``embedding``).

Order: meaning (cosine of the question's and the passage's vectors), plus a little for a
passage that mentions an entity the question names and for recency. The question's own words
are not a signal: they helped direct questions, which meaning already finds, and hurt
paraphrases (measured, docs/intelligence.md).

Answering (``evidence``): of the first ``EVIDENCE_DEPTH`` passages, the first that passes the
evidence checks leads; if none does, memory holds no answer and ask says so.

Knowledge updates: a passage close to the lead in score, from another source, on the same thing
(their vectors agree, and the newer one words a change, or they agree closely) and passing the
same checks competes with it; the newest of them leads and the older ones go with it
(``replaces``), so the answer says what changed.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Final

import numpy as np

from tessera.context.memory import MemoryItem, sentence_spans
from workers.memory.embedding import Embedder
from workers.memory.evidence import (
    RESIDUAL_AT_LEAST,
    expected_answer_type,
    holds_answer_type,
    mentions_all,
    without_names,
)

STOP: Final = frozenset((
    "a", "about", "after", "again", "all", "also", "although", "am", "an", "and", "any", "are", "as", "at", "be",
    "because", "been", "before", "being", "between", "both", "but", "by", "can", "could", "did", "do", "does",
    "doing", "done", "down", "during", "each", "either", "every", "few", "for", "from", "had", "has", "have",
    "having", "he", "her", "here", "hers", "him", "his", "how", "i", "if", "in", "into", "is", "it", "its", "just",
    "many", "may", "me", "might", "mine", "more", "most", "much", "must", "my", "myself", "neither", "no", "nor",
    "not", "now", "of", "off", "on", "once", "only", "onto", "or", "other", "ought", "our", "ours", "out", "over",
    "own", "same", "shall", "she", "should", "so", "some", "still", "such", "than", "that", "the", "their",
    "theirs", "them", "then", "there", "these", "they", "this", "those", "though", "through", "to", "too", "under",
    "unless", "until", "up", "us", "very", "was", "we", "were", "what", "when", "where", "whether", "which",
    "while", "who", "whom", "whose", "why", "will", "with", "within", "without", "would", "yet", "you", "your",
    "yours", "tell", "know", "remember", "anything", "something", "please", "currently", "days", "right",
))
_WORD = re.compile(r"[^\W_]+(?:['’][^\W\d_]+)?")
_SUFFIXES: Final = ("ations", "ation", "ings", "ing", "ies", "ied", "ers", "er", "ed", "es", "s", "ly")

W_MEANING: Final = 1.0
W_ENTITY: Final = 0.05
W_RECENCY: Final = 0.01
W_TERMS: Final = 0.1
"""For the question's identifiers (``Vendor17``, ``B-KT 4821``): meaning barely tells them apart."""
EVIDENCE_DEPTH: Final = 3
UPDATE_DEPTH: Final = 6
CLOSE_TO_BEST: Final = 0.6
"""A passage competes with the lead (as an update of it, or it of them) from this share of its score."""
SAME_TOPIC: Final = 0.45
"""...when the two passages' vectors are this close and the newer one words a change (``CHANGE``),"""
SAME_TOPIC_ALONE: Final = 0.8
"""...or this close without one."""
CHANGE: Final = re.compile(
    r"\b(?:now|no longer|any more|anymore|instead|changed?|moved?|switch(?:ed)?|replac(?:ed|es)|overt[ao]ken|"
    r"updated?|new|latest|postponed|rescheduled|slipped|delayed|brought forward|pushed|left|joined|"
    r"promoted|became|from\s+\S+(?:\s+\S+)?\s+to|raised|lowered|cut|dropped|went up|went down|"
    r"renewed|renegotiated|cancelled|canceled|back (?:on|from))\b", re.IGNORECASE)
SENTENCE_WORDS: Final = 0.35
LEXICAL_MARGIN: Final = 0.5
"""A sentence wins on words and answer type alone when it leads the other by this much."""
BOTH_SENTENCES_AT: Final = 0.8
"""The lead passage is quoted whole when its weaker sentence scores this share of the stronger."""


def stem(word: str) -> str:
    word = word.casefold().replace("’", "'")
    word = word[:-2] if word.endswith("'s") else word
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def content_words(text: str) -> list[str]:
    """The stems of the words that carry meaning (stop words and one-letter words dropped)."""
    out = []
    for word in _WORD.findall(text):
        low = word.casefold()
        if low not in STOP and (len(low) >= 2 or low.isdigit()):
            out.append(stem(low))
    return out


def _covers(question_stem: str, stems: set[str]) -> bool:
    if question_stem in stems:
        return True
    if len(question_stem) >= 4:
        return any(len(s) >= 4 and (s.startswith(question_stem) or question_stem.startswith(s)) for s in stems)
    return False


def coverage(focus: Sequence[str], text: str) -> float:
    """The share of the question's content words (``focus``, stems) that ``text`` holds."""
    if not focus:
        return 0.0
    stems = set(content_words(text))
    return sum(1 for w in focus if _covers(w, stems)) / len(focus)


@dataclass(frozen=True, slots=True)
class Ranked:
    item: MemoryItem
    score: float
    meaning: float
    entity: bool
    sentence: str
    replaces: tuple[Ranked, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class Ranking:
    passages: tuple[Ranked, ...]
    confidence: float
    answerable: bool = False
    why_not: str = ""
    residual: float = 0.0
    """Meaning without the question's names, of the lead (or of the best passage when none answers)."""


_TERM: Final = re.compile(r"[^\W_]*\d[\w-]*|(?<=\w\s)[A-Z][\w-]*[A-Z0-9][\w-]*")


def key_terms(question: str) -> list[str]:
    """The question's identifiers, casefolded: words with a digit (``Vendor17``, ``Q3``) and
    mixed-case words past its first (``iPhone``, ``SKU-A``)."""
    return list(dict.fromkeys(m.group(0).casefold() for m in _TERM.finditer(question)))


def _sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in sentence_spans(text)] or [text]


def rank(question: str, question_vector: np.ndarray, candidates: Sequence[MemoryItem], embedder: Embedder, *,
         entity_ids: Sequence[int], entity_names: Sequence[str], required_names: Sequence[str] = (),
         limit: int = 8) -> Ranking:
    """Candidates ordered by relevance to ``question``, the sentence each contributes, and whether
    the best of them answers it: of the first ``EVIDENCE_DEPTH``, the first that passes the
    evidence checks leads; if none does, the question is not answerable from memory. A newer
    passage on the same thing then takes the lead and the older ones go with it (``replaces``)."""
    unique = list({c.id: c for c in candidates}.values())
    if not unique:
        return Ranking((), 0.0)
    named = [n.casefold() for n in entity_names]
    name_stems = {stem(w) for n in entity_names for w in _WORD.findall(n)}
    focus = [w for w in dict.fromkeys(content_words(question)) if w not in name_stems]
    matrix = embedder.vectors_of([c.content for c in unique], [c.vector for c in unique],
                                 [c.vector_model for c in unique])
    vectors = {c.id: v for c, v in zip(unique, matrix, strict=True)}
    wanted = set(entity_ids)
    newest = max(c.created_at for c in unique)
    terms = key_terms(question)
    scored: list[Ranked] = []
    for item, meaning in zip(unique, matrix @ question_vector, strict=True):
        text = item.content.casefold()
        entity = bool(wanted.intersection(item.entity_ids)) or any(n in text for n in named)
        age_days = max(0.0, (newest - item.created_at).total_seconds() / 86_400)
        recency = 1.0 / (1.0 + age_days / 30)
        exact = sum(1 for t in terms if re.search(rf"(?<!\w){re.escape(t)}(?!\w)", text)) / len(terms) if terms else 0.0
        score = W_MEANING * float(meaning) + W_ENTITY * entity + W_RECENCY * recency + W_TERMS * exact
        scored.append(Ranked(item, round(score, 4), round(float(meaning), 4), entity, ""))
    scored.sort(key=lambda r: (-r.score, -r.item.created_at.timestamp(), -r.item.id))
    kind = expected_answer_type(question)
    residual_question = embedder.embed([without_names(question, required_names) or question])[0] \
        if required_names else question_vector

    def fails(candidate: Ranked) -> str:
        if not mentions_all(required_names, candidate.item.content):
            return "names"
        if not holds_answer_type(kind, candidate.item.content):
            return f"no {kind}"
        if float(vectors[candidate.item.id] @ residual_question) < RESIDUAL_AT_LEAST:
            return "meaning"
        return ""

    why_not = ""
    for position, candidate in enumerate(scored[:EVIDENCE_DEPTH]):
        failed = fails(candidate)
        if failed:
            why_not = why_not or failed
            continue
        rest = [*scored[:position], *scored[position + 1:]]
        lead, rest = _newest_first(candidate, rest, vectors, fails)
        lead = _with_sentence(lead, question_vector, embedder, focus, kind)
        ordered = [lead, *(_with_lexical_sentence(r, focus) for r in rest[:limit - 1])]
        residual = float(vectors[candidate.item.id] @ residual_question)
        return Ranking(tuple(ordered), round(candidate.score, 4), True, "", round(residual, 4))
    ordered = [_with_lexical_sentence(r, focus) for r in scored[:limit]]
    residual = float(vectors[scored[0].item.id] @ residual_question)
    return Ranking(tuple(ordered), round(scored[0].score, 4), False, why_not, round(residual, 4))


def _lexical_best(sentences: list[str], focus: Sequence[str]) -> str:
    best, best_words = sentences[0], -1.0
    for sentence in sentences:
        words = coverage(focus, sentence)
        if words > best_words:
            best, best_words = sentence, words
    return best


def _with_lexical_sentence(ranked: Ranked, focus: Sequence[str]) -> Ranked:
    """The passage with the sentence that holds most of the question's words (the first on ties)."""
    sentence = _lexical_best(_sentences(ranked.item.content), focus)
    return dataclasses.replace(ranked, sentence=sentence,
                               replaces=tuple(_with_lexical_sentence(r, focus) for r in ranked.replaces))


def _with_sentence(ranked: Ranked, question_vector: np.ndarray, embedder: Embedder, focus: Sequence[str],
                   kind: str | None) -> Ranked:
    """The lead passage with the sentence that answers: the one holding the asked-for kind of
    value (a time, a quantity...) and most of the question's words; when the two sentences tie on
    that, the one closer in meaning (two embeddings, ~8 ms: only then). Both sentences when they
    are about as close. What it replaces gets sentences by words."""
    sentences = _sentences(ranked.item.content)
    best = sentences[0]
    if len(sentences) > 1:
        def lexical(sentence: str) -> float:
            return coverage(focus, sentence) + (1.0 if kind is not None and holds_answer_type(kind, sentence) else 0.0)

        plain = [lexical(sentence) for sentence in sentences]
        ranked_plain = sorted(plain, reverse=True)
        if ranked_plain[0] - ranked_plain[1] >= LEXICAL_MARGIN:
            best = sentences[plain.index(ranked_plain[0])]
        else:
            scores = [float(v @ question_vector) + SENTENCE_WORDS * p
                      for v, p in zip(embedder.embed(sentences), plain, strict=True)]
            top = max(range(len(sentences)), key=lambda i: scores[i])
            best = sentences[top]
            if min(scores) >= BOTH_SENTENCES_AT * scores[top]:  # both say something on it: keep the window
                best = ranked.item.content
    return dataclasses.replace(ranked, sentence=best,
                               replaces=tuple(_with_lexical_sentence(r, focus) for r in ranked.replaces))


def _newest_first(lead: Ranked, rest: list[Ranked], vectors: dict[int, np.ndarray],
                  fails: Callable[[Ranked], str]) -> tuple[Ranked, list[Ranked]]:
    """The newest of the passages competing with ``lead`` (close in score, from another source, on
    the same thing, and passing the same checks) leads instead; the older ones go with it."""
    def updates(newer: Ranked, older: Ranked) -> bool:
        topic = float(vectors[newer.item.id] @ vectors[older.item.id])
        return newer.item.created_at > older.item.created_at and (
            topic >= SAME_TOPIC_ALONE or (topic >= SAME_TOPIC and CHANGE.search(newer.item.content) is not None))

    rivals = [r for r in rest[:UPDATE_DEPTH] if r.score >= CLOSE_TO_BEST * lead.score
              and r.item.source_id != lead.item.source_id and not fails(r)
              and (updates(r, lead) or updates(lead, r))]
    if not rivals:
        return lead, rest
    group = sorted([lead, *rivals], key=lambda r: r.item.created_at, reverse=True)
    newest = group[0]
    older = tuple(r for r in group[1:] if r.item.created_at < newest.item.created_at)
    merged = dataclasses.replace(newest, score=max(r.score for r in group), sentence="", replaces=older)
    return merged, [r for r in rest if r not in group]
