"""Ranking remembered passages for a question (pure; the vectors come from ``embedding``).

Each candidate gets four signals: meaning (cosine of question and passage vectors), words (the
share of the question's content words the passage holds, by crude stem), entity (the passage
mentions an entity the question names) and recency. Their weighted sum orders the candidates.
The best sentence of each passage is what an answer quotes. ``confidence`` is the evidence that
the best passage answers the question at all: the answer abstains below a threshold.

Knowledge updates: among the passages close to the best one that speak of the same thing (their
own vectors agree), the newest leads; the older ones are kept as what it replaced.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
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
W_WORDS: Final = 0.0
W_ENTITY: Final = 0.05
W_RECENCY: Final = 0.01
EVIDENCE_DEPTH: Final = 3
CLOSE_TO_BEST: Final = 0.85
SAME_TOPIC: Final = 0.55


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


@dataclass(frozen=True, slots=True)
class Ranked:
    item: MemoryItem
    score: float
    meaning: float
    words: float
    entity: bool
    sentence: str
    replaces: tuple[Ranked, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class Ranking:
    passages: tuple[Ranked, ...]
    confidence: float
    answerable: bool = False
    why_not: str = ""


def _sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in sentence_spans(text)] or [text]


def rank(question: str, question_vector: np.ndarray, candidates: Sequence[MemoryItem], embedder: Embedder, *,
         entity_ids: Sequence[int], entity_names: Sequence[str], required_names: Sequence[str] = (),
         now: datetime, limit: int = 8) -> Ranking:
    """Candidates ordered by relevance to ``question``, with the sentence each would contribute,
    and whether the best of them answers it (``evidence``): of the first ``EVIDENCE_DEPTH``, the
    first that passes leads; if none does, the question is not answerable from memory."""
    unique = list({c.id: c for c in candidates}.values())
    if not unique:
        return Ranking((), 0.0)
    named = [n.casefold() for n in entity_names]
    name_stems = {stem(w) for n in entity_names for w in _WORD.findall(n)}
    focus = [w for w in dict.fromkeys(content_words(question)) if w not in name_stems]
    vectors = embedder.vectors_of([c.content for c in unique], [c.vector for c in unique],
                                  [c.vector_model for c in unique])
    meanings = vectors @ question_vector
    wanted = set(entity_ids)
    newest = max(c.created_at for c in unique)
    scored: list[Ranked] = []
    for item, meaning in zip(unique, meanings, strict=True):
        words = 0.0  # W_WORDS is 0: the question's words hurt paraphrases more than they help (docs)
        text = item.content.casefold()
        entity = bool(wanted.intersection(item.entity_ids)) or any(n in text for n in named)
        age_days = max(0.0, (newest - item.created_at).total_seconds() / 86_400)
        recency = 1.0 / (1.0 + age_days / 30)
        score = W_MEANING * float(meaning) + W_WORDS * words + W_ENTITY * entity + W_RECENCY * recency
        scored.append(Ranked(item, round(score, 4), round(float(meaning), 4), round(words, 4), entity, ""))
    scored.sort(key=lambda r: (-r.score, -r.item.created_at.timestamp(), -r.item.id))
    scored = _with_sentences(scored[:limit + 5], question_vector, focus, embedder) + scored[limit + 5:]
    ordered = _newest_first(scored, {c.id: v for c, v in zip(unique, vectors, strict=True)})
    kind = expected_answer_type(question)
    residual_question = embedder.embed([without_names(question, required_names) or question])[0]
    why_not = ""
    for position, candidate in enumerate(ordered[:EVIDENCE_DEPTH]):
        if not mentions_all(required_names, candidate.item.content):
            why_not = why_not or "names"
            continue
        if not holds_answer_type(kind, candidate.item.content):
            why_not = why_not or f"no {kind}"
            continue
        residual_text = without_names(candidate.sentence, required_names) or candidate.sentence
        residual = float(embedder.embed([residual_text])[0] @ residual_question)
        if residual < RESIDUAL_AT_LEAST:
            why_not = why_not or "meaning"
            continue
        lead = [candidate, *ordered[:position], *ordered[position + 1:]]
        return Ranking(tuple(lead[:limit]), round(candidate.score, 4), True)
    return Ranking(tuple(ordered[:limit]), round(ordered[0].score, 4), False, why_not)


def _with_sentences(ranked: list[Ranked], question_vector: np.ndarray, focus: Sequence[str], embedder: Embedder
                    ) -> list[Ranked]:
    """Each passage with its sentence that answers best (meaning, then the question's words);
    all sentences are embedded in one call."""
    split = [_sentences(r.item.content) for r in ranked]
    flat = [s for sentences in split for s in sentences if len(sentences) > 1]
    vectors = iter(embedder.embed(flat)) if flat else iter(())
    out = []
    for r, sentences in zip(ranked, split, strict=True):
        best = sentences[0]
        if len(sentences) > 1:
            best_score = -1.0
            for sentence in sentences:
                stems = set(content_words(sentence))
                words = sum(1 for w in focus if _covers(w, stems)) / len(focus) if focus else 0.0
                score = float(next(vectors) @ question_vector) + 0.35 * words
                if score > best_score:
                    best, best_score = sentence, score
        out.append(Ranked(r.item, r.score, r.meaning, r.words, r.entity, best, r.replaces))
    return out


def _newest_first(scored: list[Ranked], vectors: dict[int, np.ndarray]) -> list[Ranked]:
    """Put the newest of the passages that compete with the best one first; the older ones it
    supersedes go with it (``replaces``) and leave the list."""
    if len(scored) < 2:
        return scored
    top = scored[0]
    rivals = [r for r in scored[1:6] if r.score >= CLOSE_TO_BEST * top.score and r.item.source_id != top.item.source_id
              and float(vectors[r.item.id] @ vectors[top.item.id]) >= SAME_TOPIC]
    if not rivals:
        return scored
    group = sorted([top, *rivals], key=lambda r: r.item.created_at, reverse=True)
    lead = group[0]
    older = tuple(r for r in group[1:] if r.item.created_at < lead.item.created_at)
    merged = Ranked(lead.item, max(r.score for r in group), lead.meaning, lead.words, lead.entity, lead.sentence,
                    older)
    rest = [r for r in scored if r not in group]
    return [merged, *rest]
