"""The LLM path against a real HTTP server on loopback that speaks the chat-completions
protocol: structured output, grounding, retries, timeouts and the fallback to the rules."""

from __future__ import annotations

import logging
import time
from typing import Any

import pytest
from fake_llm import FakeLLM, Reply

from workers.intelligence import build_extractor, build_reasoner
from workers.intelligence.extractor import RuleExtractor, extract_entities
from workers.intelligence.llm import LLMError, LLMExtractor, LLMReasoner, OpenAICompatibleClient
from workers.intelligence.reasoner import AskFacts, EntityFacts, InsightFact, PassageFact, SummaryReasoner

TEXT = ("From: Sarah Chen <sarah.chen@techflow.io>\n\nHi Dan,\n\nCould you send over pricing for 40 seats? "
        "We'd like to sign before the end of Q3.\n\nBest,\nSarah Chen\nVP of Operations, TechFlow")
KEY = "sk-test-secret-key-123"

MODEL_EXTRACTION = {
    "people": [{"name": "Sarah Chen", "emails": ["Sarah.Chen@TechFlow.io"], "phones": [], "social_profiles": [],
                "job_title": "VP of Operations", "company": "TechFlow"}],
    "companies": [{"name": "TechFlow", "domains": ["techflow.io"]}],
    "signals": [{"type": "buying_signal", "content": "Sarah asked for pricing for 40 seats.",
                 "subjects": ["Sarah Chen"], "confidence": 0.9}],
}


def _client(fake: FakeLLM, **options: Any) -> OpenAICompatibleClient:
    options.setdefault("timeout_s", 2.0)
    options.setdefault("backoff_s", 0.01)
    return OpenAICompatibleClient(fake.base_url, "test-model", KEY, **options)


async def test_structured_output_is_requested_and_parsed(fake_llm: FakeLLM) -> None:
    fake_llm.script(Reply(MODEL_EXTRACTION))
    result = await LLMExtractor(_client(fake_llm), RuleExtractor()).extract(TEXT, "Email")
    (request,) = fake_llm.requests
    assert request["model"] == "test-model"
    assert request["response_format"]["type"] == "json_schema"
    assert request["response_format"]["json_schema"]["strict"] is True
    assert set(request["response_format"]["json_schema"]["schema"]["properties"]) == {"people", "companies", "signals"}
    assert fake_llm.headers[0]["authorization"] == f"Bearer {KEY}"
    sarah = result.people[0]
    assert (sarah.name, sarah.emails, sarah.company) == ("Sarah Chen", ("sarah.chen@techflow.io",), "TechFlow")
    assert result.signals[0].content == "Sarah asked for pricing for 40 seats."
    rule_people = {p.name for p in extract_entities(TEXT).people}
    assert rule_people <= {p.name for p in result.people}  # rule finds (Dan) are merged in


async def test_invented_entities_are_dropped(fake_llm: FakeLLM) -> None:
    invented = {
        "people": [{"name": "Sarah Chen", "emails": ["sarah.chen@techflow.io", "sarah@gmail.com"],
                    "phones": ["+1 212 555 0199"], "social_profiles": [], "job_title": "CEO", "company": "Initech"},
                   {"name": "Bob Ghost", "emails": ["bob@ghost.io"], "phones": [], "social_profiles": [],
                    "job_title": None, "company": None}],
        "companies": [{"name": "Initech", "domains": ["initech.com"]},
                      {"name": "TechFlow", "domains": ["techflow.io"]}],
        "signals": [{"type": "risk", "content": "Churn risk.", "subjects": ["Initech"], "confidence": 0.4}],
    }
    fake_llm.script(Reply(invented))
    result = await LLMExtractor(_client(fake_llm), RuleExtractor()).extract(TEXT, None)
    names = {p.name for p in result.people}
    assert "Bob Ghost" not in names
    sarah = next(p for p in result.people if p.name == "Sarah Chen")
    assert sarah.emails == ("sarah.chen@techflow.io",) and sarah.phones == ()
    assert sarah.job_title == "VP of Operations" and sarah.company == "TechFlow"  # filled in from the rules
    assert [c.name for c in result.companies] == ["TechFlow"]
    assert all(s.subjects == () for s in result.signals if s.type == "risk")
    everything = repr(result)
    assert "initech" not in everything.casefold() and "ghost" not in everything.casefold()


