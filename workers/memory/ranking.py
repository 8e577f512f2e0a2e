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
ABSTAIN_BELOW: Final = 0.30
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


def _sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in sentence_spans(text)] or [text]


def rank(question: str, question_vector: np.ndarray, candidates: Sequence[MemoryItem], embedder: Embedder, *,
         entity_ids: Sequence[int], entity_names: Sequence[str], now: datetime, limit: int = 8) -> Ranking:
    """Candidates ordered by relevance to ``question``, with the sentence each would contribute."""
    unique = list({c.id: c for c in candidates}.values())
    if not unique:
        return Ranking((), 0.0)
    named = [n.casefold() for n in entity_names]
    name_stems = {stem(w) for n in entity_names for w in _WORD.findall(n)}
    focus = [w for w in dict.fromkeys(content_words(question)) if w not in name_stems]
    vectors = embedder.embed([c.content for c in unique])
    meanings = vectors @ question_vector
    wanted = set(entity_ids)
    newest = max(c.created_at for c in unique)
    scored: list[Ranked] = []
    for item, meaning in zip(unique, meanings, strict=True):
        stems = set(content_words(item.content))
        words = sum(1 for w in focus if _covers(w, stems)) / len(focus) if focus else 0.0
        text = item.content.casefold()
        entity = bool(wanted.intersection(item.entity_ids)) or any(n in text for n in named)
        age_days = max(0.0, (newest - item.created_at).total_seconds() / 86_400)
        recency = 1.0 / (1.0 + age_days / 30)
        score = W_MEANING * float(meaning) + W_WORDS * words + W_ENTITY * entity + W_RECENCY * recency
        sentence = _best_sentence(item.content, question_vector, focus, embedder)
        scored.append(Ranked(item, round(score, 4), round(float(meaning), 4), round(words, 4), entity, sentence))
    scored.sort(key=lambda r: (-r.score, -r.item.created_at.timestamp(), -r.item.id))
    ordered = _newest_first(scored, {c.id: v for c, v in zip(unique, vectors, strict=True)})
    best = ordered[0]
    confidence = best.score
    if named and not any(r.entity for r in ordered[:3]):
        confidence *= 0.5  # the question is about someone no passage mentions
    return Ranking(tuple(ordered[:limit]), round(confidence, 4))


def _best_sentence(text: str, question_vector: np.ndarray, focus: Sequence[str], embedder: Embedder) -> str:
    sentences = _sentences(text)
    if len(sentences) == 1:
        return sentences[0]
    vectors = embedder.embed(sentences)
    best, best_score = sentences[0], -1.0
    for sentence, vector in zip(sentences, vectors, strict=True):
        stems = set(content_words(sentence))
        words = sum(1 for w in focus if _covers(w, stems)) / len(focus) if focus else 0.0
        score = W_MEANING * float(vector @ question_vector) + W_WORDS * words
        if score > best_score:
            best, best_score = sentence, score
    return best


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
