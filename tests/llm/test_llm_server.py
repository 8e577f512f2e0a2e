"""The LLM path against a real model served by llama.cpp on loopback (see conftest.py)."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from workers.intelligence.extractor import RuleExtractor, extract_entities
from workers.intelligence.grounding import normalize_model_json
from workers.intelligence.llm import (
    ANSWER_SCHEMA,
    EXTRACTION_PROMPT,
    LLMExtractor,
    LLMReasoner,
    OpenAICompatibleClient,
)
from workers.intelligence.model import EXTRACTION_JSON_SCHEMA, Extraction, from_json
from workers.intelligence.reasoner import AskFacts, EntityFacts, InsightFact, SummaryReasoner

TEXT = "From: Sarah Chen <sarah.chen@techflow.io>\n\nCould you send pricing for 40 seats?\n\nSarah Chen\nTechFlow"
SMALL_SCHEMA: dict[str, Any] = {
    "type": "object", "additionalProperties": False, "required": ["company", "email"],
    "properties": {"company": {"type": "string"}, "email": {"type": "string"}},
}


class CountingClient(OpenAICompatibleClient):
    """Counts the calls that returned a parsed JSON object."""

    answered = 0

    async def complete_json(self, system: str, user: str, schema_name: str, schema: dict[str, Any]) -> dict[str, Any]:
        result = await super().complete_json(system, user, schema_name, schema)
        self.answered += 1
        return result


def _client(base_url: str) -> CountingClient:
    return CountingClient(base_url, "smollm2", None, timeout_s=120, retries=1, max_tokens=400)


async def test_schema_constrained_output_parses(llama_server: str) -> None:
    client = _client(llama_server)
    answer = await client.complete_json("Answer with JSON.", f"Which company and e-mail address?\n{TEXT}",
                                        "contact", SMALL_SCHEMA)
    assert set(answer) == {"company", "email"}
    assert all(isinstance(value, str) for value in answer.values())


async def test_extraction_schema_round_trip(llama_server: str) -> None:
    raw = await _client(llama_server).complete_json(EXTRACTION_PROMPT, f"Text:\n{TEXT}", "extraction",
                                                    EXTRACTION_JSON_SCHEMA)
    assert isinstance(from_json(normalize_model_json(raw)), Extraction)


async def test_llm_extractor_end_to_end(llama_server: str, caplog: pytest.LogCaptureFixture) -> None:
    client = _client(llama_server)
    with caplog.at_level(logging.WARNING):
        result = await LLMExtractor(client, RuleExtractor()).extract(TEXT, "Email")
    assert client.answered == 1 and "llm extraction failed" not in caplog.text, "the model path fell back"
    rules = extract_entities(TEXT)
    emails = {e for p in result.people for e in p.emails}
    assert {e for p in rules.people for e in p.emails} <= emails
    assert all(e in TEXT.casefold() for e in emails)
    assert all(d in TEXT.casefold() for c in result.companies for d in c.domains)


async def test_llm_reasoner_end_to_end(llama_server: str, caplog: pytest.LogCaptureFixture) -> None:
    facts = AskFacts((EntityFacts(11, "COMPANY", "TechFlow", {"domains": ["techflow.io"]},
                                  (InsightFact(101, "Asked for pricing for 40 seats.", "buying_signal"),)),))
    client = _client(llama_server)
    raw = await client.complete_json("Answer with JSON.", "Question: What did TechFlow ask for? Facts: "
                                     "TechFlow asked for pricing for 40 seats (insight 101).", "answer", ANSWER_SCHEMA)
    assert isinstance(raw["answer"], str) and isinstance(raw["insight_ids"], list)
    with caplog.at_level(logging.WARNING):
        answer = await LLMReasoner(client, SummaryReasoner()).answer("What did TechFlow ask for?", facts)
    assert answer.answer.strip()
    model_path = "llm answer failed" not in caplog.text
    print(f"reasoner answered by {'the model' if model_path else 'the summary fallback'}: {answer.answer!r}")
    assert {s.insight_id for s in answer.signals_used} <= {101}