async def test_server_errors_are_retried(fake_llm: FakeLLM) -> None:
    fake_llm.script(Reply(status=500, body="boom"), Reply(status=503), Reply(MODEL_EXTRACTION))
    result = await LLMExtractor(_client(fake_llm, retries=2), RuleExtractor()).extract(TEXT, None)
    assert len(fake_llm.requests) == 3
    assert result.signals[0].content == "Sarah asked for pricing for 40 seats."


async def test_timeout_falls_back_to_the_rules(fake_llm: FakeLLM) -> None:
    fake_llm.script(Reply(MODEL_EXTRACTION, delay_s=1.0), Reply(MODEL_EXTRACTION, delay_s=1.0))
    started = time.monotonic()
    result = await LLMExtractor(_client(fake_llm, timeout_s=0.2, retries=1), RuleExtractor()).extract(TEXT, None)
    assert time.monotonic() - started < 1.5
    assert result == extract_entities(TEXT)


@pytest.mark.parametrize("garbage", ["not json at all", "[1, 2, 3]", '{"people": "nobody"}'])
async def test_garbage_falls_back_to_the_rules(fake_llm: FakeLLM, garbage: str) -> None:
    fake_llm.script(*[Reply(garbage)] * 3)
    result = await LLMExtractor(_client(fake_llm, retries=2), RuleExtractor()).extract(TEXT, None)
    assert result == extract_entities(TEXT)


async def test_json_schema_refusal_switches_to_the_json_object_dialect(fake_llm: FakeLLM) -> None:
    refusal = ("1 validation error: ('body', 'response_format', 'type') Input should be 'text' or 'json_object', "
               "input: 'json_schema'")
    fake_llm.script(Reply(status=500, body=refusal), Reply({"ok": True}), Reply({"ok": True}))
    client = _client(fake_llm, retries=0)
    schema = {"type": "object", "properties": {"ok": {"type": "boolean"}}}
    assert await client.complete_json("s", "u", "x", schema) == {"ok": True}
    assert await client.complete_json("s", "u", "x", schema) == {"ok": True}
    formats = [r["response_format"] for r in fake_llm.requests]
    assert formats[0]["type"] == "json_schema"
    assert formats[1:] == [{"type": "json_object", "schema": schema}] * 2


async def test_client_errors_are_not_retried(fake_llm: FakeLLM) -> None:
    fake_llm.script(Reply(status=401, body="bad key"), Reply(MODEL_EXTRACTION))
    with pytest.raises(LLMError):
        await _client(fake_llm, retries=2).complete_json("s", "u", "x", {"type": "object"})
    assert len(fake_llm.requests) == 1


async def test_the_key_is_never_logged_or_shown(fake_llm: FakeLLM, caplog: pytest.LogCaptureFixture) -> None:
    fake_llm.script(*[Reply(status=500)] * 3)
    client = _client(fake_llm, retries=2)
    with caplog.at_level(logging.DEBUG):
        result = await LLMExtractor(client, RuleExtractor()).extract(TEXT, None)
    assert result == extract_entities(TEXT)
    assert KEY not in caplog.text and KEY not in repr(client)
    assert "llm call failed" in caplog.text


FACTS = AskFacts((EntityFacts(11, "COMPANY", "TechFlow", {"domains": ["techflow.io"]},
                              (InsightFact(101, "Asked for pricing for 40 seats.", "buying_signal"),
                               InsightFact(102, "Worried about SSO.", "objection"))),))


async def test_reasoner_cites_only_given_insights(fake_llm: FakeLLM) -> None:
    fake_llm.script(Reply({"answer": "TechFlow asked for pricing (techflow.io).", "confidence": 0.8,
                           "insight_ids": [101, 999]}))
    answer = await LLMReasoner(_client(fake_llm), SummaryReasoner()).answer("Status of techflow.io?", FACTS)
    assert answer.answer == "TechFlow asked for pricing (techflow.io)."
    assert [(s.insight_id, s.entity_id) for s in answer.signals_used] == [(101, 11)]
    assert answer.confidence == 0.8
    assert "Worried about SSO." in fake_llm.requests[0]["messages"][1]["content"]


