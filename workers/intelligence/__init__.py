"""Context intelligence: reading people, companies and signals out of text, answering questions
from workspace facts, and turning AI list queries into record filters.

Pure logic plus one HTTP client (``llm``). Without an LLM endpoint everything runs locally and
deterministically; ``build_extractor`` and ``build_reasoner`` choose the implementation from
plain settings values, so the workers can pass Tessera's settings without this package
importing them.
"""

from __future__ import annotations

from workers.intelligence.extractor import Extractor, RuleExtractor, extract_entities
from workers.intelligence.list_interpreter import Interpretation, RankedEntity, interpret_list_query, rank_candidates
from workers.intelligence.llm import LLMError, LLMExtractor, LLMReasoner, OpenAICompatibleClient
from workers.intelligence.model import (
    SIGNAL_TYPES,
    CompanyMention,
    Extraction,
    PersonMention,
    Signal,
    from_json,
    to_json,
)
from workers.intelligence.question import QuestionTerms, resolve_question_terms
from workers.intelligence.reasoner import (
    Answer,
    AskFacts,
    EntityFacts,
    InsightFact,
    NoteFact,
    PassageFact,
    Reasoner,
    RelationshipFact,
    SignalUsed,
    SummaryReasoner,
    TaskFact,
)

__all__ = [
    "SIGNAL_TYPES", "Answer", "AskFacts", "CompanyMention", "EntityFacts", "Extraction", "Extractor", "InsightFact",
    "Interpretation", "LLMError", "LLMExtractor", "LLMReasoner", "NoteFact", "OpenAICompatibleClient", "PassageFact",
    "PersonMention",
    "QuestionTerms", "RankedEntity", "Reasoner", "RelationshipFact", "RuleExtractor", "Signal", "SignalUsed",
    "SummaryReasoner", "TaskFact", "build_extractor", "build_reasoner", "extract_entities", "from_json",
    "interpret_list_query", "rank_candidates", "resolve_question_terms", "to_json",
]


def _client(llm_base_url: str, llm_model: str | None, llm_api_key: str | None, timeout_s: float,
            retries: int) -> OpenAICompatibleClient:
    return OpenAICompatibleClient(llm_base_url, llm_model or "default", llm_api_key, timeout_s=timeout_s,
                                  retries=retries)


def build_extractor(llm_base_url: str | None = None, llm_model: str | None = None, llm_api_key: str | None = None,
                    timeout_s: float = 20.0, retries: int = 2) -> Extractor:
    """The extractor for these settings: ``RuleExtractor`` without ``llm_base_url`` (or with a
    blank one), else an ``LLMExtractor`` falling back to it."""
    rules = RuleExtractor()
    if not llm_base_url or not llm_base_url.strip():
        return rules
    return LLMExtractor(_client(llm_base_url, llm_model, llm_api_key, timeout_s, retries), rules)


def build_reasoner(llm_base_url: str | None = None, llm_model: str | None = None, llm_api_key: str | None = None,
                   timeout_s: float = 20.0, retries: int = 2) -> Reasoner:
    """The reasoner for these settings: ``SummaryReasoner`` without ``llm_base_url``, else an
    ``LLMReasoner`` falling back to it."""
    summary = SummaryReasoner()
    if not llm_base_url or not llm_base_url.strip():
        return summary
    return LLMReasoner(_client(llm_base_url, llm_model, llm_api_key, timeout_s, retries), summary)