@pytest.mark.parametrize("reply", [
    Reply({"answer": "Contact them at ceo@globex.com.", "confidence": 0.9, "insight_ids": []}),
    Reply({"answer": "", "confidence": 0.9, "insight_ids": []}),
    Reply("garbage"),
    Reply(status=500),
])
async def test_reasoner_falls_back_to_the_summary(fake_llm: FakeLLM, reply: Reply) -> None:
    fake_llm.script(reply)
    answer = await LLMReasoner(_client(fake_llm, retries=0), SummaryReasoner()).answer("Status of techflow.io?", FACTS)
    assert answer == await SummaryReasoner().answer("Status of techflow.io?", FACTS)


def test_factories_choose_by_settings(fake_llm: FakeLLM) -> None:
    assert isinstance(build_extractor(), RuleExtractor)
    assert isinstance(build_extractor(llm_base_url="  "), RuleExtractor)
    assert isinstance(build_reasoner(), SummaryReasoner)
    extractor = build_extractor(llm_base_url=fake_llm.base_url, llm_model="m", llm_api_key=KEY, timeout_s=3)
    assert isinstance(extractor, LLMExtractor) and isinstance(extractor.fallback, RuleExtractor)
    assert extractor.client.timeout_s == 3
    assert isinstance(build_reasoner(llm_base_url=fake_llm.base_url), LLMReasoner)


async def test_out_of_range_model_numbers_are_clamped_not_fatal(fake_llm: FakeLLM) -> None:
    sloppy = {**MODEL_EXTRACTION, "signals": [
        {"type": "buying_signal", "content": "Wants pricing.", "subjects": [], "confidence": 7},
        {"type": "gossip", "content": "x", "subjects": [], "confidence": 0.5},
        "not an object"]}
    fake_llm.script(Reply(sloppy))
    result = await LLMExtractor(_client(fake_llm), RuleExtractor()).extract(TEXT, None)
    assert result.signals[0] == result.signals[0].__class__("buying_signal", "Wants pricing.", (), 1.0)


PASSAGE = PassageFact(id=501, source_type="artifact", source_id=77, content="My favorite color is blue.",
                      sentence="My favorite color is blue.", created_at=None, score=0.8)


async def test_reasoner_answers_from_given_passages_and_cites_only_those(fake_llm: FakeLLM) -> None:
    fake_llm.script(Reply({"answer": "Your favorite color is blue.", "confidence": 0.9, "insight_ids": [],
                           "passage_ids": [501, 999]}))
    facts = AskFacts(passages=(PASSAGE,), answerable=True)
    answer = await LLMReasoner(_client(fake_llm), SummaryReasoner()).answer("What is my favorite color?", facts)
    assert answer.answer == "Your favorite color is blue."
    assert [p.id for p in answer.passages_cited] == [501]
    assert "My favorite color is blue." in fake_llm.requests[0]["messages"][1]["content"]


async def test_passages_recall_could_not_vouch_for_are_not_shown_to_the_model(fake_llm: FakeLLM) -> None:
    fake_llm.script(Reply({"answer": "I have no information on that.", "confidence": 0.1, "insight_ids": [],
                           "passage_ids": [501]}))
    facts = AskFacts(passages=(PASSAGE,), answerable=False)
    answer = await LLMReasoner(_client(fake_llm), SummaryReasoner()).answer("What is my shoe size?", facts)
    assert answer.passages_cited == ()
    assert "favorite color" not in fake_llm.requests[0]["messages"][1]["content"]


async def test_a_failing_model_falls_back_to_the_default_recall_answer(fake_llm: FakeLLM) -> None:
    fake_llm.script(Reply(status=500), Reply(status=500), Reply(status=500))
    facts = AskFacts(passages=(PASSAGE,), answerable=True)
    answer = await LLMReasoner(_client(fake_llm), SummaryReasoner()).answer("What is my favorite color?", facts)
    assert "blue" in answer.answer and [p.id for p in answer.passages_cited] == [501]
